import { fromMicros, toMicros } from "../core/money";
import { nyDate } from "../core/time";
import { computePnl, type Mark, type PnlFill, type RoundTrip } from "./pnl";

/** Trading days a year: daily Sharpe and Sortino are multiplied by √252. */
export const TRADING_DAYS_PER_YEAR = 252;
/** At most this many points of the equity curve are kept in a result (the drawdown uses all). */
export const CURVE_MAX_POINTS = 600;

export interface BacktestCosts {
  /** Which broker filled: "sim" (fills at the next bar's open ± slippage) or "alpaca". */
  broker: string;
  /** Commission per order; the simulated broker and Alpaca's paper API charge none. */
  commission_per_order_usd: number;
  /** Slippage the simulated broker applies against every fill (sim_slippage_bps). */
  slippage_bps: number;
}

export interface BacktestInput {
  fills: PnlFill[];
  /** Bar closes of the run's symbols in the period (any order). */
  marks: Mark[];
  symbols: string[];
  starting_equity_usd: number;
  /** Time of the first and the last bar replayed (ms). */
  period: { from: number; to: number };
  costs: BacktestCosts;
}

export interface CurvePoint {
  ts: number;
  equity_usd: number;
  benchmark_usd: number;
}

export interface SymbolResult {
  symbol: string;
  trades: number;
  wins: number;
  realized_pnl_usd: number;
  unrealized_pnl_usd: number;
  buy_and_hold_return_pct: number | null;
}

export interface BacktestResults {
  period: { from: string; to: string; trading_days: number };
  starting_equity_usd: number;
  ending_equity_usd: number;
  return_pct: number;
  trades: number;
  wins: number;
  losses: number;
  /** wins / trades (0..1), as in `awet pnl`; null without a round trip. */
  win_rate: number | null;
  realized_pnl_usd: number;
  /** Positions still open at the last bar, at its close. */
  unrealized_pnl_usd: number;
  total_pnl_usd: number;
  by_symbol: SymbolResult[];
  max_drawdown: { usd: number; pct: number; peak_at: string | null; trough_at: string | null; recovered_at: string | null };
  sharpe: number | null;
  sortino: number | null;
  /** How Sharpe and Sortino are computed. */
  ratio_basis: string;
  daily_returns: number;
  /** Gross profit / gross loss of the round trips; null when there is no losing trade. */
  profit_factor: number | null;
  avg_holding_minutes: number | null;
  /** Share of the period's clock time with at least one position open, in percent. */
  exposure_pct: number;
  costs: BacktestCosts & { commission_usd: number; slippage_usd_est: number; volume_usd: number };
  benchmark: { kind: string; return_pct: number | null; ending_equity_usd: number | null };
  /** Strategy return minus the benchmark's, in percentage points. */
  excess_return_pct: number | null;
  hints: string[];
  equity_curve: CurvePoint[];
}

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
const r2 = (x: number) => Math.round(x * 100) / 100;
const r4 = (x: number) => Math.round(x * 10_000) / 10_000;

/** Mean and sample standard deviation (n-1). */
function meanSd(xs: number[]): { mean: number; sd: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const v = xs.length > 1 ? xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1) : 0;
  return { mean, sd: Math.sqrt(v) };
}

/** Daily Sharpe × √252 (risk-free 0, sample standard deviation); null under 2 days or no variation. */
export function sharpeRatio(daily: number[], perYear = TRADING_DAYS_PER_YEAR): number | null {
  if (daily.length < 2) return null;
  const { mean, sd } = meanSd(daily);
  return sd > 0 ? (mean / sd) * Math.sqrt(perYear) : null;
}

/** Daily Sortino × √252: mean over the downside deviation √(Σ min(r,0)² / n), target 0. */
export function sortinoRatio(daily: number[], perYear = TRADING_DAYS_PER_YEAR): number | null {
  if (daily.length < 2) return null;
  const mean = daily.reduce((a, b) => a + b, 0) / daily.length;
  const dd = Math.sqrt(daily.reduce((a, r) => a + Math.min(r, 0) ** 2, 0) / daily.length);
  return dd > 0 ? (mean / dd) * Math.sqrt(perYear) : null;
}

/** Largest fall from a running peak, with when the peak and the trough were and when it recovered. */
export function maxDrawdown(curve: { ts: number; v: number }[]): { usd: number; pct: number; peakAt: number | null; troughAt: number | null; recoveredAt: number | null } {
  let peak = -Infinity, peakAt: number | null = null;
  let best = { usd: 0, pct: 0, peakAt: null as number | null, troughAt: null as number | null, peakV: 0 };
  for (const p of curve) {
    if (p.v > peak) (peak = p.v), (peakAt = p.ts);
    const dd = peak - p.v;
    if (dd > best.usd) best = { usd: dd, pct: peak > 0 ? dd / peak : 0, peakAt, troughAt: p.ts, peakV: peak };
  }
  const trough = best.troughAt;
  const recoveredAt = trough === null ? null : (curve.find((p) => p.ts > trough && p.v >= best.peakV)?.ts ?? null);
  return { usd: best.usd, pct: best.pct, peakAt: best.peakAt, troughAt: best.troughAt, recoveredAt };
}

