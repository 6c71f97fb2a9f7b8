import { computePnl, type Mark, type PnlFill } from "./pnl";

export interface EquityPoint {
  ts: number;
  realized_pnl_usd: number;
  unrealized_pnl_usd: number;
  total_pnl_usd: number;
}

/**
 * The PnL curve of a period: the FIFO report of `computePnl` (the same numbers as `awet pnl`)
 * evaluated at up to `maxPoints` times in [from, to] — every fill time first, then evenly spaced
 * mark times. Marks of symbols that never filled are left out: they cannot move the curve. Pure.
 */
export function equityCurve(fills: PnlFill[], marks: Mark[], from: number, to: number, maxPoints = 150): EquityPoint[] {
  const traded = new Set(fills.filter((f) => f.ts <= to).map((f) => f.symbol));
  if (traded.size === 0 || to < from) return [];
  const ms = marks.filter((m) => traded.has(m.symbol) && m.ts <= to);
  const fillTimes = [...new Set(fills.filter((f) => f.ts >= from && f.ts <= to).map((f) => f.ts))].sort((a, b) => a - b);
  const markTimes = [...new Set(ms.filter((m) => m.ts >= from).map((m) => m.ts))].sort((a, b) => a - b);
  const times = new Set<number>(evenly(fillTimes, maxPoints));
  for (const t of evenly(markTimes, Math.max(0, maxPoints - times.size))) times.add(t);
  times.add(Math.max(from, Math.min(to, markTimes[markTimes.length - 1] ?? fillTimes[fillTimes.length - 1] ?? from)));
  return [...times].sort((a, b) => a - b).map((t) => {
    const r = computePnl(fills, ms, { from, to: t });
    return { ts: t, realized_pnl_usd: r.realized_pnl_usd, unrealized_pnl_usd: r.unrealized_pnl_usd, total_pnl_usd: r.total_pnl_usd };
  });
}

/** At most n items of a sorted list, evenly spaced, always keeping the last. */
function evenly<T>(xs: T[], n: number): T[] {
  if (n <= 0) return [];
  if (xs.length <= n) return xs;
  const out: T[] = [];
  for (let i = 1; i <= n; i++) out.push(xs[Math.round((i * xs.length) / n) - 1]!);
  return out;
}
