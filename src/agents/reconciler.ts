import { BrokerTemporary } from "../broker/errors";
import { TERMINAL_BROKER_STATUSES, type BrokerOrder, type ReconcilableBroker } from "../broker/port";
import { errorMessage } from "../core/errors";
import { isMarketOpen } from "../market/calendar";
import { round6 } from "../core/money";
import type { Logger } from "../obs/log";
import type { Metrics } from "../obs/metrics";
import { OPEN_STATUSES, type Store, type TradePatch, type TradeRow, type TradeStatus } from "../store/port";

export interface CycleStats {
  pending_found: number;
  updated: number;
  became_terminal: number;
  unchanged: number;
  errors: number;
  canceled_unfilled: number;
}

export interface ReconcilerOptions {
  store: Store;
  broker: ReconcilableBroker;
  log: Logger;
  metrics?: Metrics;
  now: () => number;
  inFlightMs: number;
  unfilledTimeoutMs: number;
  /** Backoff schedule for 429/5xx/timeouts (runbook: 5s, 15s, 30s). */
  backoffMs?: number[];
  sleep?: (ms: number) => Promise<void>;
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

/**
 * Order and position reconciliation against the broker (runbook 12): polls every non-terminal
 * row, resolves `pending_submit` rows by client_order_id (never by resubmitting), cancels entries
 * left unfilled too long, and mirrors positions. Reads are retried with backoff on 429/5xx/timeouts.
 */
export class Reconciler {
  private backoff: number[];
  private sleep: (ms: number) => Promise<void>;
  lastCycle: (CycleStats & { at: number }) | null = null;

