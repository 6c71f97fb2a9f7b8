import { fmtUsd } from "../core/money";
import type { BacktestRunRow } from "../store/port";
import type { BacktestResults } from "./backtest";

const usd = (x: number | null | undefined, signed = false) => (x === null || x === undefined ? "-" : fmtUsd(x, signed));
const pct = (x: number | null | undefined, signed = true) => (x === null || x === undefined ? "-" : `${signed && x > 0 ? "+" : ""}${x.toFixed(2)}%`);
const num = (x: number | null | undefined, d = 2) => (x === null || x === undefined ? "-" : x.toFixed(d));
const when = (iso: string | null) => (iso === null ? "-" : iso.replace("T", " ").replace(/:\d{2}\.\d{3}Z$/, "Z"));

function holding(min: number | null): string {
  if (min === null) return "-";
  if (min < 120) return `${min.toFixed(1)} min`;
  if (min < 2 * 1440) return `${(min / 60).toFixed(1)} h`;
  return `${(min / 1440).toFixed(1)} days`;
}

/** The results section printed at the end of every replay and by `awet runs show`. Pure. */
export function renderResults(r: BacktestResults): string {
  const rule = "  " + "─".repeat(58);
  const pf = r.profit_factor === null ? (r.wins > 0 ? "∞ (no losing trade)" : "-") : r.profit_factor.toFixed(2);
  const dd = r.max_drawdown;
  const lines = [
    `Results  ${when(r.period.from)} … ${when(r.period.to)} (${r.period.trading_days} trading days)`,
    rule,
    `  starting equity   ${usd(r.starting_equity_usd)}          ending ${usd(r.ending_equity_usd)}`,
    `  return            ${pct(r.return_pct)}   (buy and hold ${pct(r.benchmark.return_pct)}, excess ${pct(r.excess_return_pct)})`,
    `  PnL               realized ${usd(r.realized_pnl_usd, true)}   open at the end ${usd(r.unrealized_pnl_usd, true)}   total ${usd(r.total_pnl_usd, true)}`,
    `  trades            ${r.trades} round trips, ${r.wins} won, ${r.losses} lost, win rate ${r.win_rate === null ? "-" : `${(r.win_rate * 100).toFixed(1)}%`}`,
    `  profit factor     ${pf}`,
    `  max drawdown      ${usd(dd.usd)} (${num(dd.pct)}%)${dd.peak_at ? `  peak ${when(dd.peak_at)} → trough ${when(dd.trough_at)}, ${dd.recovered_at ? `recovered ${when(dd.recovered_at)}` : "not recovered"}` : ""}`,
    `  Sharpe / Sortino  ${num(r.sharpe)} / ${num(r.sortino)}   (${r.daily_returns} daily returns, × √252, risk-free 0)`,
    `  avg holding time  ${holding(r.avg_holding_minutes)}          exposure ${num(r.exposure_pct, 1)}% of the period`,
    `  costs assumed     ${r.costs.broker === "sim" ? `slippage ${r.costs.slippage_bps} bps (≈ ${usd(r.costs.slippage_usd_est)} on ${usd(r.costs.volume_usd)} traded)` : "as filled by the broker"}, commission ${usd(r.costs.commission_usd)}`,
    `  benchmark         ${r.benchmark.kind}`,
  ];
  if (r.by_symbol.length) {
    lines.push(rule, `  ${"symbol".padEnd(8)}${"trades".padStart(7)}${"won".padStart(5)}${"realized".padStart(14)}${"open".padStart(12)}${"buy&hold".padStart(11)}`);
    for (const s of r.by_symbol)
      lines.push(`  ${s.symbol.padEnd(8)}${String(s.trades).padStart(7)}${String(s.wins).padStart(5)}${usd(s.realized_pnl_usd, true).padStart(14)}${usd(s.unrealized_pnl_usd, true).padStart(12)}${pct(s.buy_and_hold_return_pct).padStart(11)}`);
  }
  if (r.hints.length) lines.push(rule, ...r.hints.map((h) => `  - ${h}`));
  return lines.join("\n");
}

