import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import type { RunSummary } from "../agents/supervisor";
import type { Settings } from "../config/load";
import { packageRoot } from "../config/paths";
import { UsageError } from "../core/errors";
import { nyDayStart } from "../core/time";
import { ReplaySource } from "../market/replay";
import { computeBacktest, type BacktestResults } from "../reports/backtest";
import { fillsFromTrades } from "../reports/pnl";
import type { BacktestRunRow, Store } from "../store/port";
import { VERSION } from "../version";
import { safeUrl } from "../core/url";

const TICKER = /^[A-Z][A-Z0-9.]{0,9}$/;
const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * A --from / --to value: YYYY-MM-DD is a New York trading date (--from: its midnight, --to: the
 * end of that day, inclusive); an ISO time with a zone is that instant.
 */
export function parseDateFlag(flag: "from" | "to", v: string): number {
  const d = DAY_RE.exec(v);
  if (d) {
    const noon = Date.UTC(Number(d[1]), Number(d[2]) - 1, Number(d[3]), 16);
    if (Number.isFinite(noon) && new Date(noon).toISOString().slice(0, 10) === v) return flag === "from" ? nyDayStart(noon) : nyDayStart(noon + 86_400_000) - 1;
  } else if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(v) && Number.isFinite(Date.parse(v))) return Date.parse(v);
  throw new UsageError(`--${flag} must be a date YYYY-MM-DD (New York) or an ISO time like 2013-10-07T13:30:00Z; got '${v}'`);
}

export interface ReplayPlan {
  src: ReplaySource;
  /** The symbols this replay trades: the files' own, or those of --symbols. */
  symbols: string[];
  /** Symbols with bars in the replayed range that are not traded (left out by --symbols). */
  leftOut: string[];
  /** First and last bar of the traded symbols in the range; null when the files hold no bar. */
  period: { from: number; to: number } | null;
  range: { from: string | null; to: string | null };
  symbolsFlag: string | null;
}


/**
 * Read the files and check the request before anything is written: an unknown --symbols entry,
 * --from after --to, or a range with no bars is a UsageError (exit 2) naming the value.
 */
export function planReplay(paths: string[], o: { from?: string; to?: string; symbols?: string; speed: number | "max"; factorDir?: string }): ReplayPlan {
  const from = o.from === undefined ? undefined : parseDateFlag("from", o.from);
  const to = o.to === undefined ? undefined : parseDateFlag("to", o.to);
  if (from !== undefined && to !== undefined && from > to) throw new UsageError(`--from ${o.from} is after --to ${o.to}`);
  let wanted: string[] | null = null;
  if (o.symbols !== undefined) {
    wanted = [...new Set(o.symbols.split(",").map((s) => s.trim()).filter(Boolean))];
    const bad = wanted.find((s) => !TICKER.test(s));
    if (bad !== undefined || wanted.length === 0) throw new UsageError(`--symbols: '${bad ?? o.symbols}' is not a ticker (upper case, like SPY; a list is comma-separated)`);
  }
  const src = new ReplaySource(paths, o.speed, undefined, o.factorDir, { from, to });
  if (wanted) {
    const unknown = wanted.filter((s) => !src.fileSymbols.includes(s));
    if (unknown.length) throw new UsageError(`--symbols: no bars of ${unknown.join(", ")} in the files (they hold ${src.fileSymbols.join(", ") || "no bars"})`);
  }
  const by = src.barsBySymbol();
  const inRange = [...by.keys()].filter((s) => TICKER.test(s)).sort();
  const symbols = wanted ?? inRange;
  const traded = symbols.map((s) => by.get(s)).filter((x) => x !== undefined);
  if ((from !== undefined || to !== undefined) && traded.length === 0) {
    const all = [...new Set(src.fileSymbols)];
    const what = wanted ? wanted.join(", ") : all.join(", ");
    throw new UsageError(`no bars of ${what} between ${o.from ?? "the start"} and ${o.to ?? "the end"} (--from/--to select nothing in the files)`);
  }
  const period = traded.length ? { from: Math.min(...traded.map((t) => t.first)), to: Math.max(...traded.map((t) => t.last)) } : null;
  return { src, symbols, leftOut: inRange.filter((s) => !symbols.includes(s)), period, range: { from: o.from ?? null, to: o.to ?? null }, symbolsFlag: o.symbols ?? null };
}

