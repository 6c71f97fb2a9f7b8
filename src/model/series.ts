/**
 * Multi-horizon data for every model kind: per-symbol feature series (the pipeline's own
 * indicators, `featureVector`) and the points every kind is trained and scored on. A point is a
 * (symbol, bar) whose `lookback` feature rows are all warm and whose every horizon has an outcome,
 * so the linear model, the TFT and the baselines are compared on exactly the same points. Pure.
 */
import type { Bar } from "../core/events";
import { FeatureState } from "../features";
import { featureVector, type Sample } from "./dataset";

export interface Series {
  symbol: string;
  ts: number[];
  close: number[];
  x: (number[] | null)[]; // FEATURE_NAMES order; null until the indicators are warm
}

export interface Point {
  s: number; // index into the series list
  i: number; // bar index in that series
  ts: number;
  y: number[]; // log return over each horizon
  tsOut: number; // time of the last outcome bar (for purging the training part)
}

export function buildSeries(bars: Bar[]): Series[] {
  const by = new Map<string, Bar[]>();
  for (const b of bars) (by.get(b.symbol) ?? by.set(b.symbol, []).get(b.symbol)!).push(b);
  return [...by].sort((a, b) => a[0].localeCompare(b[0])).map(([symbol, bs]) => {
    bs.sort((a, b) => a.ts - b.ts);
    const st = new FeatureState();
    return { symbol, ts: bs.map((b) => b.ts), close: bs.map((b) => b.close), x: bs.map((b) => featureVector(st.update(b), b.close)) };
  });
}

/** Points with `lookback` warm rows behind them and an outcome at every horizon, time-ordered. */
export function buildPoints(series: Series[], horizons: number[], lookback: number): Point[] {
  const maxH = Math.max(...horizons);
  const out: Point[] = [];
  series.forEach((se, s) => {
    let warmRun = 0;
    for (let i = 0; i + maxH < se.ts.length; i++) {
      warmRun = se.x[i] ? warmRun + 1 : 0;
      if (warmRun < lookback) continue;
      out.push({ s, i, ts: se.ts[i]!, y: horizons.map((h) => Math.log(se.close[i + h]! / se.close[i]!)), tsOut: se.ts[i + maxH]! });
    }
  });
  return out.sort((a, b) => a.ts - b.ts || a.s - b.s);
}

/**
 * Walk-forward split at a time cut (the first `trainFrac` of the points): validation is every point
 * at or after the cut; training keeps only points whose outcomes are all known before the cut
 * (purged, so no training label overlaps the validation period).
 */
export function splitPoints(points: Point[], trainFrac = 0.7): { train: Point[]; valid: Point[]; cut: number } {
  const k = Math.floor(points.length * trainFrac);
  const cut = points[k]?.ts ?? Infinity;
  return { train: points.filter((p) => p.tsOut < cut), valid: points.filter((p) => p.ts >= cut), cut };
}

/** The rows of one point's window, oldest first. */
export function windowOf(series: Series[], p: Point, lookback: number): number[][] {
  return series[p.s]!.x.slice(p.i - lookback + 1, p.i + 1) as number[][];
}

/** Points as the linear model's samples for horizon index h. */
export function asSamples(series: Series[], points: Point[], h: number): Sample[] {
  return points.map((p) => ({ symbol: series[p.s]!.symbol, ts: p.ts, x: series[p.s]!.x[p.i]!, y: p.y[h]!, close: series[p.s]!.close[p.i]! }));
}
