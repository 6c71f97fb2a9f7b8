import { BrokerTemporary } from "../broker/errors";
import { TERMINAL_BROKER_STATUSES, type BrokerOrder, type ReconcilableBroker } from "../broker/port";
import { errorMessage } from "../core/errors";
import { round6 } from "../core/money";
import type { Logger } from "../obs/log";
import type { Metrics } from "../obs/metrics";
import { OPEN_STATUSES, REVISABLE_STATUSES, type Store, type TradePatch, type TradeRow, type TradeStatus } from "../store/port";
import { envelope } from "../core/events";
import { isOurClientOrderId, uuidFrom } from "../core/ids";
import { listingAfter, nextPageAfter, openedAtFromFills, unfilledTooLong, verdictForMissing } from "./reconcile-rules";

export interface CycleStats {
  pending_found: number;
  updated: number;
  became_terminal: number;
  unchanged: number;
  errors: number;
  canceled_unfilled: number;
  /** pending_submit rows the broker still did not know after in_flight_seconds (wall time). */
  became_unknown: number;
  /** Rows the order listing linked or revised (including `unknown` ones the broker showed late). */
  linked: number;
  /** Broker orders with our client_order_id shape and no row: recorded, audited. */
  adopted: number;
  /** Broker orders the listing showed that are not ours (another client_order_id shape). */
  foreign: number;
}

export interface ReconcilerOptions {
  store: Store;
  broker: ReconcilableBroker;
  log: Logger;
  metrics?: Metrics;
  /** Event time, for the event-time columns (updated_at, an adopted row's ts). */
  now: () => number;
  /** Wall clock, for the in-flight, unfilled and listing windows and the wall-time columns. */
  wallNow?: () => number;
  inFlightMs: number;
  unfilledTimeoutMs: number;
  /** How far back the first order listing reaches, and how long an `unknown` row keeps it reaching back. */
  lookbackMs?: number;
  /** Orders per listing page (Alpaca allows at most 500). */
  pageLimit?: number;
  /** Backoff schedule for 429/5xx/timeouts (runbook: 5s, 15s, 30s). */
  backoffMs?: number[];
  sleep?: (ms: number) => Promise<void>;
}

/** The windows of the config (seconds/hours there, ms here). */
export function reconcileWindows(app: { in_flight_seconds: number; unfilled_timeout_seconds: number; order_lookback_hours: number }): Pick<ReconcilerOptions, "inFlightMs" | "unfilledTimeoutMs" | "lookbackMs"> {
  return { inFlightMs: app.in_flight_seconds * 1000, unfilledTimeoutMs: app.unfilled_timeout_seconds * 1000, lookbackMs: app.order_lookback_hours * 3_600_000 };
}

/** Pure: our row status for the broker's status word. */
export function rowStatusFor(brokerStatus: string): TradeStatus {
  switch (brokerStatus) {
    case "filled":
      return "filled";
    case "partially_filled":
      return "partially_filled";
    case "canceled":
    case "replaced":
    case "done_for_day":
      return "canceled";
    case "expired":
      return "expired";
    case "rejected":
      return "rejected";
    default:
      return "submitted"; // new, accepted, pending_new, accepted_for_bidding, held, pending_cancel, ...
  }
}

export function isTerminal(brokerStatus: string): boolean {
  return (TERMINAL_BROKER_STATUSES as readonly string[]).includes(brokerStatus);
}

/** State key: wall time (ms) the last complete order listing started from the broker's side. */
export const LISTING_WATERMARK_KEY = "orders_listed_from";

/**
 * Order and position reconciliation against the broker (runbook 12): polls every non-terminal
 * row, resolves `pending_submit` rows by client_order_id (never by resubmitting), cancels entries
 * left unfilled too long, lists the broker's recent orders to link late ones and adopt orphans,
 * and mirrors positions. Every window is wall time. Reads are retried with backoff on
 * 429/5xx/timeouts.
 */