const res = (r: BacktestRunRow) => r.results as unknown as BacktestResults;

/** `awet runs list`: newest first. Pure. */
export function renderRunList(rows: BacktestRunRow[]): string {
  if (rows.length === 0) return "no runs stored yet: `awet replay PATH...` stores one";
  const head = `${"run".padEnd(10)}${"started (UTC)".padEnd(18)}${"label".padEnd(18)}${"symbols".padEnd(20)}${"return".padStart(9)}${"b&h".padStart(9)}${"trades".padStart(7)}${"max dd".padStart(8)}${"sharpe".padStart(8)}`;
  const body = rows.map((r) => {
    const x = res(r);
    const sy = r.symbols.join(",");
    return `${r.id.padEnd(10)}${new Date(r.started_at).toISOString().slice(0, 16).replace("T", " ").padEnd(18)}${(r.label ?? "-").slice(0, 17).padEnd(18)}${(sy.length > 19 ? sy.slice(0, 18) + "…" : sy).padEnd(20)}${pct(x.return_pct).padStart(9)}${pct(x.benchmark?.return_pct).padStart(9)}${String(x.trades).padStart(7)}${`${num(x.max_drawdown?.pct, 2)}%`.padStart(8)}${num(x.sharpe).padStart(8)}`;
  });
  return [head, "─".repeat(head.length), ...body].join("\n");
}

/** `awet runs show RUN`: what was replayed, under what, and the results. Pure. */
export function renderRun(r: BacktestRunRow): string {
  const lines = [
    `Run ${r.id}${r.label ? `  "${r.label}"` : ""}`,
    `  started      ${new Date(r.started_at).toISOString()}   finished ${new Date(r.finished_at).toISOString()} (${((r.finished_at - r.started_at) / 1000).toFixed(1)} s)`,
    `  symbols      ${r.symbols.join(", ")}`,
    `  range        ${r.range_from ?? "start of the files"} … ${r.range_to ?? "end of the files"}`,
    `  code         ${r.code_version}`,
    `  config       sha256 ${r.config_hash.slice(0, 16)}…  (\`awet runs show ${r.id} --json\` has every key)`,
    `  data files`,
    ...r.data_files.map((f) => `    ${f.sha256.slice(0, 12)}  ${f.bytes.toLocaleString("en-US").padStart(11)} B  ${f.path}`),
    `  bars         ${Number(r.summary.bars_processed ?? 0).toLocaleString("en-US")} processed, ${Number(r.summary.bars_rejected ?? 0).toLocaleString("en-US")} rejected; orders ${r.summary.orders_submitted ?? 0} submitted, ${r.summary.orders_blocked ?? 0} blocked; fills ${r.summary.fills ?? 0}`,
    "",
    renderResults(res(r)),
  ];
  return lines.join("\n");
}

function flat(o: unknown, prefix = "", out: Record<string, unknown> = {}): Record<string, unknown> {
  if (o && typeof o === "object" && !Array.isArray(o)) for (const [k, v] of Object.entries(o)) flat(v, prefix ? `${prefix}.${k}` : k, out);
  else out[prefix] = o;
  return out;
}

export interface RunComparison {
  a: string;
  b: string;
  config_differences: { key: string; a: unknown; b: unknown }[];
  data_same: boolean;
  data_differences: { a: string[]; b: string[] };
  results: { figure: string; a: number | null; b: number | null; diff: number | null }[];
}

/** Decimals to show a figure with. */
const DECIMALS: Record<string, number> = { trades: 0, ending_equity_usd: 2, realized_pnl_usd: 2, unrealized_pnl_usd: 2, max_drawdown_usd: 2, avg_holding_minutes: 1 };