  constructor(private o: ReconcilerOptions) {
    this.backoff = o.backoffMs ?? [5_000, 15_000, 30_000];
    this.sleep = o.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
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

  private async openRows(): Promise<TradeRow[]> {
    const rows: TradeRow[] = [];
    for (const s of OPEN_STATUSES) rows.push(...(await this.o.store.listTrades({ status: s, limit: 10_000 })));
    return rows.sort((a, b) => a.ts - b.ts || a.id - b.id);
  }

  async reconcileOrders(): Promise<CycleStats> {
    const { store, broker, log } = this.o;
    const st: CycleStats = { pending_found: 0, updated: 0, became_terminal: 0, unchanged: 0, errors: 0, canceled_unfilled: 0 };
    const rows = await this.openRows();
    st.pending_found = rows.length;
    for (const row of rows) {
      const now = this.o.now();
      const cid = row.client_order_id ?? row.idempotency_key;
      try {
        const bo = await this.withRetry(`order ${cid}`, () => broker.getOrderByClientId(cid));
        if (!bo) {
          if (row.status === "pending_submit" && now - row.updated_at >= this.o.inFlightMs) {
            // Looked up by client_order_id after the in-flight threshold and not there: the POST never
            // reached the broker. Recorded as rejected; the key stays used, nothing is resubmitted.
            await store.updateTrade(row.id, { status: "rejected", error_message: `not found at the broker by client_order_id ${cid} after ${Math.round((now - row.updated_at) / 1000)}s; never resubmitted`, updated_at: now });
            st.became_terminal++;
            st.updated++;
          } else st.unchanged++;
          continue;
        }
        const changed = await this.apply(row, bo, now);
        if (changed) st.updated++;
        else st.unchanged++;
        if (isTerminal(bo.status)) {
          st.became_terminal++;
          log.info({ order_id: bo.id, symbol: row.symbol, old_status: row.alpaca_status ?? row.status, new_status: bo.status, filled_qty: bo.filled_qty, avg_price: bo.avg_fill_price, is_terminal: true }, "order_reconciled");
        } else if (row.exit_reason === null && now - row.ts >= this.o.unfilledTimeoutMs && bo.filled_qty === 0) {
          await this.withRetry(`cancel ${bo.id}`, () => broker.cancelOrder(bo.id));
          await store.updateTrade(row.id, { status: "canceled", alpaca_status: "canceled", error_message: `unfilled after ${Math.round((now - row.ts) / 1000)}s (unfilled_timeout_seconds); cancelled`, updated_at: now });
          st.canceled_unfilled++;
          st.became_terminal++;
        }
      } catch (e) {
        st.errors++;
        this.o.metrics?.reconcileErrors.inc();
        log.error({ client_order_id: cid, err: errorMessage(e) }, "reconcile failed for order");
      }
    }
    const open = (await this.openRows()).length;
    this.o.metrics?.pendingOrders.set(open);
    this.lastCycle = { ...st, at: this.o.now() };
    await store.setState("last_reconcile", JSON.stringify({ at: new Date().toISOString(), ...st }), Date.now());
    log.info({ ...st }, "RECONCILE_CYCLE");
    return st;
  }

  private async apply(row: TradeRow, bo: BrokerOrder, now: number): Promise<boolean> {
    const patch: TradePatch = {};
    const status = rowStatusFor(bo.status);
    if (row.status !== status) patch.status = status;
    if (row.alpaca_order_id !== bo.id) patch.alpaca_order_id = bo.id;
    if (row.alpaca_status !== bo.status) patch.alpaca_status = bo.status;
    if (row.filled_qty !== bo.filled_qty) patch.filled_qty = bo.filled_qty;
    if (bo.avg_fill_price !== null && row.avg_fill_price !== bo.avg_fill_price) patch.avg_fill_price = bo.avg_fill_price;
    if (bo.filled_at !== null && row.filled_at !== bo.filled_at) patch.filled_at = bo.filled_at;
    if (row.status === "pending_submit" && row.error_message?.startsWith("ambiguous:")) patch.error_message = null;
    const changed = Object.keys(patch).length > 0;
    if (changed) await this.o.store.updateTrade(row.id, { ...patch, updated_at: now });
    // Filled bracket legs become trade rows of their own, tied to the entry by correlation id.
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
    return changed;
  }

  /** Mirror the broker's positions: upsert what it holds, zero what it no longer holds. */
  async reconcilePositions(): Promise<{ synced: number; zeroed: number }> {
    const { store, broker } = this.o;
    const now = this.o.now();
    const held = await this.withRetry("positions", () => broker.positions());
    const seen = new Set<string>();
    for (const p of held) {
      seen.add(p.symbol);
      const prev = await store.getPosition(p.symbol);
      await store.upsertPosition({
        symbol: p.symbol, qty: p.qty, avg_entry_price: p.avg_entry_price, last_price: p.current_price, market_value: p.market_value,
        unrealized_pl: p.unrealized_pl, opened_at: prev && prev.qty !== 0 ? prev.opened_at : now, updated_at: now,
      });
    }
    let zeroed = 0;
    for (const p of await store.positions()) {
      if (p.qty !== 0 && !seen.has(p.symbol)) {
        await store.upsertPosition({ ...p, qty: 0, market_value: 0, unrealized_pl: 0, opened_at: null, updated_at: now });
        zeroed++;
      }
    }
    const open = held.filter((p) => p.qty !== 0);
    this.o.metrics?.openPositions.set(open.length);
    this.o.metrics?.portfolioValue.set(round6(open.reduce((s, p) => s + p.market_value, 0)));
    return { synced: held.length, zeroed };
  }
}

/** Is the market open now? The broker's clock when it answers, the NYSE calendar otherwise. */
export async function marketIsOpen(broker: unknown, now: number): Promise<{ open: boolean; source: "broker" | "calendar" }> {
  const b = broker as { clock?: () => Promise<{ is_open: boolean }> };
  if (typeof b.clock === "function") {
    try {
      return { open: (await b.clock()).is_open, source: "broker" };
    } catch {
      // fall through to the calendar
    }
  }
  return { open: isMarketOpen(now), source: "calendar" };
}
