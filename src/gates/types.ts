import type { OrderIntent } from "../core/events";

export type TradingState = "ACTIVE" | "REDUCING" | "HALTED" | "RECONCILING";

/** A gate's verdict. A block is a value with a reason code and a human detail, never a throw. */
export type Decision = { allow: true } | { allow: false; reason: string; detail: string };

export const ALLOW: Decision = Object.freeze({ allow: true });
export function block(reason: string, detail: string): Decision {
  return { allow: false, reason, detail };
}

/** Everything the gates may know, gathered by Execution before the chain runs. */
export interface Snapshot {
  brokerName: string;
  brokerIsPaper: boolean;
  dryRun: boolean;
  approved: boolean; // the approval file exists
  tradingState: TradingState;
  duplicate: boolean; // a trade row with this idempotency key exists
  ordersLastMinute: number;
  symbolOrdersToday: number;
  openOrders: number;
  lastSymbolOrderTs: number | null;
  positionQty: number; // of the intent's symbol
  openSellQty: number; // of the intent's symbol, not yet filled
  totalExposureUsd: number; // open positions at market + pending buys
  symbolExposureUsd: number;
  lastPrice: number | null;
  equityUsd: number; // account equity the broker reports
  dayTradesLast5Days: number; // day trades in the last 5 business days
  boughtToday: boolean; // a BUY of the symbol filled today: selling now would be a day trade
  stopLossExitTs: number[]; // stop-loss exits of the symbol, recent first or any order
  globalStopLossExitTs: number[]; // stop-loss exits of every symbol
  dayPnlUsd: number; // realized + unrealized PnL of the New York day
}

export interface Limits {
  maxOrdersPerMinute: number;
  maxOrdersPerSymbolPerDay: number;
  maxOpenOrdersTotal: number;
  cooldownSeconds: number;
  maxTotalExposureUsd: number;
  maxSymbolExposureUsd: number;
  allowAddToPosition: boolean;
  maxNotionalPerOrderUsd: number;
  maxOrderQty: number;
  priceBandPct: number;
  stoplossGuard: { count: number; lookbackMs: number; lockMs: number; scope: "symbol" | "global" };
  pdtProtection: boolean;
  pdtEquityThresholdUsd: number; // FINRA's $25,000
  maxDailyLossUsd: number;
  useBracketOrders: boolean;
  takeProfitPct: number; // percent
  stopLossPct: number; // percent
}

export type Gate = (intent: OrderIntent, s: Snapshot, l: Limits, now: number) => Decision;
