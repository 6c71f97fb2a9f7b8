import type { OrderIntent } from "../core/events";
import { roundToTick } from "../core/money";
import type { Limits, Snapshot } from "./types";

export type OrderShape =
  | { type: "market"; note?: string }
  | { type: "bracket"; take_profit_price: number; stop_loss_price: number };

/**
 * Order shaping: a BUY becomes a bracket (take-profit limit above, stop-loss below, rounded to the
 * tick) when use_bracket_orders and a reliable price exists; otherwise a plain market order, with
 * the reason. Legs keep at least one tick from the base price, as Alpaca requires.
 */
export function shapeOrder(i: OrderIntent, s: Snapshot, l: Limits): OrderShape {
  if (!l.useBracketOrders || i.side !== "buy") return { type: "market" };
  const base = s.lastPrice;
  if (base === null || !Number.isFinite(base) || base <= 0)
    return { type: "market", note: "bracket_fallback: no reliable last trade price; sent as a plain market order" };
  if (Math.abs(i.reference_price - base) / base > l.priceBandPct / 100)
    return { type: "market", note: `bracket_fallback: reference ${i.reference_price} far from last trade ${base}; sent as a plain market order` };
  const tick = base >= 1 ? 0.01 : 0.0001;
  const tp = Math.max(roundToTick(base * (1 + l.takeProfitPct / 100), "up"), roundToTick(base + tick, "up"));
  const sl = Math.min(roundToTick(base * (1 - l.stopLossPct / 100), "down"), roundToTick(base - tick, "down"));
  if (!(sl > 0)) return { type: "market", note: `bracket_fallback: stop-loss price ${sl} not positive; sent as a plain market order` };
  return { type: "bracket", take_profit_price: tp, stop_loss_price: sl };
}
