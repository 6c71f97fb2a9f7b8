import type { BarDrivenBroker, Fill } from "../broker/port";
import { notional, round6, toMicros, fromMicros } from "../core/money";
import { nyDate, nyDayStart } from "../core/time";
import { deriveActivity, type Activity } from "../gates/activity";
import { fillsFromTrades } from "../reports/pnl";
import { OPEN_STATUSES, type NewTrade, type Position, type Store, type TradePatch, type TradeRow } from "../store/port";
import { applyFillToPosition, isOpenStatus, isPlacedStatus, mark, openSellQtyOf, orderStatsFrom } from "./book";
import { FifoLots } from "./fifo";

/** How far back placed orders are kept for the throttles and protections (PDT looks 5 business days back). */
export const PLACED_WINDOW_MS = 8 * 86_400_000;
/** Positions marked in memory are written to the store at most this often (wall ms), and at flush. */
export const MARK_PERSIST_MS = 1000;

/** What the gates need from the book for one intent. */
export interface BookFacts extends Activity {
  duplicate: boolean;
  ordersLastMinute: number;
  symbolOrdersToday: number;
  openOrders: number;
  lastSymbolOrderTs: number | null;
  positionQty: number;
  openSellQty: number;
  totalExposureUsd: number;
  symbolExposureUsd: number;
  lastPrice: number | null;
  dayPnlUsd: number;
}

/** The read side other agents use (the Exit agent in the same process). */
export interface PortfolioView {
  openPositions(): Position[];
  lastPrice(symbol: string): number | undefined;
  openSellQty(symbol: string): number;
}

/**
 * The book in memory: positions, open orders, the placed orders of the last days, FIFO lots and
 * the day's realized PnL, last prices. Restored from the store at start (and after a reconcile),
 * written through on every change — trade rows at once (the write-ahead row before any broker
 * call), marks at most once a second — so the order path builds its gate snapshot with no store
 * read. Only this process's writes are seen: another process that changes trades or positions
 * (a reconcile from the CLI) is picked up at the next `restore()`.
 */
export class Portfolio implements PortfolioView {
  private positions = new Map<string, Position>();
  private dirty = new Set<string>();
  private prices = new Map<string, number>();
  /** Placed rows (not blocked or rejected) with ts in the window, plus every open row; by id. */
  private rows = new Map<number, TradeRow>();
  private byKey = new Map<string, TradeRow>();
  /** Idempotency keys of every row this book has seen (bounded: oldest dropped past the cap). */
  private keys = new Set<string>();
  private fifo = new FifoLots();
  private realizedByDay = new Map<string, number>(); // NY date -> micro-dollars
  private restoring: Promise<void> | null = null;
  /** True once the book has been loaded (the hot path then needs no promise). */
  loaded = false;
  private lastPersist = 0;
  private horizon = -Infinity;

  constructor(
    private store: Store,
    private broker: BarDrivenBroker,
    private opts: { keyCapacity?: number } = {},
  ) {}

  /** Load the book from the store once (call `restore()` again to reload after outside changes). */
  ready(): Promise<void> {
    return (this.restoring ??= this.load());
  }

  /** For readers (the Exit agent): the book is live in memory, so only the first load is awaited. */
  refresh(): Promise<void> {
    return this.ready();
  }

  /** Reload everything from the store (after a reconcile, or any change made by another process). */
  async restore(): Promise<void> {
    this.restoring = this.load();
    await this.restoring;
  }

  private async load(): Promise<void> {
    await this.loadFromStore();
    this.loaded = true;
  }

  private async loadFromStore(): Promise<void> {
    const [positions, open, filled] = await Promise.all([
      this.store.positions(),
      this.openRows(),
      this.filledRows(),
    ]);
    this.positions = new Map(positions.map((p) => [p.symbol, p]));
    this.dirty.clear();
    // Last prices: each symbol's newest stored bar close, unless a position was marked later (a
    // broker's price at a reconcile); a closed position's last fill is not a last price.
    const latest = await this.store.latestBarTs();
    const at = new Map<string, number>();
    if (latest !== null)
      for (const c of await this.store.barCloses(latest - PLACED_WINDOW_MS, latest + 1)) {
        this.prices.set(c.symbol, c.price);
        at.set(c.symbol, c.ts);
      }
    for (const p of positions)
      if (p.qty !== 0 && p.last_price !== null && p.updated_at > (at.get(p.symbol) ?? -Infinity)) this.prices.set(p.symbol, p.last_price);
    // Placed orders of the window before the newest order (event time: a replay home's clock is
    // its data's), and every open order whatever its age.
    const newest = await this.store.listTrades({ limit: 1 });
    const since = newest.length ? newest[0]!.ts - PLACED_WINDOW_MS : 0;
    const placed = await this.store.placedTradesSince(since);
    this.rows.clear();
    this.byKey.clear();
    for (const r of [...placed, ...open]) this.track(r);
    this.fifo = new FifoLots();
    this.realizedByDay.clear();
    for (const f of fillsFromTrades(filled).sort((a, b) => a.ts - b.ts || (a.trade_id ?? 0) - (b.trade_id ?? 0))) this.bookFill(f.symbol, f.side, f.qty, f.price, f.ts);
  }

