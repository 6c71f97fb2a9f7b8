import { nyDate, nyDayStart } from "../core/time";
import { isMarketOpen, isTradingDay, nyTime } from "../market/calendar";
import { dailyPnl, fillsFromTrades, type PnlReport } from "../reports/pnl";
import type { DailyPnlRow, Store } from "../store/port";
import { operatorReconciler, reconcilableBroker } from "./reconcile";
import type { Settings } from "../config/load";
import type { Logger } from "../obs/log";

/** The New York day boundaries of a YYYY-MM-DD date (DST-safe). */
export function dayBounds(date: string): { start: number; end: number } {
  const start = nyDayStart(nyTime(date, 12, 0));
  const next = new Date(Date.parse(`${date}T12:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  return { start, end: nyDayStart(nyTime(next, 12, 0)) };
}

/**
 * "Today" for the PnL commands: the New York day of the newest stored bar — the live day on a
 * running daemon, the last replayed day on a replay home — or the wall-clock day when nothing is
 * stored yet.
 */
export async function pnlToday(store: Store, now = Date.now()): Promise<string> {
  const t = await store.latestBarTs();
  return nyDate(t ?? now);
}

/** The daily report of a date, from the trades table (fills) and the stored bars (marks). */
export async function pnlForDate(store: Store, date: string, now = Date.now()): Promise<PnlReport> {
  const { start, end } = dayBounds(date);
  const trades = await store.listTrades({ limit: 1_000_000 });
  const fills = fillsFromTrades(trades.filter((t) => t.filled_at === null || t.filled_at < end));
  const marks = await store.barCloses(start, end);
  const unfilled = trades.filter((t) => (t.status === "submitted" || t.status === "pending_submit") && t.ts >= start && t.ts < end).length;
  const closed = !isTradingDay(date) || (nyDate(now) === date && !isMarketOpen(now));
  return dailyPnl(fills, marks, date, start, end, { unfilledOrders: unfilled, marketClosed: closed });
}

export function toDailyRow(r: PnlReport, at: number): DailyPnlRow {
  return {
    report_date: r.report_date!, realized_pnl_usd: r.realized_pnl_usd, unrealized_pnl_usd: r.unrealized_pnl_usd, total_pnl_usd: r.total_pnl_usd,
    win_rate: r.win_rate, num_trades: r.num_trades, num_buys: r.num_buys, num_sells: r.num_sells, volume_usd: r.volume_usd, wins: r.wins, losses: r.losses,
    avg_win_usd: r.avg_win_usd, avg_loss_usd: r.avg_loss_usd, max_drawdown_usd: r.max_drawdown_usd, best_symbol: r.best_symbol, worst_symbol: r.worst_symbol, created_at: at,
  };
}

/** The last `n` New York trading days up to `date`, oldest first. */
export function tradingDaysUpTo(date: string, n: number): string[] {
  const out: string[] = [];
  let t = Date.parse(`${date}T12:00:00Z`);
  while (out.length < n) {
    const d = new Date(t).toISOString().slice(0, 10);
    if (isTradingDay(d)) out.unshift(d);
    t -= 86_400_000;
  }
  return out;
}

/** The daily rows of the `n` trading days up to `date` (oldest first), as `awet pnl week` and GET /api/pnl/week show them. */
export async function pnlWeek(store: Store, date: string, n: number, at = Date.now()): Promise<DailyPnlRow[]> {
  const rows: DailyPnlRow[] = [];
  for (const d of tradingDaysUpTo(date, n)) rows.push(toDailyRow(await pnlForDate(store, d), at));
  return rows;
}

/** The end-of-day job (runbook 11/12), shared by the CLI, the scheduler and REST. */
export async function runEod(s: Settings, store: Store, date: string, log: Logger, say: (l: string) => void = () => {}) {
  say("EOD_JOB_STARTING");
  let orders = "skipped (simulated broker: fills come from bars)";
  let positions = "skipped";
  const broker = reconcilableBroker(s);
  if (broker) {
    const r = operatorReconciler(s, broker, store, log);
    const st = await r.reconcileOrders();
    orders = `${st.updated} updated, ${st.became_terminal} terminal, ${st.errors} errors`;
    const ps = await r.reconcilePositions();
    positions = `${ps.synced} synced, ${ps.zeroed} zeroed`;
  }
  say(`Orders reconciled: ${orders}`);
  say(`Positions synced: ${positions}`);
  const rep = await pnlForDate(store, date);
  await store.saveDailyPnl(toDailyRow(rep, Date.now()));
  say(`PnL computed for ${date}`);
  log.info({ ...toDailyRow(rep, Date.now()) }, "PNL_DAILY_SUMMARY");
  say("EOD_JOB_COMPLETE");
  return rep;
}

