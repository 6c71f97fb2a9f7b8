import { fromMicros, toMicros } from "../core/money";
import { nyDate } from "../core/time";
import { FifoLots } from "../portfolio/fifo";

/** One fill (an execution at the broker), the unit of PnL. */
export interface PnlFill {
  symbol: string;
  side: "buy" | "sell";
  qty: number;
  price: number;
  ts: number;
  trade_id?: number;
}

export interface Mark {
  symbol: string;
  price: number;
  ts: number;
}

export interface RoundTrip {
  symbol: string;
  qty: number;
  entry_price: number; // volume-weighted over the matched lots
  exit_price: number;
  pnl_usd: number;
  opened_at: number;
  closed_at: number;
  trade_id?: number;
}

export interface OpenLot {
  symbol: string;
  qty: number;
  price: number;
  ts: number;
}

export interface PnlError {
  symbol: string;
  trade_id?: number;
  ts: number;
  excess_qty: number;
  message: string;
}

export interface SymbolPnl {
  symbol: string;
  realized_pnl_usd: number;
  unrealized_pnl_usd: number;
  total_pnl_usd: number;
}

export interface PnlReport {
  report_date: string | null;
  realized_pnl_usd: number;
  unrealized_pnl_usd: number;
  total_pnl_usd: number;
  win_rate: number | null;
  wins: number;
  losses: number;
  avg_win_usd: number | null;
  avg_loss_usd: number | null;
  max_drawdown_usd: number;
  best_symbol: string | null;
  best_symbol_pnl_usd: number | null;
  worst_symbol: string | null;
  worst_symbol_pnl_usd: number | null;
  num_trades: number;
  num_buys: number;
  num_sells: number;
  volume_usd: number;
  by_symbol: SymbolPnl[];
  round_trips: RoundTrip[];
  open_lots: OpenLot[];
  errors: PnlError[];
  hints: string[];
  /** With `curve: true`: realized + unrealized PnL after each distinct time of a fill or mark. */
  equity_curve?: { ts: number; pnl_usd: number }[];
}

export interface PnlOptions {
  /** Only closings at or after this time count as realized, and only fills from it count as trades. */
  from?: number;
  /** Fills and marks after this are ignored. */
  to?: number;
  reportDate?: string | null;
  /** For the "why is my PnL $0" hints. */
  unfilledOrders?: number;
  marketClosed?: boolean;
  /** Also return the PnL curve the drawdown is measured on (for backtest reports and plots). */
  curve?: boolean;
}

/**
 * FIFO round-trip PnL over fills (runbook 11), exact in integer micro-dollars. Pure.
 * Fills before `from` build the opening inventory; realized PnL counts closings in [from, to];
 * unrealized values every open lot at the latest mark (or fill price) at `to`. A sell larger than
 * the open lots is reported in `errors` and its excess is not matched. The equity curve for the
 * drawdown is realized-so-far + unrealized, evaluated in time order over fills and marks.
 */