export class Reconciler {
  private backoff: number[];
  private sleep: (ms: number) => Promise<void>;
  private wall: () => number;
  lastCycle: (CycleStats & { at: number }) | null = null;

  constructor(private o: ReconcilerOptions) {
    this.backoff = o.backoffMs ?? [5_000, 15_000, 30_000];
    this.sleep = o.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.wall = o.wallNow ?? Date.now;
  }

  /** Retry a broker read on BrokerTemporary with the backoff schedule, honouring Retry-After. */
  async withRetry<T>(what: string, f: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await f();
      } catch (e) {
        if (!(e instanceof BrokerTemporary) || attempt >= this.backoff.length) throw e;
        const wait = Math.max(this.backoff[attempt]!, e.retryAfterMs ?? 0);
        this.o.log.warn({ what, attempt: attempt + 1, wait_ms: wait, err: e.message }, "broker read failed; retrying");
        await this.sleep(wait);
      }
    }
  }

  private async rowsIn(statuses: readonly TradeStatus[]): Promise<TradeRow[]> {
    const rows: TradeRow[] = [];
    for (const s of statuses) rows.push(...(await this.o.store.listTrades({ status: s, limit: 10_000 })));
    return rows.sort((a, b) => a.ts - b.ts || a.id - b.id);
  }

  async reconcileOrders(): Promise<CycleStats> {
    const { store, broker, log } = this.o;
    const st: CycleStats = { pending_found: 0, updated: 0, became_terminal: 0, unchanged: 0, errors: 0, canceled_unfilled: 0, became_unknown: 0, linked: 0, adopted: 0, foreign: 0 };
    const rows = await this.rowsIn(OPEN_STATUSES);
    st.pending_found = rows.length;
    for (const row of rows) {
      const cid = row.client_order_id ?? row.idempotency_key;
      try {
        const bo = await this.withRetry(`order ${cid}`, () => broker.getOrderByClientId(cid));
        const now = this.o.now();
        const contact = this.wall();
        const contactPatch: TradePatch = { last_contact_wall_at: contact, ...(row.first_contact_wall_at === null ? { first_contact_wall_at: contact } : {}) };
        if (!bo) {
          const v = row.status === "pending_submit" ? verdictForMissing(row, contact, this.o.inFlightMs) : null;
          if (v?.action === "unknown") {
            // Not a rejection: the broker said nothing. Terminal for trading, revisable by the listing.
            const msg = `not found at the broker by client_order_id ${cid} after ${Math.round(v.waitedMs / 1000)}s of wall time (in_flight_seconds ${Math.round(this.o.inFlightMs / 1000)}); never resubmitted; linked if the broker shows it later`;
            await store.updateTrade(row.id, { ...contactPatch, status: "unknown", error_message: msg, updated_at: now });
            await this.audit(row, now, `${cid}:unknown`, { event: "order_unknown", trade_id: row.id, client_order_id: cid, waited_ms: v.waitedMs });
            log.warn({ client_order_id: cid, symbol: row.symbol, waited_ms: v.waitedMs }, "order unknown to the broker after the in-flight window; recorded unknown (revisable)");
            st.became_unknown++;
            st.became_terminal++;
            st.updated++;
          } else {
            // Inside the window a miss is no answer: the row stays open and is asked again next cycle.
            await store.updateTrade(row.id, contactPatch);
            if (row.status !== "pending_submit") log.warn({ client_order_id: cid, order_id: row.alpaca_order_id }, "a working order was not found by client_order_id; left as it is");
            st.unchanged++;
          }
          continue;
        }
        const changed = await this.apply(row, bo, now, contact);
        if (changed) st.updated++;
        else st.unchanged++;
        if (isTerminal(bo.status)) {
          st.became_terminal++;
          log.info({ order_id: bo.id, symbol: row.symbol, old_status: row.alpaca_status ?? row.status, new_status: bo.status, filled_qty: bo.filled_qty, avg_price: bo.avg_fill_price, is_terminal: true }, "order_reconciled");
        } else if (row.exit_reason === null && bo.filled_qty === 0 && unfilledTooLong({ submit_wall_at: row.submit_wall_at, first_contact_wall_at: row.first_contact_wall_at ?? contact }, contact, this.o.unfilledTimeoutMs)) {
          await this.withRetry(`cancel ${bo.id}`, () => broker.cancelOrder(bo.id));
          const waited = contact - (row.submit_wall_at ?? row.first_contact_wall_at ?? contact);
          await store.updateTrade(row.id, { status: "canceled", alpaca_status: "canceled", error_message: `unfilled after ${Math.round(waited / 1000)}s of wall time (unfilled_timeout_seconds); cancelled`, updated_at: now, last_contact_wall_at: this.wall() });
          st.canceled_unfilled++;
          st.became_terminal++;
        }
      } catch (e) {
        st.errors++;
        this.o.metrics?.reconcileErrors.inc();
        log.error({ client_order_id: cid, err: errorMessage(e) }, "reconcile failed for order");
      }
    }
    try {
      await this.linkListedOrders(st);
    } catch (e) {
      st.errors++;
      this.o.metrics?.reconcileErrors.inc();
      log.error({ err: errorMessage(e) }, "order listing failed; late and orphan orders are looked for again next cycle");
    }
    await store.flush();
    const open = (await this.rowsIn(OPEN_STATUSES)).length;
    this.o.metrics?.pendingOrders.set(open);
    this.lastCycle = { ...st, at: this.o.now() };
    await store.setState("last_reconcile", JSON.stringify({ at: new Date(this.wall()).toISOString(), ...st }), this.wall());
    log.info({ ...st }, "RECONCILE_CYCLE");
    return st;
  }

  /**
   * List the broker's orders since the oldest open or revisable row (paging through the listing)
   * and link each to its row by client_order_id, whatever the row's state; adopt ours that have
   * no row. The listing's start becomes the next listing's, so consecutive ones leave no gap.
   */
  private async linkListedOrders(st: CycleStats): Promise<void> {
    const { store, broker } = this.o;
    const started = this.wall();
    const wm = await store.getState(LISTING_WATERMARK_KEY);
    const after = listingAfter({
      watermark: wm !== null && Number.isFinite(Number(wm)) ? Number(wm) : null,
      open: await this.rowsIn(OPEN_STATUSES), revisable: await this.rowsIn(REVISABLE_STATUSES),
      wallNow: started, lookbackMs: this.o.lookbackMs ?? 24 * 3_600_000,
    });
    const limit = this.o.pageLimit ?? 500;
    const seen = new Set<string>();
    for (let cursor: number | null = after; cursor !== null; ) {
      const from: number = cursor;
      const page = await this.withRetry(`order listing after ${new Date(from).toISOString()}`, () => broker.listOrders({ after: from, limit }));
      let fresh = 0;
      for (const bo of page) {
        if (seen.has(bo.id)) continue;
        seen.add(bo.id);
        fresh++;
        await this.linkOne(bo, st);
      }
      cursor = nextPageAfter(page, limit, from, fresh);
      if (fresh === 0 && cursor !== null)
        this.o.log.warn({ after: new Date(from).toISOString(), page: page.length }, "a full page of orders in one millisecond: the listing steps past it");
    }
    await store.setState(LISTING_WATERMARK_KEY, String(started), started);
  }

  private async linkOne(bo: BrokerOrder, st: CycleStats): Promise<void> {
    const { store, log } = this.o;
    const cid = bo.client_order_id;
    const row = cid ? await store.getTradeByKey(cid) : null;
    const now = this.o.now();
    const contact = this.wall();
    if (row) {
      const revisable = (REVISABLE_STATUSES as readonly string[]).includes(row.status);
      if (!revisable && row.alpaca_order_id === bo.id && row.status === rowStatusFor(bo.status) && row.filled_qty === bo.filled_qty) return;
      const was = row.status;
      if (!(await this.apply(row, bo, now, contact))) return;
      st.linked++;
      if (!(OPEN_STATUSES as readonly string[]).includes(was)) {
        // A row already closed here (unknown, or rejected by an older version) that the broker has after all.
        await this.audit(row, now, `${cid}:revised:${bo.status}:${bo.filled_qty}`, { event: "order_revised", trade_id: row.id, client_order_id: cid, broker_order_id: bo.id, from_status: was, to_status: rowStatusFor(bo.status), filled_qty: bo.filled_qty });
        log.warn({ client_order_id: cid, order_id: bo.id, from_status: was, to_status: bo.status }, "order found at the broker after its row was closed; row revised");
      }
      return;
    }
    if (!cid || !isOurClientOrderId(cid)) {
      st.foreign++;
      return;
    }
    const status = rowStatusFor(bo.status);
    const adopted = await store.insertTrade({
      ts: bo.created_at ?? contact, correlation_id: uuidFrom(`adopted|${bo.id}`), idempotency_key: cid, symbol: bo.symbol, side: bo.side, qty: bo.qty,
      price: bo.avg_fill_price, status, error_message: `adopted: the broker holds order ${bo.id} with our client_order_id and no row had it`,
      alpaca_order_id: bo.id, client_order_id: cid, alpaca_status: bo.status, filled_qty: bo.filled_qty, avg_fill_price: bo.avg_fill_price,
      filled_at: bo.filled_at, updated_at: now, paper_trade: true, dry_run: false, order_type: bo.legs.length ? "bracket" : "market",
      take_profit_price: null, stop_loss_price: null, exit_reason: null, run_id: cid.split("-")[0] ?? null,
      first_contact_wall_at: contact, last_contact_wall_at: contact, adopted_at: contact,
    });
    if (!adopted) return; // written meanwhile by another process: linked on the next cycle
    st.adopted++;
    await this.audit(adopted, now, `${cid}:adopted`, { event: "order_adopted", trade_id: adopted.id, client_order_id: cid, broker_order_id: bo.id, status: bo.status, filled_qty: bo.filled_qty });
    log.warn({ client_order_id: cid, order_id: bo.id, symbol: bo.symbol, status: bo.status }, "broker order with our client_order_id and no row: adopted");
    await this.insertLegs(adopted, bo, now);
  }

  private async audit(row: Pick<TradeRow, "correlation_id" | "symbol">, now: number, key: string, payload: Record<string, unknown>): Promise<void> {
    await this.o.store.appendAudit([envelope("audit", { ts: now, correlation_id: row.correlation_id, idempotency_key: key, source: "Reconciler", symbol: row.symbol, payload })]);
  }

  private async apply(row: TradeRow, bo: BrokerOrder, now: number, contact: number): Promise<boolean> {
    const patch: TradePatch = {};
    const status = rowStatusFor(bo.status);
    if (row.status !== status) patch.status = status;
    if (row.alpaca_order_id !== bo.id) patch.alpaca_order_id = bo.id;
    if (row.alpaca_status !== bo.status) patch.alpaca_status = bo.status;
    if (row.filled_qty !== bo.filled_qty) patch.filled_qty = bo.filled_qty;
    if (bo.avg_fill_price !== null && row.avg_fill_price !== bo.avg_fill_price) patch.avg_fill_price = bo.avg_fill_price;
    if (bo.filled_at !== null && row.filled_at !== bo.filled_at) patch.filled_at = bo.filled_at;
    if (row.status === "pending_submit" && row.error_message?.startsWith("ambiguous:")) patch.error_message = null;
    if (row.status === "unknown") patch.error_message = `found at the broker after being recorded unknown (${row.error_message ?? ""})`;
    const changed = Object.keys(patch).length > 0;
    const wall: TradePatch = { last_contact_wall_at: contact, ...(row.first_contact_wall_at === null ? { first_contact_wall_at: contact } : {}) };
    await this.o.store.updateTrade(row.id, changed ? { ...patch, ...wall, updated_at: now } : wall);
    await this.insertLegs(row, bo, now);
    return changed;
  }

  /** Filled bracket legs become trade rows of their own, tied to the entry by correlation id. */
  private async insertLegs(row: TradeRow, bo: BrokerOrder, now: number): Promise<void> {
    for (const leg of bo.legs) {
      if (leg.status !== "filled") continue;
      const key = leg.client_order_id || `${row.idempotency_key}-${leg.id.slice(0, 8)}`;
      const kind = leg.avg_fill_price !== null && row.take_profit_price !== null && leg.avg_fill_price >= row.take_profit_price ? "take_profit" : "stop_loss";
      await this.o.store.insertTrade({
        ts: leg.filled_at ?? now, correlation_id: row.correlation_id, idempotency_key: key, symbol: row.symbol, side: leg.side, qty: leg.qty,
        price: leg.avg_fill_price, status: "filled", error_message: null, alpaca_order_id: leg.id, client_order_id: key, alpaca_status: "filled",
        filled_qty: leg.filled_qty, avg_fill_price: leg.avg_fill_price, filled_at: leg.filled_at, updated_at: now, paper_trade: true, dry_run: false,
        order_type: "market", take_profit_price: null, stop_loss_price: null, exit_reason: kind, run_id: row.run_id,
      });
    }
  }

  /**
   * Mirror the broker's positions: upsert what it holds, zero what it no longer holds. A position
   * the book did not hold keeps the broker's facts: opened when the symbol's fills say, or — when
   * they do not account for it — at this reconcile's wall time, flagged inherited. Never at 0.
   */
  async reconcilePositions(): Promise<{ synced: number; zeroed: number; inherited: number }> {
    const { store, broker } = this.o;
    const now = this.o.now();
    const held = await this.withRetry("positions", () => broker.positions());
    const seen = new Set<string>();
    let inherited = 0;
    for (const p of held) {
      seen.add(p.symbol);
      const prev = await store.getPosition(p.symbol);
      let opened_at: number | null;
      let flag: boolean;
      if (prev && prev.qty !== 0 && prev.opened_at !== null) {
        opened_at = prev.opened_at;
        flag = prev.inherited === true;
      } else {
        const fills = (await store.listTrades({ symbol: p.symbol, limit: 10_000 }))
          .filter((t) => t.filled_qty > 0 && t.filled_at !== null && t.status !== "blocked")
          .map((t) => ({ side: t.side, qty: t.filled_qty, at: t.filled_at! }));
        const fromFills = openedAtFromFills(p.qty, fills);
        opened_at = fromFills ?? this.wall();
        flag = fromFills === null;
        if (flag) {
          inherited++;
          this.o.log.warn({ symbol: p.symbol, qty: p.qty, opened_at: new Date(opened_at).toISOString() }, "position held at the broker with no known opening fill: inherited, opened_at = reconcile wall time");
        }
      }
      await store.upsertPosition({
        symbol: p.symbol, qty: p.qty, avg_entry_price: p.avg_entry_price, last_price: p.current_price, market_value: p.market_value,
        unrealized_pl: p.unrealized_pl, opened_at, updated_at: now, inherited: flag,
      });
    }
    let zeroed = 0;
    for (const p of await store.positions()) {
      if (p.qty !== 0 && !seen.has(p.symbol)) {
        await store.upsertPosition({ ...p, qty: 0, market_value: 0, unrealized_pl: 0, opened_at: null, updated_at: now, inherited: false });
        zeroed++;
      }
    }
    const open = held.filter((p) => p.qty !== 0);
    this.o.metrics?.openPositions.set(open.length);
    this.o.metrics?.portfolioValue.set(round6(open.reduce((s, p) => s + p.market_value, 0)));
    return { synced: held.length, zeroed, inherited };
  }
}
