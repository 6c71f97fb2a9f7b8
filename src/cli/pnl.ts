import { UsageError } from "../core/errors";
import { makeLogger } from "../obs/log";
import { pnlForDate, pnlToday, pnlWeek, runEod, toDailyRow } from "../ops/pnl";
import { renderDaily, renderWeek, reportJson } from "../reports/render";
import { openStore } from "../compose/adapters";
import { intFlag, parseArgs } from "./args";
import { GLOBAL_VALUE_FLAGS, out, outControl, settingsFrom } from "./common";
import { isCalendarDate } from "../core/parse";

export const PNL_HELP = `Usage: awet pnl [today | week | watch [--interval 60] | save | eod] [--date YYYY-MM-DD] [--json] [--home DIR]

  today     the daily report (FIFO round trips; realized, unrealized, win rate, drawdown, ...)
  --date D  alone: the report of that New York trading day
  week      the last 7 trading days
  watch     the daily report every --interval seconds
  save      compute the day and store it in daily_pnl_summary (one row per date, overwritten)
  eod       the end-of-day job: reconcile orders, reconcile positions, compute, save, log PNL_DAILY_SUMMARY

"today" is the New York day of the newest stored bar (the live day on a running daemon, the last
replayed day on a replay home), or the calendar day when nothing is stored. The JSON form carries the
daily_pnl_summary column names (report_date, realized_pnl_usd, unrealized_pnl_usd, total_pnl_usd,
win_rate, num_trades, best_symbol, worst_symbol, max_drawdown_usd, ...).`;

export async function pnlCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { bool: ["help", "json"], value: [...GLOBAL_VALUE_FLAGS, "date", "interval"] });
  if (p.flags.help) return out(PNL_HELP), 0;
  const sub = p.positionals[0] ?? (p.flags.date ? "today" : undefined);
  if (!sub) return out(PNL_HELP), 2;
  if (p.flags.date !== undefined && !isCalendarDate(String(p.flags.date))) throw new UsageError(`--date must be a calendar date YYYY-MM-DD; got '${p.flags.date}'`);
  const s = settingsFrom(p);
  const store = await openStore(s);
  const json = Boolean(p.flags.json);
  try {
    const date = (p.flags.date as string | undefined) ?? (await pnlToday(store));
    if (sub === "today") {
      const r = await pnlForDate(store, date);
      out(json ? JSON.stringify(reportJson(r), null, 2) : renderDaily(r));
      return 0;
    }
    if (sub === "week") {
      const rows = await pnlWeek(store, date, 7);
      out(json ? JSON.stringify(rows, null, 2) : renderWeek(rows));
      return 0;
    }
    if (sub === "save") {
      const r = await pnlForDate(store, date);
      await store.saveDailyPnl(toDailyRow(r, Date.now()));
      out(json ? JSON.stringify(toDailyRow(r, Date.now()), null, 2) : `saved daily_pnl_summary for ${date}: total ${r.total_pnl_usd}`);
      return 0;
    }
    if (sub === "eod") {
      const log = makeLogger({ logsDir: s.paths.logs, level: s.app.log_level, name: "eod" });
      const r = await runEod(s, store, date, log, json ? () => {} : out);
      if (json) out(JSON.stringify(reportJson(r), null, 2));
      return 0;
    }
    if (sub === "watch") {
      const every = intFlag(p, "interval", 60, 1, 86_400);
      for (;;) {
        const d = (p.flags.date as string | undefined) ?? (await pnlToday(store));
        const r = await pnlForDate(store, d);
        if (!json) outControl("clear");
        out(json ? JSON.stringify(reportJson(r)) : `${renderDaily(r)}\n(refresh every ${every}s; Ctrl-C to stop)`);
        await Bun.sleep(every * 1000);
      }
    }
    throw new UsageError(`awet pnl: expected today, week, watch, save or eod; got '${sub}'`);
  } finally {
    await store.close();
  }
}