/** Each file's path, size and sha256. */
export function fileHashes(files: string[]): BacktestRunRow["data_files"] {
  return files.map((f) => ({ path: f, sha256: createHash("sha256").update(readFileSync(f)).digest("hex"), bytes: statSync(f).size }));
}

/** JSON with object keys sorted, so equal configs hash equal. */
export function canonicalJson(x: unknown): string {
  if (Array.isArray(x)) return `[${x.map(canonicalJson).join(",")}]`;
  if (x && typeof x === "object") return `{${Object.keys(x).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson((x as Record<string, unknown>)[k])}`).join(",")}}`;
  return JSON.stringify(x);
}

/** The settings a run used (app and llm keys) and the sha256 of their canonical JSON. */
export function effectiveConfig(s: Settings): { config: Record<string, unknown>; hash: string } {
  // Stored with the run and shown by `awet runs show`: the Ollama URL without its password.
  const config = { app: { ...s.app }, llm: { ...s.llm, base_url: safeUrl(s.llm.base_url) } };
  return { config, hash: createHash("sha256").update(canonicalJson(config)).digest("hex") };
}

/** The package version, plus the git commit (and "-dirty") when running from a checkout. */
export function codeVersion(): string {
  try {
    const p = Bun.spawnSync({ cmd: ["git", "describe", "--always", "--dirty", "--abbrev=12"], cwd: packageRoot(), stdout: "pipe", stderr: "ignore" });
    const g = p.exitCode === 0 ? p.stdout.toString().trim() : "";
    return g ? `${VERSION} (${g})` : VERSION;
  } catch {
    return VERSION;
  }
}

/** The backtest results of one finished run, from the store: its fills and its symbols' bar closes. */
export async function runResults(store: Store, runId: string, plan: ReplayPlan, s: Settings): Promise<BacktestResults> {
  const period = plan.period ?? { from: 0, to: 0 };
  const rows = plan.period ? (await store.placedTradesSince(period.from)).filter((r) => r.run_id === runId) : [];
  const want = new Set(plan.symbols);
  const marks = plan.period ? (await store.barCloses(period.from, period.to + 1)).filter((m) => want.has(m.symbol)) : [];
  return computeBacktest({
    fills: fillsFromTrades(rows), marks, symbols: plan.symbols, starting_equity_usd: s.app.sim_account_equity_usd, period,
    costs: { broker: s.app.broker, commission_per_order_usd: 0, slippage_bps: s.app.broker === "sim" ? s.app.sim_slippage_bps : 0 },
  });
}

/** Why a replay may have traded less than expected, and what to do about it. Pure. */
export function replayHints(summary: Pick<RunSummary, "rejected_by_reason" | "blocked_by_reason" | "fills">, plan: Pick<ReplayPlan, "leftOut" | "symbolsFlag" | "symbols">, home: string): string[] {
  const h: string[] = [];
  const unknown = summary.rejected_by_reason.unknown_symbol ?? 0;
  if (unknown > 0) {
    const who = plan.leftOut.length ? plan.leftOut.join(", ") : "other symbols";
    h.push(plan.symbolsFlag
      ? `${unknown.toLocaleString("en-US")} bars of ${who} rejected as unknown_symbol: not in --symbols ${plan.symbolsFlag}; add them (--symbols ${[...plan.symbols, ...plan.leftOut].join(",")}) or leave --symbols out to trade every symbol in the files`
      : `${unknown.toLocaleString("en-US")} bars rejected as unknown_symbol: their symbol is not an upper-case ticker, so the replay cannot trade it`);
  }
  const dry = summary.blocked_by_reason.dry_run ?? 0, na = summary.blocked_by_reason.not_approved ?? 0;
  if (summary.fills === 0 && dry > 0) h.push(`every order was blocked by execution_dry_run (the default), so the results are flat: \`awet paper on --home ${home}\` lets the simulated paper broker fill them`);
  else if (summary.fills === 0 && na > 0) h.push(`orders were blocked as not_approved: \`awet approve --home ${home}\` creates the approval file`);
  return h;
}