/** Returns of each New York trading day's last value against the day before (the first against `start`). */
export function dailyReturns(curve: { ts: number; v: number }[], start: number): number[] {
  const closes: number[] = [];
  let day: string | null = null;
  for (const p of curve) {
    const d = nyDate(p.ts);
    if (d === day) closes[closes.length - 1] = p.v;
    else (closes.push(p.v), (day = d));
  }
  const out: number[] = [];
  let prev = start;
  for (const c of closes) {
    out.push(prev > 0 ? c / prev - 1 : 0);
    prev = c;
  }
  return out;
}

/** Length of the union of [start, end] intervals. */
export function unionLength(iv: [number, number][]): number {
  const s = iv.filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  let total = 0, curA = -Infinity, curB = -Infinity;
  for (const [a, b] of s) {
    if (a > curB) {
      if (curB > curA) total += curB - curA;
      (curA = a), (curB = b);
    } else curB = Math.max(curB, b);
  }
  if (curB > curA) total += curB - curA;
  return total;
}

/** Keep at most `max` points: per bucket the lowest and the last, so dips survive. */
export function thinCurve<T extends { ts: number; equity_usd: number }>(pts: T[], max = CURVE_MAX_POINTS): T[] {
  if (pts.length <= max) return pts;
  const buckets = Math.floor(max / 2);
  const size = pts.length / buckets;
  const out: T[] = [];
  for (let b = 0; b < buckets; b++) {
    const part = pts.slice(Math.floor(b * size), Math.floor((b + 1) * size));
    if (part.length === 0) continue;
    const low = part.reduce((m, p) => (p.equity_usd < m.equity_usd ? p : m), part[0]!);
    const last = part[part.length - 1]!;
    if (low !== last) out.push(low);
    out.push(last);
  }
  if (out[0] !== pts[0]) out.unshift(pts[0]!);
  return out;
}

/**
 * The results of one replay as a backtest (Freqtrade's backtesting report): round trips, win rate,
 * realized PnL in total and per symbol (FIFO, the same computePnl as `awet pnl`), return on the
 * starting equity, max drawdown with its dates, Sharpe and Sortino on daily returns (× √252,
 * risk-free 0), profit factor, average holding time, exposure, the costs assumed, and an
 * equal-weight buy-and-hold of the same symbols over the same period as the benchmark. Pure.
 */
