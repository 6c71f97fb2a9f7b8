import { notional } from "../core/money";
import type { Gate } from "./types";
import { ALLOW, block } from "./types";

/** BUY only: open positions at market plus pending buys plus this order must stay within the caps. */
export const exposureGate: Gate = (i, s, l) => {
  if (i.side !== "buy") return ALLOW;
  const add = notional(i.reference_price, i.qty);
  if (s.totalExposureUsd + add > l.maxTotalExposureUsd)
    return block("exposure_cap", `exposure ${s.totalExposureUsd.toFixed(2)} + ${add.toFixed(2)} > max_total_exposure_usd ${l.maxTotalExposureUsd}`);
  if (s.symbolExposureUsd + add > l.maxSymbolExposureUsd)
    return block("symbol_exposure_cap", `${i.symbol} exposure ${s.symbolExposureUsd.toFixed(2)} + ${add.toFixed(2)} > max_exposure_per_symbol_usd ${l.maxSymbolExposureUsd}`);
  return ALLOW;
};

/** A BUY on a symbol already held (or being bought) is blocked unless allow_add_to_position. */
export const addToPositionGate: Gate = (i, s, l) =>
  i.side === "buy" && !l.allowAddToPosition && (s.positionQty > 0 || s.symbolExposureUsd > 0)
    ? block("position_exists", `${i.symbol} is already held or being bought and allow_add_to_position is false`)
    : ALLOW;

/** SELL against the positions table: nothing held (net of open sells) means no sell. */
export const sellCheckGate: Gate = (i, s) => {
  if (i.side !== "sell") return ALLOW;
  const available = s.positionQty - s.openSellQty;
  return available <= 0 ? block("no_position", `no ${i.symbol} position available to sell (held ${s.positionQty}, open sells ${s.openSellQty})`) : ALLOW;
};

/** The qty a SELL may have: capped to what is held net of open sells. */
export function cappedSellQty(qty: number, positionQty: number, openSellQty: number): number {
  return Math.max(0, Math.min(qty, positionQty - openSellQty));
}
