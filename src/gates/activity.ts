import { nyDate, nyParts } from "../core/time";
import { isTradingDay } from "../market/calendar";

export interface PlacedOrder {
  ts: number;
  symbol: string;
  side: "buy" | "sell";
  status: string;
  filled_at: number | null;
  exit_reason: string | null;
}

export interface Activity {
  dayTradesLast5Days: number;
  boughtToday: boolean;
  stopLossExitTs: number[];
  globalStopLossExitTs: number[];
}

/** The last `n` NYSE trading days up to and including the New York day of `now`, as YYYY-MM-DD. */
export function lastBusinessDays(now: number, n: number): string[] {
  const out: string[] = [];
  let t = now;
  while (out.length < n) {
    const p = nyParts(t);
    if (isTradingDay(p.date)) out.push(p.date);
    t -= 86_400_000;
  }
  return out;
}

/**
 * The last 5 trading days as a set, made once per New York date (the answer depends on the date
 * alone: the daylight-saving switches fall on Sundays, which are never trading days). Bounded.
 */
const fiveDays = new Map<string, ReadonlySet<string>>();
function lastFiveDays(now: number): ReadonlySet<string> {
  const today = nyDate(now);
  let s = fiveDays.get(today);
  if (!s) {
    if (fiveDays.size >= 1024) fiveDays.clear();
    fiveDays.set(today, (s = new Set(lastBusinessDays(now, 5))));
  }
  return s;
}

/**
 * What the protections need from past orders, derived purely from the placed orders: day trades
 * (a symbol bought and then sold on the same New York day) in the last 5 business days, whether
 * the symbol was bought today, and the times of stop-loss exits.
 */
export function deriveActivity(orders: PlacedOrder[], symbol: string, now: number): Activity {
  const days = lastFiveDays(now);
  const today = nyDate(now);
  const bought = new Map<string, number>(); // symbol|day -> buys filled so far
  let dayTrades = 0;
  let boughtToday = false;
  const sl: number[] = [];
  const slAll: number[] = [];
  const filled = orders.filter((o) => o.filled_at !== null && (o.status === "filled" || o.status === "partially_filled"));
  filled.sort((a, b) => a.filled_at! - b.filled_at!);
  for (const o of filled) {
    const day = nyDate(o.filled_at!);
    const k = `${o.symbol}|${day}`;
    if (o.side === "buy") {
      bought.set(k, (bought.get(k) ?? 0) + 1);
      if (o.symbol === symbol && day === today) boughtToday = true;
    } else if ((bought.get(k) ?? 0) > 0 && days.has(day)) {
      dayTrades++;
      bought.set(k, bought.get(k)! - 1);
    }
  }
  for (const o of orders) {
    if (o.exit_reason !== "stop_loss") continue;
    const t = o.filled_at ?? o.ts;
    slAll.push(t);
    if (o.symbol === symbol) sl.push(t);
  }
  return { dayTradesLast5Days: dayTrades, boughtToday, stopLossExitTs: sl, globalStopLossExitTs: slAll };
}
