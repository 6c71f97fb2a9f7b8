import type { FeatureState } from "../features";

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
