import type { Gate } from "./types";
import { ALLOW, block } from "./types";

export const duplicateGate: Gate = (i, s) =>
  s.duplicate ? block("duplicate_idempotency_key", `idempotency key ${i.idempotency_key} already has a trade row`) : ALLOW;

export const rateLimitGate: Gate = (_i, s, l) =>
  s.ordersLastMinute >= l.maxOrdersPerMinute
    ? block("rate_limit", `${s.ordersLastMinute} orders in the last minute, max_orders_per_minute is ${l.maxOrdersPerMinute}`)
    : ALLOW;

export const symbolOrdersGate: Gate = (i, s, l) =>
  s.symbolOrdersToday >= l.maxOrdersPerSymbolPerDay
    ? block("max_symbol_orders", `${s.symbolOrdersToday} orders for ${i.symbol} today, max_orders_per_symbol_per_day is ${l.maxOrdersPerSymbolPerDay}`)
    : ALLOW;

export const openOrdersGate: Gate = (_i, s, l) =>
  s.openOrders >= l.maxOpenOrdersTotal
    ? block("max_open_orders", `${s.openOrders} open orders, max_open_orders_total is ${l.maxOpenOrdersTotal}`)
    : ALLOW;

export const cooldownGate: Gate = (i, s, l, now) => {
  if (s.lastSymbolOrderTs === null) return ALLOW;
  const elapsed = (now - s.lastSymbolOrderTs) / 1000;
  return elapsed < l.cooldownSeconds
    ? block("cooldown", `last ${i.symbol} order ${Math.floor(elapsed)}s ago, cooldown_seconds_per_symbol is ${l.cooldownSeconds}`)
    : ALLOW;
};