  private async openRows(): Promise<TradeRow[]> {
    const out: TradeRow[] = [];
    for (const status of OPEN_STATUSES) out.push(...(await this.store.listTrades({ status, limit: 1_000_000 })));
    return out;
  }

  private async filledRows(): Promise<TradeRow[]> {
    const out: TradeRow[] = [];
    for (const status of ["filled", "partially_filled"] as const) out.push(...(await this.store.listTrades({ status, limit: 10_000_000 })));
    return out;
  }

  private track(r: TradeRow): void {
    this.rememberKey(r.idempotency_key);
    if (!isPlacedStatus(r.status) && !isOpenStatus(r.status)) return;
    this.rows.set(r.id, r);
    this.byKey.set(r.idempotency_key, r);
  }

  private rememberKey(k: string): void {
    this.keys.add(k);
    const cap = this.opts.keyCapacity ?? 200_000;
    if (this.keys.size > cap) {
      // Drop the oldest tenth in one pass (Sets iterate in insertion order).
      let n = Math.ceil(cap / 10);
      for (const old of this.keys) {
        this.keys.delete(old);
        if (--n === 0) break;
      }
    }
  }

  private bookFill(symbol: string, side: "buy" | "sell", qty: number, price: number, ts: number): void {
    const pM = toMicros(price);
    if (side === "buy") this.fifo.buy(symbol, qty, pM, ts);
    else {
      const m = this.fifo.sell(symbol, qty, pM, ts);
      const day = nyDate(ts);
      this.realizedByDay.set(day, (this.realizedByDay.get(day) ?? 0) + m.pnlM);
    }
  }

  /** Drop placed rows older than the window (open rows stay). */
  private prune(now: number): void {
    const h = now - PLACED_WINDOW_MS;
    if (h <= this.horizon + 60_000) return; // at most once per minute of clock
    this.horizon = h;
    for (const [id, r] of this.rows)
      if (r.ts < h && !isOpenStatus(r.status)) {
        this.rows.delete(id);
        this.byKey.delete(r.idempotency_key);
      }
  }

  // --- reads ------------------------------------------------------------------------------

  position(symbol: string): Position | null {
    return this.positions.get(symbol) ?? null;
  }

  openPositions(): Position[] {
    return [...this.positions.values()].filter((p) => p.qty !== 0).sort((a, b) => a.symbol.localeCompare(b.symbol));
  }

  lastPrice(symbol: string): number | undefined {
    return this.prices.get(symbol);
  }

  /** Shares in open sell orders (market sells not filled yet) plus armed bracket legs. */
  openSellQty(symbol: string): number {
    return openSellQtyOf(this.rows.values(), symbol) + this.broker.legQty(symbol);
  }

  /** A row this book holds, by idempotency key (placed in the window, or open). */
  tradeByKey(key: string): TradeRow | null {
    return this.byKey.get(key) ?? null;
  }

  /** Realized (FIFO, the NY day of `now`) + unrealized at the last prices, in dollars. */
  dayPnlUsd(now: number): number {
    let u = 0;
    for (const [symbol, p] of this.positions) {
      if (p.qty === 0 && this.fifo.qty(symbol) === 0) continue;
      const px = this.prices.get(symbol) ?? p.last_price ?? undefined;
      const pxM = px === undefined ? undefined : toMicros(px);
      u += this.fifo.unrealizedM(symbol, pxM);
      // Shares the broker holds beyond our own fills (inherited at a reconcile): at average cost.
      const extra = p.qty - this.fifo.qty(symbol);
      if (extra > 1e-9 && pxM !== undefined) u += Math.round((pxM - toMicros(p.avg_entry_price)) * extra);
    }
    return fromMicros((this.realizedByDay.get(nyDate(now)) ?? 0) + u);
  }

