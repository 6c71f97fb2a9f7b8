/**
 * Walk-forward evaluation of every kind on the same points: the random walk, rolling volatility,
 * the linear quantile model and the TFT, per horizon (pinball loss, coverage of p10 and of p90
 * separately, the p10–p90 band, directional accuracy of p50) and averaged over the horizons.
 * Pure: predictions come in as arrays.
 */
import { pinball, predictQuantiles, sortedQuantile, trainQuantile, type QuantileModel } from "./quantile";
import { asSamples, type Point, type Series } from "./series";

export type Q3 = [number, number, number];

export interface Metrics {
  pinball_loss: number; // mean over p10/p50/p90
  coverage_p10_p90: number; // share of outcomes inside [p10, p90] (ideal 0.8)
  directional_accuracy: number; // sign(p50) vs sign(outcome); p50 = 0 counts half
  n: number;
}

export interface HorizonMetrics extends Metrics {
  coverage_p10: number; // share of outcomes below p10 (ideal 0.1)
  coverage_p90: number; // share of outcomes at or below p90 (ideal 0.9)
}

export interface KindScore {
  overall: HorizonMetrics; // averaged over the horizons
  by_horizon: Record<string, HorizonMetrics>;
}

/** Score predictions [point][horizon index] against the points' outcomes. */
export function scoreMulti(points: Point[], horizons: number[], preds: Q3[][]): KindScore {
  const by: Record<string, HorizonMetrics> = {};
  horizons.forEach((h, hi) => {
    let loss = 0, below = 0, upTo = 0, inside = 0, dir = 0, nDir = 0;
    points.forEach((p, k) => {
      const y = p.y[hi]!;
      const [p10, p50, p90] = preds[k]![hi]!;
      loss += (pinball(0.1, y, p10) + pinball(0.5, y, p50) + pinball(0.9, y, p90)) / 3;
      if (y < p10) below++;
      if (y <= p90) upTo++;
      if (y >= p10 && y <= p90) inside++;
      if (y !== 0) {
        nDir++;
        dir += p50 === 0 ? 0.5 : Math.sign(p50) === Math.sign(y) ? 1 : 0;
      }
    });
    const n = points.length || 1;
    by[String(h)] = { pinball_loss: loss / n, coverage_p10: below / n, coverage_p90: upTo / n, coverage_p10_p90: inside / n, directional_accuracy: nDir ? dir / nDir : 0.5, n: points.length };
  });
  const hs = Object.values(by);
  const avg = (k: keyof HorizonMetrics) => hs.reduce((a, m) => a + m[k], 0) / (hs.length || 1);
  return {
    overall: { pinball_loss: avg("pinball_loss"), coverage_p10: avg("coverage_p10"), coverage_p90: avg("coverage_p90"), coverage_p10_p90: avg("coverage_p10_p90"), directional_accuracy: avg("directional_accuracy"), n: points.length },
    by_horizon: by,
  };
}

const Z90 = 1.2815515655446004;

/** Zero-median random walk with the training outcomes' spread, per horizon. */
export function randomWalk(train: Point[], valid: Point[], horizons: number[]): Q3[][] {
  const q = horizons.map((_, hi) => {
    const ys = train.map((p) => p.y[hi]!).sort((a, b) => a - b);
    const med = sortedQuantile(ys, 0.5);
    return [sortedQuantile(ys, 0.1) - med, 0, sortedQuantile(ys, 0.9) - med] as Q3;
  });
  return valid.map(() => q);
}

/** 0 ± z·σ·√h, σ of the last 60 one-bar returns up to the point's bar. */
export function rollingVol(series: Series[], valid: Point[], horizons: number[], window = 60): Q3[][] {
  return valid.map((p) => {
    const x = series[p.s]!.x;
    const r: number[] = [];
    for (let i = p.i; i >= 0 && r.length < window && x[i]; i--) r.push(x[i]![0]!);
    const mean = r.reduce((a, b) => a + b, 0) / (r.length || 1);
    const sd = Math.sqrt(r.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, r.length - 1));
    return horizons.map((h) => [-Z90 * sd * Math.sqrt(h), 0, Z90 * sd * Math.sqrt(h)] as Q3);
  });
}

// --- the linear kind over several horizons ----------------------------------------------------

/** The linear quantile model, one head per horizon (stored as params of a `linear-quantile` row). */
export interface LinearSet {
  kind: "linear-quantile-v2";
  horizons: number[];
  heads: QuantileModel[];
}

/** A stored linear model of either version as a set (a v1 row is one head at its own horizon). */
export function asLinearSet(params: unknown): LinearSet {
  const p = params as LinearSet | QuantileModel;
  if (p?.kind === "linear-quantile-v2") return p;
  if (p?.kind === "linear-quantile-v1") return { kind: "linear-quantile-v2", horizons: [p.horizon], heads: [p] };
  throw new Error(`not a linear quantile model (kind ${String((p as { kind?: unknown })?.kind)})`);
}

export function trainLinearSet(series: Series[], train: Point[], horizons: number[], features: readonly string[], o: { seed?: number; epochs?: number; onProgress?: (epoch: number, epochs: number, loss: number) => void } = {}): LinearSet {
  return {
    kind: "linear-quantile-v2", horizons,
    heads: horizons.map((h, hi) => trainQuantile(asSamples(series, train, hi), { horizon: h, features, seed: o.seed, epochs: o.epochs, onProgress: hi === 0 ? o.onProgress : undefined })),
  };
}

/** Linear predictions at `horizons` (each must be one of the set's). */
export function predictLinear(m: LinearSet, series: Series[], points: Point[], horizons: number[]): Q3[][] {
  const heads = horizons.map((h) => {
    const k = m.horizons.indexOf(h);
    if (k < 0) throw new Error(`the linear model has no head for horizon ${h} (it has ${m.horizons.join(", ")})`);
    return m.heads[k]!;
  });
  return points.map((p) => heads.map((hd) => predictQuantiles(hd, series[p.s]!.x[p.i]!)));
}