export function computePnl(fillsIn: PnlFill[], marksIn: Mark[], o: PnlOptions = {}): PnlReport {
  const from = o.from ?? -Infinity;
  const to = o.to ?? Infinity;
  const fills = fillsIn.filter((f) => f.ts <= to && f.qty > 0).map((f, i) => ({ ...f, i })).sort((a, b) => a.ts - b.ts || a.i - b.i);
  const marks = marksIn.filter((m) => m.ts <= to).sort((a, b) => a.ts - b.ts);
  const book = new FifoLots();
  const lots = book.lots;
  const last = new Map<string, number>(); // latest price in micros
  const realizedBy = new Map<string, number>(); // micros
  const trips: RoundTrip[] = [];
  const errors: PnlError[] = [];
  let realized = 0;
  let nTrades = 0, nBuys = 0, nSells = 0, volume = 0;
  let peak = -Infinity, maxDd = 0;
  const curve: { ts: number; pnl_usd: number }[] | undefined = o.curve ? [] : undefined;

  const unrealizedM = () => {
    let u = 0;
    for (const s of lots.keys()) u += book.unrealizedM(s, last.get(s));
    return u;
  };
  const sample = (t: number) => {
    if (t < from) return;
    const eq = realized + unrealizedM();
    if (eq > peak) peak = eq;
    maxDd = Math.max(maxDd, peak - eq);
    if (curve) {
      const lastPt = curve[curve.length - 1];
      if (lastPt && lastPt.ts === t) lastPt.pnl_usd = fromMicros(eq);
      else curve.push({ ts: t, pnl_usd: fromMicros(eq) });
    }
  };

  // Walk fills and marks together in time order (a fill before a mark at the same time).
  let mi = 0;
  const applyMarksUntil = (t: number, inclusive: boolean) => {
    while (mi < marks.length && (inclusive ? marks[mi]!.ts <= t : marks[mi]!.ts < t)) {
      const m = marks[mi++]!;
      last.set(m.symbol, toMicros(m.price));
      sample(m.ts);
    }
  };
  if (Number.isFinite(from)) {
    // the curve starts at the opening position
  }
  for (const f of fills) {
    applyMarksUntil(f.ts, false);
    const pM = toMicros(f.price);
    last.set(f.symbol, pM);
    const inWindow = f.ts >= from;
    if (inWindow) {
      nTrades++;
      volume += Math.round(pM * f.qty);
      if (f.side === "buy") nBuys++;
      else nSells++;
    }
    if (f.side === "buy") {
      book.buy(f.symbol, f.qty, pM, f.ts);
    } else {
      const { matched, costM, pnlM, opened, excess } = book.sell(f.symbol, f.qty, pM, f.ts);
      if (excess > 0) errors.push({ symbol: f.symbol, trade_id: f.trade_id, ts: f.ts, excess_qty: excess, message: `sell of ${f.qty} ${f.symbol} exceeds the open lots by ${excess}; the excess is not matched` });
      if (matched > 0 && inWindow) {
        realized += pnlM;
        realizedBy.set(f.symbol, (realizedBy.get(f.symbol) ?? 0) + pnlM);
        trips.push({ symbol: f.symbol, qty: matched, entry_price: fromMicros(Math.round(costM / matched)), exit_price: f.price, pnl_usd: fromMicros(pnlM), opened_at: opened, closed_at: f.ts, trade_id: f.trade_id });
      }
    }
    sample(f.ts);
  }
  applyMarksUntil(Infinity, true);

  const openLots: OpenLot[] = [];
  const unrealBy = new Map<string, number>();
  for (const [s, ls] of lots)
    for (const l of ls) {
      openLots.push({ symbol: s, qty: l.qty, price: fromMicros(l.priceM), ts: l.ts });
      const p = last.get(s) ?? l.priceM;
      unrealBy.set(s, (unrealBy.get(s) ?? 0) + Math.round((p - l.priceM) * l.qty));
    }
  const unrealized = [...unrealBy.values()].reduce((a, b) => a + b, 0);
  const symbols = new Set([...realizedBy.keys(), ...unrealBy.keys()]);
  const bySymbol = [...symbols].sort().map((s) => {
    const r = realizedBy.get(s) ?? 0, u = unrealBy.get(s) ?? 0;
    return { symbol: s, realized_pnl_usd: fromMicros(r), unrealized_pnl_usd: fromMicros(u), total_pnl_usd: fromMicros(r + u) };
  });
  const ranked = [...bySymbol].sort((a, b) => b.total_pnl_usd - a.total_pnl_usd || a.symbol.localeCompare(b.symbol));
  const winsT = trips.filter((t) => t.pnl_usd > 0);
  const lossT = trips.filter((t) => t.pnl_usd < 0);
  const avgM = (xs: RoundTrip[]) => (xs.length ? fromMicros(Math.round(xs.reduce((a, t) => a + toMicros(t.pnl_usd), 0) / xs.length)) : null);
  const report: PnlReport = {
    report_date: o.reportDate ?? null,
    realized_pnl_usd: fromMicros(realized),
    unrealized_pnl_usd: fromMicros(unrealized),
    total_pnl_usd: fromMicros(realized + unrealized),
    win_rate: trips.length ? winsT.length / trips.length : null,
    wins: winsT.length,
    losses: lossT.length,
    avg_win_usd: avgM(winsT),
    avg_loss_usd: avgM(lossT),
    max_drawdown_usd: fromMicros(maxDd),
    best_symbol: ranked[0]?.symbol ?? null,
    best_symbol_pnl_usd: ranked[0]?.total_pnl_usd ?? null,
    worst_symbol: ranked.length ? ranked[ranked.length - 1]!.symbol : null,
    worst_symbol_pnl_usd: ranked.length ? ranked[ranked.length - 1]!.total_pnl_usd : null,
    num_trades: nTrades,
    num_buys: nBuys,
    num_sells: nSells,
    volume_usd: fromMicros(volume),
    by_symbol: bySymbol,
    round_trips: trips,
    open_lots: openLots,
    errors,
    hints: [],
  };
  report.hints = pnlHints(report, o);
  if (curve) report.equity_curve = curve;
  return report;
}

/** The runbook's "Why is my PnL $0" causes, named. Pure. */
export function pnlHints(r: PnlReport, o: PnlOptions): string[] {
  const h: string[] = [];
  if (r.num_trades === 0 && (o.unfilledOrders ?? 0) > 0) h.push(`no fills yet: ${o.unfilledOrders} order(s) still accepted/submitted without fill info — run \`awet reconcile --once\`, then \`awet pnl today\``);
  else if (r.num_trades === 0) h.push("no fills in this period: nothing was bought or sold");
  if (r.num_trades > 0 && r.round_trips.length === 0) h.push("no round trips: only buys so far, so PnL is unrealized");
  if (o.marketClosed && r.num_trades === 0) h.push("market closed: orders do not fill outside market hours");
  if (r.errors.length) h.push(`${r.errors.length} sell(s) larger than the open lots — the positions or fills are incomplete; reconcile positions`);
  return h;
}

/** Trade rows (the store's) to fills: rows that filled, at their average fill price and fill time. */
export function fillsFromTrades(rows: { id: number; symbol: string; side: "buy" | "sell"; status: string; filled_qty: number; avg_fill_price: number | null; filled_at: number | null }[]): PnlFill[] {
  return rows
    .filter((r) => (r.status === "filled" || r.status === "partially_filled") && r.filled_qty > 0 && r.avg_fill_price !== null && r.filled_at !== null)
    .map((r) => ({ symbol: r.symbol, side: r.side, qty: r.filled_qty, price: r.avg_fill_price!, ts: r.filled_at!, trade_id: r.id }));
}

/** The report of one New York trading day: fills before it are the opening inventory. Pure. */
export function dailyPnl(fills: PnlFill[], marks: Mark[], date: string, dayStart: number, dayEnd: number, o: Omit<PnlOptions, "from" | "to" | "reportDate"> = {}): PnlReport {
  return computePnl(fills.filter((f) => f.ts < dayEnd), marks.filter((m) => m.ts < dayEnd), { ...o, from: dayStart, to: dayEnd - 1, reportDate: date });
}

export function nyDayOf(ts: number): string {
  return nyDate(ts);
}