  /** Everything the gates need from the book for one intent at `now` (no store read). */
  facts(symbol: string, idempotencyKey: string, now: number): BookFacts {
    this.prune(now);
    const stats = orderStatsFrom(this.rows.values(), symbol, now - 60_000, nyDayStart(now));
    let total = stats.pendingBuyNotional;
    let sym = stats.pendingSymbolBuyNotional;
    let posQty = 0;
    for (const p of this.positions.values()) {
      if (p.qty === 0) continue;
      const mv = notional(this.prices.get(p.symbol) ?? p.last_price ?? p.avg_entry_price, p.qty);
      total += mv;
      if (p.symbol === symbol) {
        sym += mv;
        posQty = p.qty;
      }
    }
    const placed = [...this.rows.values()].filter((r) => isPlacedStatus(r.status) && r.ts >= now - PLACED_WINDOW_MS);
    return {
      duplicate: this.keys.has(idempotencyKey),
      ordersLastMinute: stats.ordersSince,
      symbolOrdersToday: stats.symbolOrdersSince,
      openOrders: stats.openOrders,
      lastSymbolOrderTs: stats.lastSymbolOrderTs,
      positionQty: posQty,
      openSellQty: this.openSellQty(symbol),
      totalExposureUsd: round6(total),
      symbolExposureUsd: round6(sym),
      lastPrice: this.prices.get(symbol) ?? null,
      ...deriveActivity(placed, symbol, now),
      dayPnlUsd: round6(this.dayPnlUsd(now)),
    };
  }

  // --- writes (through to the store) ------------------------------------------------------

  /** Insert a trade row (committed before this returns); null when its key already has a row. */
  async insertTrade(t: NewTrade): Promise<TradeRow | null> {
    const row = await this.store.insertTrade(t);
    this.rememberKey(t.idempotency_key);
    if (row) this.track(row);
    return row;
  }

  /** A row no broker call follows (a blocked intent): buffered with the next batch; its key is remembered at once. */
  async recordBlocked(t: NewTrade): Promise<boolean> {
    if (this.keys.has(t.idempotency_key)) return false;
    this.rememberKey(t.idempotency_key);
    await this.store.appendTrades([t]);
    return true;
  }

  async updateTrade(row: TradeRow, patch: TradePatch): Promise<void> {
    await this.store.updateTrade(row.id, patch);
    this.patched(row, patch);
  }

  /** A patch the store has taken: onto the row held here; a row neither placed nor open leaves the book. */
  private patched(row: TradeRow, patch: TradePatch): void {
    Object.assign(row, patch);
    if (!isPlacedStatus(row.status) && !isOpenStatus(row.status)) {
      this.rows.delete(row.id);
      this.byKey.delete(row.idempotency_key);
    }
  }

  /** A bar's close: the symbol's last price; a held position is re-marked (written at most once a second). */
  onPrice(symbol: string, price: number, ts: number): Promise<void> | void {
    this.prices.set(symbol, price);
    const p = this.positions.get(symbol);
    if (p && p.qty !== 0 && p.last_price !== price) {
      this.positions.set(symbol, mark(p, price, ts));
      this.dirty.add(symbol);
    }
    if (this.dirty.size > 0 && performance.now() - this.lastPersist >= MARK_PERSIST_MS) return this.persistMarks();
  }

  /** Write the marked positions to the store now. */
  async persistMarks(): Promise<void> {
    this.lastPersist = performance.now();
    if (this.dirty.size === 0) return;
    const syms = [...this.dirty];
    this.dirty.clear();
    for (const s of syms) {
      const p = this.positions.get(s);
      if (p) await this.store.upsertPosition(p);
    }
  }

  /**
   * A fill of `row`: the row's patch and the position it leaves go to the store in one commit
   * (recordFill), then into this book (the row, the position, FIFO lots). Returns the new position.
   */
  async recordFill(row: TradeRow, patch: TradePatch, f: Fill): Promise<Position> {
    const prev = this.positions.get(f.symbol) ?? null;
    const next = mark(applyFillToPosition(prev, f), f.price, f.ts);
    await this.store.recordFill(row.id, patch, next);
    this.patched(row, patch);
    this.positions.set(f.symbol, next);
    this.dirty.delete(f.symbol);
    this.prices.set(f.symbol, f.price);
    this.bookFill(f.symbol, f.side, f.qty, f.price, f.ts);
    return next;
  }

  /** Gauges: open positions and their market value, from memory. */
  totals(): { open: number; value: number; unrealized: number } {
    let open = 0, value = 0, unrealized = 0;
    for (const p of this.positions.values()) {
      if (p.qty === 0) continue;
      open++;
      value += p.market_value;
      unrealized += p.unrealized_pl;
    }
    return { open, value: round6(value), unrealized: round6(unrealized) };
  }
}
