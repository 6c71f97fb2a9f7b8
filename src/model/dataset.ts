import type { Bar } from "../core/events";
import { FeatureState } from "../features";

export const FEATURE_NAMES = ["ret_1", "sma_fast_gap", "sma_slow_gap", "ema_spread", "rsi_centered", "realized_vol", "vwap_distance", "volume_z"] as const;

export interface Sample {
  symbol: string;
  ts: number;
  x: number[]; // FEATURE_NAMES order
  y: number; // log return over the next `horizon` bars
  close: number;
}

/** One bar's feature vector from the pipeline's own indicators (null until warm). Pure. */
export function featureVector(f: ReturnType<FeatureState["update"]>, close: number): number[] | null {
  if (!f.warm || f.ret_1 === null || f.sma_fast === null || f.sma_slow === null || f.ema_fast === null || f.ema_slow === null || f.rsi === null || f.realized_vol === null) return null;
  return [
    f.ret_1,
    f.sma_fast / close - 1,
    f.sma_slow / close - 1,
    f.ema_fast / f.ema_slow - 1,
    (f.rsi - 50) / 50,
    f.realized_vol,
    f.vwap_distance ?? 0,
    Math.max(-5, Math.min(5, f.volume_z ?? 0)),
  ];
}

/** Samples from stored bars (grouped per symbol, in time order): features now, return h bars ahead. Pure. */
export function buildSamples(bars: Bar[], horizon: number): Sample[] {
  const by = new Map<string, Bar[]>();
  for (const b of bars) (by.get(b.symbol) ?? by.set(b.symbol, []).get(b.symbol)!).push(b);
  const out: Sample[] = [];
  for (const [symbol, bs] of [...by].sort((a, b) => a[0].localeCompare(b[0]))) {
    bs.sort((a, b) => a.ts - b.ts);
    const st = new FeatureState();
    const xs = bs.map((b) => featureVector(st.update(b), b.close));
    for (let i = 0; i + horizon < bs.length; i++) {
      const x = xs[i];
      if (!x) continue;
      out.push({ symbol, ts: bs[i]!.ts, x, y: Math.log(bs[i + horizon]!.close / bs[i]!.close), close: bs[i]!.close });
    }
  }
  return out.sort((a, b) => a.ts - b.ts || a.symbol.localeCompare(b.symbol));
}
