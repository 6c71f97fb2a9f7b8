import { fmtUsd } from "../core/money";
import type { PnlReport } from "./pnl";
import type { DailyPnlRow } from "../store/port";

const pct = (x: number | null) => (x === null ? "-" : `${(x * 100).toFixed(1)}%`);
const s = (x: number | null) => (x === null ? "-" : fmtUsd(x, true));

/** The daily report laid out as the runbook shows it (section 11). */
export function renderDaily(r: PnlReport): string {
  const bar = "=".repeat(60);
  const rule = "  " + "─".repeat(40);
  const lines = [
    bar, `  📊 Daily PnL Report: ${r.report_date ?? "all fills"}`, bar, "",
    "  💰 P&L Summary", rule,
    `  Realized PnL:    ${s(r.realized_pnl_usd)}`, `  Unrealized PnL:  ${s(r.unrealized_pnl_usd)}`, `  Total PnL:       ${s(r.total_pnl_usd)}`, "",
    "  📈 Trade Stats", rule,
    `  Total Trades:    ${r.num_trades}`, `  Buys:            ${r.num_buys}`, `  Sells:           ${r.num_sells}`, `  Volume:          ${fmtUsd(r.volume_usd)}`, "",
    "  🎯 Performance", rule,
    `  Win Rate:        ${pct(r.win_rate)}`, `  Wins/Losses:     ${r.wins}/${r.losses}`, `  Avg Win:         ${s(r.avg_win_usd)}`, `  Avg Loss:        ${s(r.avg_loss_usd)}`,
    `  Max Drawdown:    ${fmtUsd(r.max_drawdown_usd)}`, "",
    "  🏆 By Symbol", rule,
    `  Best:            ${r.best_symbol ? `${r.best_symbol} (${s(r.best_symbol_pnl_usd)})` : "-"}`,
    `  Worst:           ${r.worst_symbol ? `${r.worst_symbol} (${s(r.worst_symbol_pnl_usd)})` : "-"}`,
  ];
  if (r.hints.length) lines.push("", "  💡 Why the numbers look like this", rule, ...r.hints.map((h) => `  - ${h}`));
  if (r.errors.length) lines.push("", "  ⚠️  Errors", rule, ...r.errors.map((e) => `  - ${e.message}`));
  lines.push("", bar);
  return lines.join("\n");
}

/** The JSON form: the daily_pnl_summary column names first, then the detail. */
export function reportJson(r: PnlReport) {
  return {
    report_date: r.report_date, realized_pnl_usd: r.realized_pnl_usd, unrealized_pnl_usd: r.unrealized_pnl_usd, total_pnl_usd: r.total_pnl_usd,
    win_rate: r.win_rate, num_trades: r.num_trades, num_buys: r.num_buys, num_sells: r.num_sells, volume_usd: r.volume_usd, wins: r.wins, losses: r.losses,
    avg_win_usd: r.avg_win_usd, avg_loss_usd: r.avg_loss_usd, max_drawdown_usd: r.max_drawdown_usd, best_symbol: r.best_symbol, worst_symbol: r.worst_symbol,
    best_symbol_pnl_usd: r.best_symbol_pnl_usd, worst_symbol_pnl_usd: r.worst_symbol_pnl_usd, by_symbol: r.by_symbol, round_trips: r.round_trips,
    open_lots: r.open_lots, errors: r.errors, hints: r.hints,
  };
}

/** The 7-day table. */
export function renderWeek(rows: Pick<DailyPnlRow, "report_date" | "realized_pnl_usd" | "unrealized_pnl_usd" | "total_pnl_usd" | "win_rate" | "num_trades" | "max_drawdown_usd" | "best_symbol" | "worst_symbol">[]): string {
  const head = `${"date".padEnd(12)}${"realized".padStart(13)}${"unrealized".padStart(13)}${"total".padStart(13)}${"win rate".padStart(10)}${"trades".padStart(8)}${"drawdown".padStart(12)}  best/worst`;
  const body = rows.map((r) => `${r.report_date.padEnd(12)}${s(r.realized_pnl_usd).padStart(13)}${s(r.unrealized_pnl_usd).padStart(13)}${s(r.total_pnl_usd).padStart(13)}${pct(r.win_rate).padStart(10)}${String(r.num_trades).padStart(8)}${fmtUsd(r.max_drawdown_usd).padStart(12)}  ${r.best_symbol ?? "-"}/${r.worst_symbol ?? "-"}`);
  const tot = rows.reduce((a, r) => a + r.total_pnl_usd, 0);
  return [head, "─".repeat(head.length + 10), ...body, "─".repeat(head.length + 10), `${"7 days".padEnd(38)}${s(Math.round(tot * 100) / 100).padStart(13)}`].join("\n");
}
