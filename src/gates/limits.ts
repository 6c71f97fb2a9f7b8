import { notional } from "../core/money";
import type { Gate } from "./types";
import { ALLOW, block } from "./types";

/** Whole shares only, at least 1, at most max_order_qty (NautilusTrader's _check_quantity). */
export const qtyBoundsGate: Gate = (i, _s, l) => {
  if (!Number.isFinite(i.qty) || !Number.isInteger(i.qty) || i.qty < 1)
    return block("qty_bounds", `qty ${i.qty} is not a whole number of shares >= 1`);
  if (i.qty > l.maxOrderQty) return block("qty_bounds", `qty ${i.qty} > max_order_qty ${l.maxOrderQty}`);
  return ALLOW;
};

export const maxNotionalGate: Gate = (i, _s, l) => {
  if (!Number.isFinite(i.reference_price) || i.reference_price <= 0)
    return block("invalid_price", `reference price ${i.reference_price} is not a positive number`);
  const n = notional(i.reference_price, i.qty);
  return n > l.maxNotionalPerOrderUsd
    ? block("max_notional_per_order", `order notional ${n.toFixed(2)} > max_notional_per_order_usd ${l.maxNotionalPerOrderUsd}`)
    : ALLOW;
};

/** The order's price must be within price_band_pct of the last trade price (a stale or fat-fingered price). */
export const priceBandGate: Gate = (i, s, l) => {
  if (s.lastPrice === null) return ALLOW; // nothing to compare with; bracket shaping falls back separately
  const dev = (Math.abs(i.reference_price - s.lastPrice) / s.lastPrice) * 100;
  return dev > l.priceBandPct
    ? block("price_band", `price ${i.reference_price} is ${dev.toFixed(2)}% from the last trade ${s.lastPrice}, price_band_pct is ${l.priceBandPct}`)
    : ALLOW;
};