const FIGURES: [string, (r: BacktestResults) => number | null][] = [
  ["return_pct", (r) => r.return_pct],
  ["benchmark_return_pct", (r) => r.benchmark?.return_pct ?? null],
  ["excess_return_pct", (r) => r.excess_return_pct],
  ["ending_equity_usd", (r) => r.ending_equity_usd],
  ["realized_pnl_usd", (r) => r.realized_pnl_usd],
  ["unrealized_pnl_usd", (r) => r.unrealized_pnl_usd],
  ["trades", (r) => r.trades],
  ["win_rate", (r) => r.win_rate],
  ["profit_factor", (r) => r.profit_factor],
  ["max_drawdown_usd", (r) => r.max_drawdown?.usd ?? null],
  ["max_drawdown_pct", (r) => r.max_drawdown?.pct ?? null],
  ["sharpe", (r) => r.sharpe],
  ["sortino", (r) => r.sortino],
  ["avg_holding_minutes", (r) => r.avg_holding_minutes],
  ["exposure_pct", (r) => r.exposure_pct],
];

/** Config keys that differ and the results side by side (b − a). Pure. */
export function compareRuns(a: BacktestRunRow, b: BacktestRunRow): RunComparison {
  const fa = flat(a.config), fb = flat(b.config);
  const keys = [...new Set([...Object.keys(fa), ...Object.keys(fb)])].sort();
  const config_differences = keys.filter((k) => JSON.stringify(fa[k]) !== JSON.stringify(fb[k])).map((k) => ({ key: k, a: fa[k], b: fb[k] }));
  if (JSON.stringify(a.symbols) !== JSON.stringify(b.symbols)) config_differences.unshift({ key: "replay.symbols", a: a.symbols, b: b.symbols });
  if (a.range_from !== b.range_from || a.range_to !== b.range_to) config_differences.unshift({ key: "replay.range", a: [a.range_from, a.range_to], b: [b.range_from, b.range_to] });
  const ha = a.data_files.map((f) => f.sha256), hb = b.data_files.map((f) => f.sha256);
  const results = FIGURES.map(([figure, f]) => {
    const x = f(res(a)), y = f(res(b));
    return { figure, a: x, b: y, diff: x === null || y === null ? null : Math.round((y - x) * 10_000) / 10_000 };
  });
  return {
    a: a.id, b: b.id, config_differences, data_same: JSON.stringify([...ha].sort()) === JSON.stringify([...hb].sort()),
    data_differences: { a: a.data_files.filter((f) => !hb.includes(f.sha256)).map((f) => f.path), b: b.data_files.filter((f) => !ha.includes(f.sha256)).map((f) => f.path) },
    results,
  };
}

export function renderComparison(c: RunComparison, a: BacktestRunRow, b: BacktestRunRow): string {
  const show = (v: unknown) => (v === undefined ? "(absent)" : typeof v === "string" ? v : JSON.stringify(v));
  const w = 30;
  const lines = [
    `${"".padEnd(24)}${`A ${a.id}${a.label ? ` "${a.label}"` : ""}`.slice(0, w - 1).padEnd(w)}${`B ${b.id}${b.label ? ` "${b.label}"` : ""}`.slice(0, w - 1).padEnd(w)}`,
    "Config differences",
    ...(c.config_differences.length ? c.config_differences.map((d) => `  ${d.key.padEnd(22)}${show(d.a).slice(0, w - 1).padEnd(w)}${show(d.b).slice(0, w - 1)}`) : ["  (none: same config hash " + a.config_hash.slice(0, 12) + ")"]),
    `Data: ${c.data_same ? "the same files (by sha256)" : `different files — only in A: ${c.data_differences.a.join(", ") || "-"}; only in B: ${c.data_differences.b.join(", ") || "-"}`}`,
    "Results",
    `  ${"figure".padEnd(22)}${"A".padStart(14)}${"B".padStart(14)}${"B − A".padStart(14)}`,
    ...c.results.map((r) => {
      const d = DECIMALS[r.figure] ?? 4;
      return `  ${r.figure.padEnd(22)}${num(r.a, d).padStart(14)}${num(r.b, d).padStart(14)}${(r.diff === null ? "-" : `${r.diff > 0 ? "+" : ""}${r.diff.toFixed(d)}`).padStart(14)}`;
    }),
  ];
  return lines.join("\n");
}