export function computeBacktest(inp: BacktestInput): BacktestResults {
  const start = inp.starting_equity_usd;
  const symbols = new Set(inp.symbols);
  const marks = inp.marks.filter((m) => symbols.has(m.symbol) && m.ts >= inp.period.from && m.ts <= inp.period.to).sort((a, b) => a.ts - b.ts);
  const pnl = computePnl(inp.fills, marks, { to: inp.period.to, curve: true });
  const trips: RoundTrip[] = pnl.round_trips;

  // Benchmark: each symbol bought at its first close, held to its last; equal weights.
  const first = new Map<string, number>(), last = new Map<string, number>();
  for (const m of marks) {
    if (!first.has(m.symbol)) first.set(m.symbol, m.price);
    last.set(m.symbol, m.price);
  }
  const benchSyms = [...symbols].filter((s) => first.has(s));
  const benchAt = (prices: Map<string, number>) =>
    benchSyms.length ? (start * benchSyms.reduce((a, s) => a + (prices.get(s) ?? first.get(s)!) / first.get(s)!, 0)) / benchSyms.length : start;

  // The equity curve: the start, then after every fill or mark; the benchmark alongside.
  const pnlAt = pnl.equity_curve ?? [];
  const points: CurvePoint[] = [{ ts: inp.period.from, equity_usd: start, benchmark_usd: start }];
  const seen = new Map<string, number>();
  let mi = 0, ci = 0;
  const times = [...new Set([...marks.map((m) => m.ts), ...pnlAt.map((p) => p.ts)])].sort((a, b) => a - b);
  let pnlNow = 0;
  for (const t of times) {
    while (mi < marks.length && marks[mi]!.ts <= t) (seen.set(marks[mi]!.symbol, marks[mi]!.price), mi++);
    while (ci < pnlAt.length && pnlAt[ci]!.ts <= t) (pnlNow = pnlAt[ci]!.pnl_usd), ci++;
    const p = { ts: t, equity_usd: r2(start + pnlNow), benchmark_usd: r2(benchAt(seen)) };
    if (points[points.length - 1]!.ts === t) points[points.length - 1] = p;
    else points.push(p);
  }
  const curve = points.map((p) => ({ ts: p.ts, v: p.equity_usd }));
  const dd = maxDrawdown(curve);
  const daily = dailyReturns(curve, start);
  const ending = r2(start + pnl.total_pnl_usd);

  const grossWin = trips.filter((t) => t.pnl_usd > 0).reduce((a, t) => a + toMicros(t.pnl_usd), 0);
  const grossLoss = -trips.filter((t) => t.pnl_usd < 0).reduce((a, t) => a + toMicros(t.pnl_usd), 0);
  const span = inp.period.to - inp.period.from;
  const held: [number, number][] = [
    ...trips.map((t) => [t.opened_at, t.closed_at] as [number, number]),
    ...pnl.open_lots.map((l) => [l.ts, inp.period.to] as [number, number]),
  ];
  const volumeM = inp.fills.filter((f) => f.ts <= inp.period.to).reduce((a, f) => a + Math.round(toMicros(f.price) * f.qty), 0);
  const bySymbol: SymbolResult[] = [...new Set([...symbols, ...pnl.by_symbol.map((b) => b.symbol)])].sort().map((s) => {
    const b = pnl.by_symbol.find((x) => x.symbol === s);
    const ts = trips.filter((t) => t.symbol === s);
    const f = first.get(s), l = last.get(s);
    return {
      symbol: s, trades: ts.length, wins: ts.filter((t) => t.pnl_usd > 0).length,
      realized_pnl_usd: b?.realized_pnl_usd ?? 0, unrealized_pnl_usd: b?.unrealized_pnl_usd ?? 0,
      buy_and_hold_return_pct: f !== undefined && l !== undefined ? r4((l / f - 1) * 100) : null,
    };
  });
  const benchEnd = benchSyms.length ? r2(benchAt(last)) : null;
  const ret = r4(((ending - start) / start) * 100);
  const benchRet = benchEnd === null ? null : r4(((benchEnd - start) / start) * 100);
  const hints = [...pnl.errors.map((e) => e.message)];
  if (inp.fills.length === 0) hints.push("no fills: nothing was bought or sold, so every figure is flat");

  return {
    period: { from: iso(inp.period.from)!, to: iso(inp.period.to)!, trading_days: new Set(marks.map((m) => nyDate(m.ts))).size },
    starting_equity_usd: start,
    ending_equity_usd: ending,
    return_pct: ret,
    trades: trips.length,
    wins: pnl.wins,
    losses: pnl.losses,
    win_rate: pnl.win_rate,
    realized_pnl_usd: pnl.realized_pnl_usd,
    unrealized_pnl_usd: pnl.unrealized_pnl_usd,
    total_pnl_usd: pnl.total_pnl_usd,
    by_symbol: bySymbol,
    max_drawdown: { usd: r2(dd.usd), pct: r4(dd.pct * 100), peak_at: iso(dd.peakAt), trough_at: iso(dd.troughAt), recovered_at: iso(dd.recoveredAt) },
    sharpe: nullable(sharpeRatio(daily), r4),
    sortino: nullable(sortinoRatio(daily), r4),
    ratio_basis: `daily returns of the equity at each New York trading day's last bar, risk-free rate 0, annualised × √${TRADING_DAYS_PER_YEAR}`,
    daily_returns: daily.length,
    profit_factor: grossLoss > 0 ? r4(grossWin / grossLoss) : null,
    avg_holding_minutes: trips.length ? r2(trips.reduce((a, t) => a + (t.closed_at - t.opened_at), 0) / trips.length / 60_000) : null,
    exposure_pct: span > 0 ? r2((unionLength(held) / span) * 100) : 0,
    costs: {
      ...inp.costs,
      commission_usd: r2(inp.costs.commission_per_order_usd * inp.fills.length),
      slippage_usd_est: inp.costs.broker === "sim" ? r2(fromMicros(volumeM) * (inp.costs.slippage_bps / 10_000)) : 0,
      volume_usd: fromMicros(volumeM),
    },
    benchmark: { kind: `buy and hold ${benchSyms.join(", ") || "-"}, equal weights, first close to last close, no costs`, return_pct: benchRet, ending_equity_usd: benchEnd },
    excess_return_pct: benchRet === null ? null : r4(ret - benchRet),
    hints,
    equity_curve: thinCurve(points),
  };
}

function nullable<T>(x: T | null, f: (v: T) => T): T | null {
  return x === null ? null : f(x);
}
