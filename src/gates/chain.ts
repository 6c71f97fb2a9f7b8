import type { OrderIntent } from "../core/events";
import { approvalGate, dryRunGate, paperGate, tradingStateGate } from "./safety";
import { cooldownGate, duplicateGate, openOrdersGate, rateLimitGate, symbolOrdersGate } from "./throttle";
import { addToPositionGate, cappedSellQty, exposureGate, sellCheckGate } from "./exposure";
import type { Gate, Limits, Snapshot } from "./types";

/** The chain in the order of ARCHITECTURE.md §5. The first gate that blocks decides. */
export const ENTRY_CHAIN: readonly (readonly [string, Gate])[] = [
  ["paper", paperGate],
  ["dry_run", dryRunGate],
  ["approval", approvalGate],
  ["trading_state", tradingStateGate],
  ["duplicate", duplicateGate],
  ["rate_limit", rateLimitGate],
  ["max_symbol_orders", symbolOrdersGate],
  ["max_open_orders", openOrdersGate],
  ["cooldown", cooldownGate],
  ["exposure", exposureGate],
  ["add_to_position", addToPositionGate],
  ["sell_check", sellCheckGate],
];

export type ChainResult =
  | { allow: true; intent: OrderIntent; notes: string[] }
  | { allow: false; reason: string; detail: string; gate: string };

/** Run the gates, then shape the order (a SELL is capped to the held qty). Pure. */
export function runChain(
  intent: OrderIntent,
  s: Snapshot,
  l: Limits,
  now: number,
  chain: readonly (readonly [string, Gate])[] = ENTRY_CHAIN,
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
  return { allow: true, intent: shaped, notes };
}
