/**
 * Walk-forward evaluation, pure (no store, no clock): the data every kind is trained and scored
 * on, a model's batched predictions, its scores against both baselines, and the figures the
 * promotion rule compares. Inference may load tfjs (a TFT), hence async.
 */
import type { Settings } from "../config/load";
import type { AppConfig } from "../config/schema";
import { InputError } from "../core/errors";
import type { ModelRow } from "../store/port";
import { horizonsOf, kindOf, type PromotionFigures } from "./registry";
import { buildPoints, buildSeries, splitPoints, windowOf, type Point, type Series } from "./series";
import type { TftModel } from "./tft";
import { asLinearSet, predictLinear, randomWalk, rollingVol, scoreMulti, type HorizonMetrics, type Q3 } from "./walkforward";

/** The walk-forward data every kind is trained and scored on (`horizons` beyond the configured ones when asked). */
export interface Data {
  series: Series[];
  horizons: number[];
  lookback: number;
  train: Point[];
  valid: Point[];
}

export function dataFromBars(bars: Parameters<typeof buildSeries>[0], s: Pick<Settings, "app">, extraHorizons: number[] = []): Data {
  const series = buildSeries(bars);
  const horizons = [...new Set([...s.app.forecast_horizons_bars, ...extraHorizons])].sort((a, b) => a - b);
  const lookback = s.app.tft_lookback_bars;
  const { train, valid } = splitPoints(buildPoints(series, horizons, lookback));
  return { series, horizons, lookback, train, valid };
}

/** Points with outcomes only at `horizons` (in that order). */
export function subsetHorizons(d: Data, horizons: number[], points: Point[]): Point[] {
  const at = horizons.map((h) => d.horizons.indexOf(h));
  return points.map((p) => ({ ...p, y: at.map((k) => p.y[k]!) }));
}

export interface Evaluation {
  horizons: number[];
  model: HorizonMetrics;
  baselines: { random_walk: HorizonMetrics; rolling_vol: HorizonMetrics };
  by_horizon: Record<string, { model: HorizonMetrics; random_walk: HorizonMetrics; rolling_vol: HorizonMetrics }>;
  train_window: { from: string; to: string; n: number };
  validation_window: { from: string; to: string; n: number };
}

/** Batched predictions of a stored model (either kind) on points, at the given horizons. */
export async function predictPoints(params: unknown, d: Pick<Data, "series">, points: Point[], horizons: number[]): Promise<Q3[][]> {
  if ((params as { kind?: string })?.kind !== "tft-v1") return predictLinear(asLinearSet(params), d.series, points, horizons);
  const { ensureBackend } = await import("./tf");
  const { LoadedTft } = await import("./tft");
  await ensureBackend();
  const m = new LoadedTft(params as TftModel);
  try {
    const idx = horizons.map((h) => {
      const k = m.model.config.horizons.indexOf(h);
      if (k < 0) throw new Error(`the TFT has no head for horizon ${h}`);
      return k;
    });
    const out: Q3[][] = [];
    for (let s0 = 0; s0 < points.length; s0 += 256) {
      const batch = points.slice(s0, s0 + 256);
      const r = m.predict(batch.map((p) => windowOf(d.series, p, m.lookback)));
      for (const q of r.quantiles) out.push(idx.map((k) => q[k]!));
    }
    return out;
  } finally {
    m.dispose();
  }
}

/** Score one model against both baselines on the data's validation points, at the model's horizons. */
export async function evaluateParams(params: unknown, d: Data): Promise<Evaluation> {
  const hs = horizonsOf({ params });
  const L = (params as TftModel).kind === "tft-v1" ? (params as TftModel).config.lookback : 1;
  if (L > d.lookback) throw new Error(`the model looks back ${L} bars, more than the evaluation's ${d.lookback} (tft_lookback_bars)`);
  const at = hs.map((h) => d.horizons.indexOf(h));
  if (at.some((k) => k < 0)) throw new Error(`evaluation data lacks horizons ${hs.join(", ")}`);
  const sub = (ps: Point[]) => ps.map((p) => ({ ...p, y: at.map((k) => p.y[k]!) }));
  const train = sub(d.train), valid = sub(d.valid);
  if (valid.length === 0) throw new InputError("no validation points: more bars are needed (awet replay data/minute)");
  const m = scoreMulti(valid, hs, await predictPoints(params, d, d.valid, hs));
  const rw = scoreMulti(valid, hs, randomWalk(train, valid, hs));
  const rv = scoreMulti(valid, hs, rollingVol(d.series, valid, hs));
  const t = (x: Point[]) => ({ from: x.length ? new Date(x[0]!.ts).toISOString() : "", to: x.length ? new Date(x[x.length - 1]!.ts).toISOString() : "", n: x.length });
  return {
    horizons: hs, model: m.overall, baselines: { random_walk: rw.overall, rolling_vol: rv.overall },
    by_horizon: Object.fromEntries(hs.map((h) => [String(h), { model: m.by_horizon[h]!, random_walk: rw.by_horizon[h]!, rolling_vol: rv.by_horizon[h]! }])),
    train_window: t(d.train), validation_window: t(d.valid),
  };
}

/**
 * The figures the promotion rule compares, on one data set (`d` must hold both models' horizons):
 * the candidate, the production model at the candidate's horizons (or why it is not comparable),
 * both baselines, the margin and the coverage band.
 */
export async function promotionFigures(cand: ModelRow, prod: ModelRow | null, d: Data, app: Pick<AppConfig, "promotion_margin_pct" | "promotion_coverage_min" | "promotion_coverage_max">): Promise<Omit<PromotionFigures, "bar">> {
  const hs = horizonsOf(cand);
  const ce = await evaluateParams(cand.params, d);
  let production: PromotionFigures["production"] = null;
  if (prod) {
    const ph = horizonsOf(prod);
    if (hs.every((h) => ph.includes(h))) {
      const pe = await evaluateParams(prod.params, d);
      const same = hs.map((h) => pe.by_horizon[String(h)]!.model.pinball_loss); // at the candidate's horizons only
      production = { version: prod.version, kind: kindOf(prod), pinball_loss: same.reduce((a, b) => a + b, 0) / same.length };
    } else production = { version: prod.version, kind: kindOf(prod), pinball_loss: null, note: `not comparable: it forecasts horizons ${ph.join(", ")}, the candidate ${hs.join(", ")}` };
  }
  return {
    horizons: hs,
    candidate: { version: cand.version, kind: kindOf(cand), pinball_loss: ce.model.pinball_loss, coverage_p10_p90: ce.model.coverage_p10_p90, coverage_p10: ce.model.coverage_p10, coverage_p90: ce.model.coverage_p90 },
    production, random_walk: ce.baselines.random_walk.pinball_loss, rolling_vol: ce.baselines.rolling_vol.pinball_loss,
    margin_pct: app.promotion_margin_pct, coverage_band: [app.promotion_coverage_min, app.promotion_coverage_max], validation_n: ce.validation_window.n,
  };
}
