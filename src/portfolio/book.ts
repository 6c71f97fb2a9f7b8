import type { AppConfig } from "../config/schema";
import type { Fill } from "../broker/port";
import { notional, round6 } from "../core/money";
import type { Limits } from "../gates/types";
import { OPEN_STATUSES, type Position } from "../store/port";

/** The gate limits of a config (pure). */
export function limitsFrom(app: AppConfig): Limits {
  return {
    maxOrdersPerMinute: app.max_orders_per_minute,
    maxOrdersPerSymbolPerDay: app.max_orders_per_symbol_per_day,
    maxOpenOrdersTotal: app.max_open_orders_total,
    cooldownSeconds: app.cooldown_seconds_per_symbol,
    maxTotalExposureUsd: app.max_total_exposure_usd,
    maxSymbolExposureUsd: app.max_exposure_per_symbol_usd,
    allowAddToPosition: app.allow_add_to_position,
    maxNotionalPerOrderUsd: app.max_notional_per_order_usd,
    maxOrderQty: app.max_order_qty,
    priceBandPct: app.price_band_pct,
    stoplossGuard: {
      count: app.stoploss_guard_count,
      lookbackMs: app.stoploss_guard_lookback_minutes * 60_000,
      lockMs: app.stoploss_guard_lock_minutes * 60_000,
      scope: app.stoploss_guard_scope as "symbol" | "global",
    },
    pdtProtection: app.pdt_protection,
    pdtEquityThresholdUsd: 25_000,
    maxDailyLossUsd: app.max_daily_loss_usd,
    useBracketOrders: app.use_bracket_orders,
    takeProfitPct: app.take_profit_pct,
    stopLossPct: app.stop_loss_pct,
  };
}

/** Pure: a position after a fill (average-cost basis for the book; PnL uses FIFO lots). */
export function applyFillToPosition(prev: Position | null, f: Fill): Position {
  const q = prev?.qty ?? 0;
  const avg = prev?.avg_entry_price ?? 0;
  if (f.side === "buy") {
    const nq = q + f.qty;
    return {
      symbol: f.symbol, qty: nq, avg_entry_price: round6((q * avg + f.qty * f.price) / nq), last_price: f.price,
      market_value: 0, unrealized_pl: 0, opened_at: q > 0 && prev?.opened_at != null ? prev.opened_at : f.ts, updated_at: f.ts,
    };
  }
  const nq = Math.max(0, q - f.qty);
  return {
    symbol: f.symbol, qty: nq, avg_entry_price: nq === 0 ? 0 : avg, last_price: f.price, market_value: 0, unrealized_pl: 0,
    opened_at: nq === 0 ? null : (prev?.opened_at ?? null), updated_at: f.ts,
  };
}

/** Pure: mark a position at a price. */
export function mark(p: Position, price: number, ts: number): Position {
  return {
    ...p,
    last_price: price,
    market_value: notional(price, p.qty),
    unrealized_pl: round6(notional(price, p.qty) - notional(p.avg_entry_price, p.qty)),
    updated_at: ts,
  };
}

/** Statuses that never reached (or were refused by) the broker: not counted by the throttles. */
const NOT_PLACED = new Set(["blocked", "rejected"]);
const OPEN = new Set<string>(OPEN_STATUSES); // `unknown` is placed (throttles count it) but not open

export interface OrderStatsRow {
  ts: number;
  symbol: string;
  side: "buy" | "sell";
  qty: number;
  filled_qty: number;
  price: number | null;
  status: string;
}

/**
 * Pure: what the throttle and exposure gates need from past orders — the same figures as the
 * store's `orderStats` query (orders placed since the minute start, the symbol's orders since the
 * day start, open orders, the symbol's latest order, notional of open buys), from rows in memory.
 */
export function orderStatsFrom(rows: Iterable<OrderStatsRow>, symbol: string, minuteStart: number, dayStart: number) {
  let ordersSince = 0, symbolOrdersSince = 0, openOrders = 0;
  let lastSymbolOrderTs: number | null = null;
  let pendingBuy = 0, pendingSymbolBuy = 0;
  for (const r of rows) {
    if (NOT_PLACED.has(r.status)) continue;
    if (r.ts >= minuteStart) ordersSince++;
    const mine = r.symbol === symbol;
    if (mine && r.ts >= dayStart) symbolOrdersSince++;
    if (mine && (lastSymbolOrderTs === null || r.ts > lastSymbolOrderTs)) lastSymbolOrderTs = r.ts;
    if (OPEN.has(r.status)) {
      openOrders++;
      if (r.side === "buy") {
        const n = (r.qty - r.filled_qty) * (r.price ?? 0);
        pendingBuy += n;
        if (mine) pendingSymbolBuy += n;
      }
    }
  }
  return {
    ordersSince, symbolOrdersSince, openOrders, lastSymbolOrderTs,
    pendingBuyNotional: round6(pendingBuy), pendingSymbolBuyNotional: round6(pendingSymbolBuy),
  };
}

export const isOpenStatus = (s: string) => OPEN.has(s);
export const isPlacedStatus = (s: string) => !NOT_PLACED.has(s);

/** Pure: shares of a symbol in open sell orders (not yet filled), from trade rows. */
export function openSellQtyOf(rows: Iterable<Pick<OrderStatsRow, "symbol" | "side" | "qty" | "filled_qty" | "status">>, symbol: string): number {
  let q = 0;
  for (const r of rows) if (r.symbol === symbol && r.side === "sell" && isOpenStatus(r.status)) q += r.qty - r.filled_qty;
  return q;
}
