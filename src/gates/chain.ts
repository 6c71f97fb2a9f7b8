import type { OrderIntent } from "../core/events";
import { approvalGate, dryRunGate, paperGate, tradingStateGate } from "./safety";
import { cooldownGate, duplicateGate, openOrdersGate, rateLimitGate, symbolOrdersGate } from "./throttle";
import { addToPositionGate, cappedSellQty, exposureGate, sellCheckGate } from "./exposure";
import { maxNotionalGate, priceBandGate, qtyBoundsGate } from "./limits";
import { maxDailyLossGate, patternDayTraderGate, stoplossGuardGate } from "./protections";
import { shapeOrder, type OrderShape } from "./shaping";
import type { Gate, Limits, Snapshot } from "./types";

export type Chain = readonly (readonly [string, Gate])[];

/**
 * The entry chain in the order of ARCHITECTURE.md §5 (safety, duplicate, throttles, cooldown,
 * exposure, sell check), with the pre-trade checks beyond the runbook slotted in before exposure.
 * The first gate that blocks decides.
 */
export const ENTRY_CHAIN: Chain = [
  ["paper", paperGate],
  ["dry_run", dryRunGate],
  ["approval", approvalGate],
  ["trading_state", tradingStateGate],
  ["max_daily_loss", maxDailyLossGate],
  ["duplicate", duplicateGate],
  ["rate_limit", rateLimitGate],
  ["max_symbol_orders", symbolOrdersGate],
  ["max_open_orders", openOrdersGate],
  ["cooldown", cooldownGate],
  ["stoploss_guard", stoplossGuardGate],
  ["pattern_day_trader", patternDayTraderGate],
  ["qty_bounds", qtyBoundsGate],
  ["max_notional", maxNotionalGate],
  ["price_band", priceBandGate],
  ["exposure", exposureGate],
  ["add_to_position", addToPositionGate],
  ["sell_check", sellCheckGate],
];

/**
 * Exits are reduce-only: they pass the safety gates and what the broker itself would refuse, but
 * never wait behind throttles, cooldown, price band or exposure caps — a stop-loss must go out.
 */
export const EXIT_CHAIN: Chain = [
  ["paper", paperGate],
  ["dry_run", dryRunGate],
  ["approval", approvalGate],
  ["trading_state", tradingStateGate],
  ["duplicate", duplicateGate],
  ["pattern_day_trader", patternDayTraderGate],
  ["qty_bounds", qtyBoundsGate],
  ["sell_check", sellCheckGate],
];

export type ChainResult =
  | { allow: true; intent: OrderIntent; shape: OrderShape; notes: string[] }
  | { allow: false; reason: string; detail: string; gate: string };

/** Run the gates, then shape the order (a SELL is capped to the held qty). Pure. */
export function runChain(
  intent: OrderIntent,
  s: Snapshot,
  l: Limits,
  now: number,
  chain: Chain = ENTRY_CHAIN,
): ChainResult {
  for (const [name, gate] of chain) {
    const d = gate(intent, s, l, now);
    if (!d.allow) return { allow: false, reason: d.reason, detail: d.detail, gate: name };
  }
  const notes: string[] = [];
  let shaped = intent;
  if (intent.side === "sell") {
    const q = cappedSellQty(intent.qty, s.positionQty, s.openSellQty);
    if (q !== intent.qty) {
      notes.push(`sell qty capped from ${intent.qty} to ${q} (held ${s.positionQty}, open sells ${s.openSellQty})`);
      shaped = { ...intent, qty: q };
    }
  }
  const shape = shapeOrder(shaped, s, l);
  if (shape.type === "market" && shape.note) notes.push(shape.note);
  return { allow: true, intent: shaped, shape, notes };
}
