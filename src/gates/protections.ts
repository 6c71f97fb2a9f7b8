import type { Gate } from "./types";
import { ALLOW, block } from "./types";

/**
 * Freqtrade's StoplossGuard: `count` stop-loss exits within the lookback lock new entries (of the
 * symbol, or of everything) until `lock` after the last of them. Exits are never locked.
 */
export const stoplossGuardGate: Gate = (i, s, l, now) => {
  if (i.side !== "buy") return ALLOW;
  const g = l.stoplossGuard;
  const times = (g.scope === "global" ? s.globalStopLossExitTs : s.stopLossExitTs).filter((t) => t <= now && t > now - g.lookbackMs);
  if (times.length < g.count) return ALLOW;
  const until = Math.max(...times) + g.lockMs;
  return now < until
    ? block("stoploss_guard", `${times.length} stop-loss exits${g.scope === "global" ? "" : ` of ${i.symbol}`} in ${g.lookbackMs / 60_000} min: entries locked until ${new Date(until).toISOString()}`)
    : ALLOW;
};

/**
 * Alpaca rejects a 4th day trade within 5 business days when equity is under $25,000 (FINRA's
 * pattern day trader rule); block it here before the broker does. In a long-only book a day trade
 * is completed by a SELL of a symbol bought the same day.
 */
export const patternDayTraderGate: Gate = (i, s, l) => {
  if (!l.pdtProtection || i.side !== "sell" || !s.boughtToday) return ALLOW;
  if (s.equityUsd >= l.pdtEquityThresholdUsd) return ALLOW;
  return s.dayTradesLast5Days >= 3
    ? block("pattern_day_trader", `${s.dayTradesLast5Days} day trades in 5 business days with equity ${s.equityUsd.toFixed(2)} < ${l.pdtEquityThresholdUsd}: a 4th would be refused by the broker`)
    : ALLOW;
};

/** Realized + unrealized loss of the day over the limit: no new entries (Execution also switches the trading state). */
export const maxDailyLossGate: Gate = (i, s, l) =>
  i.side === "buy" && s.dayPnlUsd <= -l.maxDailyLossUsd
    ? block("max_daily_loss", `day PnL ${s.dayPnlUsd.toFixed(2)} is past -max_daily_loss_usd ${l.maxDailyLossUsd}`)
    : ALLOW;
