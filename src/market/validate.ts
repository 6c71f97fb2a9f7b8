import type { Bar } from "../core/events";

export interface BarCheck {
  reason: string;
  detail: string;
}

/**
 * Pure validation of one bar against the previous accepted bar time of its symbol. Returns null
 * when the bar is good, else why not. Order of checks: identity, numbers, shape, time.
 */
export function validateBar(b: Bar, lastTs: number | undefined, symbols: ReadonlySet<string> | null, maxRangePct = 50): BarCheck | null {
  if (symbols && !symbols.has(b.symbol))
    return { reason: "unknown_symbol", detail: `symbol ${b.symbol} is not in the configured symbols` };
  for (const k of ["open", "high", "low", "close"] as const) {
    const v = b[k];
    if (!Number.isFinite(v)) return { reason: "non_finite_price", detail: `${k} is ${String(v)}` };
    if (v <= 0) return { reason: "non_positive_price", detail: `${k} is ${v}` };
  }
  if (!Number.isFinite(b.volume)) return { reason: "non_finite_volume", detail: `volume is ${String(b.volume)}` };
  if (b.volume < 0) return { reason: "negative_volume", detail: `volume is ${b.volume}` };
  if (b.high < b.low) return { reason: "high_below_low", detail: `high ${b.high} < low ${b.low}` };
  if (b.high < Math.max(b.open, b.close) || b.low > Math.min(b.open, b.close))
    return { reason: "ohlc_inconsistent", detail: `open ${b.open} / close ${b.close} outside low ${b.low} .. high ${b.high}` };
  // A bar whose own range is absurd (the first AAPL bar after its 2014 split opens at the old
  // pre-split price and closes at the new one) would fill a simulated order at a price 7x off.
  if ((b.high / b.low - 1) * 100 > maxRangePct)
    return { reason: "implausible_range", detail: `high ${b.high} is ${((b.high / b.low - 1) * 100).toFixed(0)}% above low ${b.low} within one bar (max_bar_range_pct ${maxRangePct})` };
  if (lastTs !== undefined) {
    if (b.ts === lastTs) return { reason: "duplicate_bar", detail: `a ${b.symbol} bar at ${new Date(b.ts).toISOString()} was already accepted` };
    if (b.ts < lastTs)
      return { reason: "out_of_order", detail: `${new Date(b.ts).toISOString()} is before the last ${b.symbol} bar ${new Date(lastTs).toISOString()}` };
  }
  return null;
}
