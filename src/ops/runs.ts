import { UsageError } from "../core/errors";
import type { BacktestResults } from "../reports/backtest";
import type { BacktestRunRow, Store } from "../store/port";

/**
 * Stored replays (backtest runs), one service for the CLI (`awet runs`), the REST routes
 * (/api/runs) and the dashboard.
 */
export async function findRun(store: Store, id: string): Promise<BacktestRunRow> {
  const r = await store.getBacktestRun(id);
  if (!r) throw new UsageError(`no run '${id}' (\`awet runs list\` shows the stored runs)`);
  return r;
}

const iso = (t: number) => new Date(t).toISOString();

/** A run as JSON: times as ISO strings. */
export function runJson(r: BacktestRunRow) {
  return { ...r, started_at: iso(r.started_at), finished_at: iso(r.finished_at) };
}

/** One line per run for lists: what, when and the headline figures (no curve, no config). */
export function runListItem(r: BacktestRunRow) {
  const x = r.results as unknown as BacktestResults;
  return {
    id: r.id, label: r.label, started_at: iso(r.started_at), finished_at: iso(r.finished_at), symbols: r.symbols,
    range_from: r.range_from, range_to: r.range_to, config_hash: r.config_hash, code_version: r.code_version,
    period: x.period, return_pct: x.return_pct, benchmark_return_pct: x.benchmark?.return_pct ?? null, trades: x.trades,
    win_rate: x.win_rate, max_drawdown_pct: x.max_drawdown?.pct ?? null, sharpe: x.sharpe,
  };
}

export interface EquityCurve {
  run_id: string;
  label: string | null;
  starting_equity_usd: number;
  /** The strategy's equity and the buy-and-hold benchmark at each point, time as ISO and as epoch seconds. */
  points: { time: string; t: number; equity_usd: number; benchmark_usd: number }[];
  max_drawdown: BacktestResults["max_drawdown"];
}

/**
 * The equity curve of a stored run, for a chart (the dashboard draws this; `awet runs plot` draws
 * the same points). Throws a UsageError naming the id when there is no such run.
 */
export async function equityCurve(store: Store, id: string): Promise<EquityCurve> {
  const r = await findRun(store, id);
  const x = r.results as unknown as BacktestResults;
  return {
    run_id: r.id, label: r.label, starting_equity_usd: x.starting_equity_usd, max_drawdown: x.max_drawdown,
    points: x.equity_curve.map((p) => ({ time: iso(p.ts), t: Math.floor(p.ts / 1000), equity_usd: p.equity_usd, benchmark_usd: p.benchmark_usd })),
  };
}
