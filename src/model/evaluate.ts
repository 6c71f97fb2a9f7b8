import type { Sample } from "./dataset";
import { pinball, predictQuantiles, sortedQuantile, type QuantileModel } from "./quantile";

export interface Metrics {
  pinball_loss: number; // mean over p10/p50/p90
  coverage_p10_p90: number; // share of outcomes inside [p10, p90] (ideal 0.8)
  directional_accuracy: number; // sign(p50) vs sign(outcome); p50 = 0 counts half
  n: number;
}

type Predictor = (s: Sample, i: number) => [number, number, number];

/** Score a predictor on samples. Pure. */
export function score(samples: Sample[], predict: Predictor): Metrics {
  let loss = 0, cover = 0, dir = 0, nDir = 0;
  samples.forEach((s, i) => {
    const [p10, p50, p90] = predict(s, i);
    loss += (pinball(0.1, s.y, p10) + pinball(0.5, s.y, p50) + pinball(0.9, s.y, p90)) / 3;
    if (s.y >= p10 && s.y <= p90) cover++;
    if (s.y !== 0) {
      nDir++;
      dir += p50 === 0 ? 0.5 : Math.sign(p50) === Math.sign(s.y) ? 1 : 0;
    }
  });
  const n = samples.length || 1;
  return { pinball_loss: loss / n, coverage_p10_p90: cover / n, directional_accuracy: nDir ? dir / nDir : 0.5, n: samples.length };
}

export interface Evaluation {
  model: Metrics & { version?: string };
  baselines: { random_walk: Metrics; rolling_vol: Metrics };
  train_window: { from: string; to: string; n: number };
  validation_window: { from: string; to: string; n: number };
}

const Z90 = 1.2815515655446004;

/**
 * Walk-forward split: train on the earlier part, validate on the later part (no look-ahead), and
 * compare the model with two baselines: the zero-return random walk (median 0, the training
 * set's spread) and rolling-volatility quantiles (0 ± z·σ of the last 60 one-bar returns · √h).
 */
export function evaluate(m: QuantileModel, train: Sample[], valid: Sample[]): Evaluation {
  const ys = train.map((s) => s.y).sort((a, b) => a - b);
  const med = sortedQuantile(ys, 0.5);
  const lo = sortedQuantile(ys, 0.1) - med, hi = sortedQuantile(ys, 0.9) - med;
  const rolling = new Map<string, number[]>();
  const rollingPred: Predictor = (s) => {
    const r = rolling.get(s.symbol) ?? [];
    r.push(s.x[0]!); // ret_1 of this bar, known now
    if (r.length > 60) r.shift();
    rolling.set(s.symbol, r);
    const mean = r.reduce((a, b) => a + b, 0) / r.length;
    const sd = Math.sqrt(r.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, r.length - 1)) * Math.sqrt(m.horizon);
    return [-Z90 * sd, 0, Z90 * sd];
  };
  const t = (x: Sample[]) => ({ from: x.length ? new Date(x[0]!.ts).toISOString() : "", to: x.length ? new Date(x[x.length - 1]!.ts).toISOString() : "", n: x.length });
  return {
    model: score(valid, (s) => predictQuantiles(m, s.x)),
    baselines: { random_walk: score(valid, () => [lo, 0, hi]), rolling_vol: score(valid, rollingPred) },
    train_window: t(train),
    validation_window: t(valid),
  };
}

/** Time-ordered split at a fraction (walk-forward: validation strictly after training). */
export function splitWalkForward(samples: Sample[], trainFrac = 0.7): { train: Sample[]; valid: Sample[] } {
  const k = Math.floor(samples.length * trainFrac);
  const cut = samples[k]?.ts ?? Infinity;
  return { train: samples.filter((s) => s.ts < cut), valid: samples.filter((s) => s.ts >= cut) };
}
