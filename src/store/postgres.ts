import { clampTs } from "./bounds";
import postgres, { type Sql } from "postgres";
import type { Bar, Envelope } from "../core/events";
import { StoreError, errorMessage } from "../core/errors";
import { round6 } from "../core/money";
import type { Logger } from "../obs/log";
import { loadMigrations } from "./migrations";
import { TIMESCALE_DEFAULTS, setupTimescale, type TimescaleOptions } from "./timescale";
import {
  OPEN_STATUSES,
  type AuditRow,
  type DeadLetter,
  type NewTrade,
  type OrderStats,
  type Position,
  type Store,
  type StoreCounts,
  type TradeFilter,
  type TradePatch,
  type TradeRow,
  type LlmTraceFilter,
  type DailyPnlRow,
  type ModelRow,
  type AgentRunRow,
  type BacktestRunRow,
  type LlmTraceRow,
  type Heartbeat,
  type LagRecord,
} from "./port";

export interface PostgresStoreOptions {
  url: string;
  /** A schema to work in (created when missing); tests use a fresh one per run. */
  schema?: string;
  /** Rows waiting to be written before appends wait (back-pressure). */
  maxQueue?: number;
  batchSize?: number;
  log?: Logger;
  /** The connections' application_name (pg_stat_activity); else PGAPPNAME, else "awet". */
  applicationName?: string;
  /** TimescaleDB use and policies (store_timescale, timescale_*); defaults: auto, no policies. */
  timescale?: Partial<TimescaleOptions>;
}

export interface Backlog {
  queued: number;
  max: number;
  waiting: boolean;
  connected: boolean;
  lastError: string | null;
  retries: number;
}

type Row = Record<string, any>;
const num = (x: unknown) => (x === null || x === undefined ? null : round6(Number(x)));
const ms = (d: unknown) => (d instanceof Date ? d.getTime() : Date.parse(String(d)));
const msN = (d: unknown) => (d === null || d === undefined ? null : ms(d));
const dt = (t: number) => new Date(t);
const dtBound = (t: number) => new Date(clampTs(t)); // a filter bound (see bounds.ts)
const dtN = (t: number | null) => (t === null ? null : new Date(t));

/** Trade columns holding times. */
const TRADE_TIME_KEYS = new Set(["filled_at", "updated_at", "submit_wall_at", "first_contact_wall_at", "last_contact_wall_at", "adopted_at"]);

/** Errors after which the same statement may simply be tried again on a new connection. */
export function isConnectionError(e: unknown): boolean {
  const c = String((e as { code?: unknown })?.code ?? "");
  return ["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "CONNECTION_CLOSED", "CONNECTION_ENDED", "CONNECTION_DESTROYED", "CONNECT_TIMEOUT", "57P01", "57P02", "57P03", "08006", "08001", "08003", "08004"].includes(c)
    || /connection|terminat|ECONN|socket/i.test(errorMessage(e));
}

/** The NOTIFY channel of state writes (payload: "<schema>:<key>"). */
const STATE_CHANNEL = "awet_state";

/** Rows per batch statement (bars and audit rows as column arrays: large batches are cheap). */
const BATCH = 4000;

interface QueuedAudit { kind: "audit"; id: string; ts: number; correlation_id: string; type: string; source: string; symbol: string; payload: string }
type Queued = { kind: "bar"; bar: Bar; source: string } | QueuedAudit | { kind: "trade"; row: Row };

const TRADE_COLUMNS = [
  "ts", "correlation_id", "idempotency_key", "symbol", "side", "qty", "price", "status", "error_message", "alpaca_order_id", "client_order_id",
  "alpaca_status", "filled_qty", "avg_fill_price", "filled_at", "updated_at", "paper_trade", "dry_run", "order_type", "take_profit_price",
  "stop_loss_price", "exit_reason", "run_id", "submit_wall_at", "first_contact_wall_at", "last_contact_wall_at", "adopted_at",
] as const;

function tradeRow(t: NewTrade): Row {
  return {
    ts: dt(t.ts), correlation_id: t.correlation_id, idempotency_key: t.idempotency_key, symbol: t.symbol, side: t.side, qty: t.qty, price: num(t.price),
    status: t.status, error_message: t.error_message, alpaca_order_id: t.alpaca_order_id, client_order_id: t.client_order_id, alpaca_status: t.alpaca_status,
    filled_qty: t.filled_qty, avg_fill_price: num(t.avg_fill_price), filled_at: dtN(t.filled_at), updated_at: dt(t.updated_at), paper_trade: t.paper_trade,
    dry_run: t.dry_run, order_type: t.order_type, take_profit_price: num(t.take_profit_price), stop_loss_price: num(t.stop_loss_price),
    exit_reason: t.exit_reason, run_id: t.run_id, submit_wall_at: dtN(t.submit_wall_at ?? null), first_contact_wall_at: dtN(t.first_contact_wall_at ?? null),
    last_contact_wall_at: dtN(t.last_contact_wall_at ?? null), adopted_at: dtN(t.adopted_at ?? null),
  };
}

/**
 * A PostgreSQL array literal ('{"a","b",NULL}') sent as ONE text parameter and cast server-side
 * (`unnest($1::text[], ...)`): a batch of N rows is a statement with one parameter per column, not
 * N per column, which the server parses and plans in a fraction of the time.
 */
export function arrayLiteral(xs: readonly (string | number | null | undefined)[]): string {
  let s = "{";
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i];
    if (i > 0) s += ",";
    if (x === null || x === undefined) s += "NULL";
    else if (typeof x === "number") s += Number.isFinite(x) ? String(x) : `"${String(x)}"`;
    else s += '"' + x.replace(/[\\"]/g, "\\$&") + '"';
  }
  return s + "}";
}

function tradeFromRow(r: Row): TradeRow {
  return {
    id: Number(r.id), ts: ms(r.ts), correlation_id: r.correlation_id, idempotency_key: r.idempotency_key, symbol: r.symbol, side: r.side,
    qty: Number(r.qty), price: num(r.price), status: r.status, error_message: r.error_message, alpaca_order_id: r.alpaca_order_id,
    client_order_id: r.client_order_id, alpaca_status: r.alpaca_status, filled_qty: Number(r.filled_qty), avg_fill_price: num(r.avg_fill_price),
    filled_at: msN(r.filled_at), updated_at: ms(r.updated_at), paper_trade: r.paper_trade === true, dry_run: r.dry_run === true,
    order_type: r.order_type, take_profit_price: num(r.take_profit_price), stop_loss_price: num(r.stop_loss_price), exit_reason: r.exit_reason, run_id: r.run_id,
    submit_wall_at: msN(r.submit_wall_at), first_contact_wall_at: msN(r.first_contact_wall_at), last_contact_wall_at: msN(r.last_contact_wall_at), adopted_at: msN(r.adopted_at),
  };
}

function positionFromRow(r: Row): Position {
  return {
    symbol: r.symbol, qty: Number(r.qty), avg_entry_price: num(r.avg_entry_price)!, last_price: num(r.last_price), market_value: num(r.market_value)!,
    unrealized_pl: num(r.unrealized_pl)!, opened_at: msN(r.opened_at), updated_at: ms(r.updated_at),
    ...(r.inherited === true ? { inherited: true } : {}), // present only when set, as positions built from fills have no flag
  };
}

function backtestRunFromRow(r: Row): BacktestRunRow {
  return {
    id: r.id, label: r.label, started_at: ms(r.started_at), finished_at: ms(r.finished_at), symbols: r.symbols, range_from: r.range_from, range_to: r.range_to,
    data_files: r.data_files, config: r.config, config_hash: r.config_hash, code_version: r.code_version, summary: r.summary, results: r.results,
  };
}

/**
 * The Store on PostgreSQL (TimescaleDB as store_timescale says) with the `postgres` package.
 * Bars and audit events go through a bounded queue written by one flusher in multi-row INSERTs,
 * one statement per batch: when the database is slow or down, appends wait (back-pressure, shown
 * by backlog()) instead of dropping anything, a batch that fails on a lost connection is retried
 * whole, and writing resumes where it stopped once the server is back.
 */
export class PostgresStore implements Store {
  readonly kind = "postgres" as const;
  private client: Sql;
  private queue: Queued[] = [];
  private queuedTrades = 0;
  private flushing: Promise<void> | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private waiters: (() => void)[] = [];
  private state: Backlog;
  private closed = false;
  /** Whether TimescaleDB is used (known after migrate). */
  timescale: boolean | null = null;
  private timescaleWarnings: string[] = [];

  constructor(private o: PostgresStoreOptions) {
    this.client = this.connect();
    this.state = { queued: 0, max: o.maxQueue ?? 10_000, waiting: false, connected: true, lastError: null, retries: 0 };
  }

  /** The current client (a new one after the server dropped connections: see renew); a retried
   * statement must read it on each attempt, never keep it from before the first. */
  get sql(): Sql {
    return this.client;
  }

  private connect(): Sql {
    return postgres(this.o.url, {
      max: 4,
      onnotice: () => {},
      connect_timeout: 5,
      idle_timeout: 30,
      // Reconnect after a dropped connection within 20 ms, doubling up to 2 s while the server stays
      // away (the package's default grows to 20 s after a few drops in a row).
      backoff: (n: number) => Math.min(0.02 * 2 ** n, 2),
      // No array-type query on every (re)connect: its rejection, when the server drops the
      // connection during it, is unhandled inside the package (an async function nobody awaits).
      fetch_types: false,
      types: { bigint: postgres.BigInt },
      connection: { application_name: this.o.applicationName ?? "awet", ...(this.o.schema ? { search_path: this.o.schema } : {}) },
    });
  }

  /**
   * Replace the client after a connection error. The `postgres` package (3.4.9) leaves a connection
   * whose socket closed while a small write was buffered with a stale write timer: every later
   * (re)connect of that connection object hangs until connect_timeout (5 s per cut, measured) —
   * LanternOps/breeze#3225. A fresh client has fresh connection objects; the old one is ended.
   */
  private renew(failed: Sql): void {
    if (this.client !== failed || this.closed) return;
    this.client = this.connect();
    void failed.end({ timeout: 0 }).catch(() => undefined);
  }

  backlog(): Backlog {
    return { ...this.state, queued: this.queue.length };
  }

  /** Run one statement, retrying on a lost connection (with a fresh client) and backoff. */
  private async retry<T>(op: string, f: () => Promise<T>, attempts = 6): Promise<T> {
    for (let a = 1; ; a++) {
      const client = this.client;
      try {
        const r = await f();
        this.state.connected = true;
        return r;
      } catch (e) {
        if (e instanceof StoreError) throw e; // already one clear line (e.g. TimescaleDB not preloaded)
        if (!isConnectionError(e) || a >= attempts || this.closed) {
          if (isConnectionError(e)) (this.state.connected = false), (this.state.lastError = errorMessage(e));
          throw new StoreError(`${op} failed: ${errorMessage(e)}`, op, e);
        }
        this.state.connected = false;
        this.state.lastError = errorMessage(e);
        this.state.retries++;
        this.renew(client);
        this.o.log?.warn({ op, attempt: a, err: errorMessage(e) }, "database unreachable; retrying");
        // A server that dropped one connection (restart, failover, pg_terminate_backend) usually
        // takes a new one at once: the first retry is almost immediate, later ones back off.
        await new Promise((r) => setTimeout(r, a === 1 ? 10 : Math.min(5_000, 100 * 2 ** a)));
      }
    }
  }

  async migrate(): Promise<string[]> {
    if (this.o.schema) await this.retry("migrate", () => this.sql.unsafe(`CREATE SCHEMA IF NOT EXISTS "${this.o.schema!.replace(/"/g, "")}"`));
    await this.retry("migrate", () => this.sql`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL)`);
    const applied: string[] = [];
    for (const m of loadMigrations("postgres")) {
      // One simple-protocol query (no parameters): PostgreSQL runs its statements as one implicit
      // transaction, so the migration and its record land together or not at all — without
      // sql.begin (see writeBatch). Retried on a lost connection: the record says whether it landed.
      const ran = await this.retry(`migration ${m.version}_${m.name}`, async () => {
        if ((await this.sql`SELECT 1 FROM schema_migrations WHERE version = ${m.version}`).length) return false;
        await this.sql.unsafe(`${m.sql}\n;\nINSERT INTO schema_migrations (version, name, applied_at) VALUES (${m.version}, '${m.name.replace(/'/g, "''")}', now())`);
        return true;
      });
      if (ran) applied.push(`${String(m.version).padStart(3, "0")}_${m.name}`);
    }
    await this.retry("TimescaleDB setup", () => this.setupTimescale());
    return applied;
  }

  /** Hypertables, compression and retention as store_timescale asks (src/store/timescale.ts). */
  private async setupTimescale(): Promise<void> {
    const schema = this.o.schema ?? String((await this.sql`SELECT current_schema() AS s`)[0]!.s);
    const st = await setupTimescale(this.sql, schema, { ...TIMESCALE_DEFAULTS, ...this.o.timescale }, this.o.log);
    this.timescale = st.active;
    this.timescaleWarnings = st.warnings;
  }

  /** Problems that do not stop the store but an operator should see (/health): policies not created. */
  warnings(): string[] {
    return [...this.timescaleWarnings];
  }

  // --- batched hot-path writes -------------------------------------------------------------

  /** Queue rows for the flusher; returns a promise only when the queue is full and the caller must wait. */
  private enqueue(items: Queued[]): Promise<void> | void {
    if (this.queue.length >= this.state.max && !this.closed) return this.enqueueWhenRoom(items);
    this.state.waiting = false;
    this.queue.push(...items);
    if (this.queue.length >= (this.o.batchSize ?? BATCH)) this.kick();
    else if (!this.flushing && !this.timer)
      this.timer = setTimeout(() => {
        this.timer = null;
        this.kick();
      }, 20);
  }

  private async enqueueWhenRoom(items: Queued[]): Promise<void> {
    while (this.queue.length >= this.state.max && !this.closed) {
      this.state.waiting = true; // back-pressure: the caller waits for the flusher
      this.kick();
      await new Promise<void>((r) => this.waiters.push(r));
    }
    this.enqueue(items);
  }

  private kick(): void {
    if (!this.flushing) this.flushing = this.drainQueue().finally(() => (this.flushing = null));
  }

  private async drainQueue(): Promise<void> {
    while (this.queue.length > 0) await this.writeQueued(this.o.batchSize ?? BATCH);
  }

  /**
   * Write the first `max` queued rows in one statement (plus `trade`, the write-ahead row, when
   * given); they leave the queue only after it committed, so nothing is lost while the server is
   * away. Returns the rows the statement inserted into trades.
   */
  private async writeQueued(max: number, trade?: Row): Promise<Row[]> {
    const batch = this.queue.slice(0, max);
    const bars: Bar[] = [], bsrc: string[] = [], audit: QueuedAudit[] = [], trades: Row[] = [];
    for (const q of batch)
      if (q.kind === "bar") (bars.push(q.bar), bsrc.push(q.source));
      else if (q.kind === "audit") audit.push(q);
      else trades.push(q.row);
    if (trade) trades.push(trade);
    // One statement per batch: it lands whole or not at all, and is retried whole.
    const rows = await this.retry(trade ? "insertTrade" : "write batch", () => this.writeBatch(bars, bsrc, audit, trades), trade ? 6 : Number.POSITIVE_INFINITY);
    this.queue.splice(0, batch.length);
    this.queuedTrades -= trades.length - (trade ? 1 : 0);
    for (const w of this.waiters.splice(0)) w();
    return rows;
  }

  /**
   * Bars, audit rows and trades of one batch in ONE statement (data-modifying CTEs are atomic), not
   * in sql.begin: the `postgres` package (3.4.9) crashes the process when the server drops a
   * connection inside a transaction — its ROLLBACK is written to the closed socket from a
   * setImmediate and the TypeError escapes every await (porsager/postgres #1066, #1154, #1208).
   * Plain pooled statements never take that path; the store uses no reserved connection at all.
   * Bars and audit rows go in as column arrays (unnest: one parameter per column); trades, few per
   * batch, as a multi-row VALUES in decision order (ids follow it), returning what was inserted.
   */
  private async writeBatch(bars: Bar[], bsrc: string[], audit: QueuedAudit[], trades: Row[]): Promise<Row[]> {
    const s = this.sql;
    const parts = [
      bars.length
        ? s`INSERT INTO market_bars (symbol, ts, open, high, low, close, volume, source)
            SELECT * FROM unnest(${arrayLiteral(bars.map((b) => b.symbol))}::text[], ${arrayLiteral(bars.map((b) => new Date(b.ts).toISOString()))}::timestamptz[],
              ${arrayLiteral(bars.map((b) => b.open))}::numeric[], ${arrayLiteral(bars.map((b) => b.high))}::numeric[], ${arrayLiteral(bars.map((b) => b.low))}::numeric[],
              ${arrayLiteral(bars.map((b) => b.close))}::numeric[], ${arrayLiteral(bars.map((b) => b.volume))}::numeric[], ${arrayLiteral(bsrc)}::text[])
            ON CONFLICT DO NOTHING`
        : null,
      audit.length
        ? s`INSERT INTO audit_events (event_id, ts, correlation_id, event_type, source, symbol, payload)
            SELECT * FROM unnest(${arrayLiteral(audit.map((a) => a.id))}::text[], ${arrayLiteral(audit.map((a) => new Date(a.ts).toISOString()))}::timestamptz[],
              ${arrayLiteral(audit.map((a) => a.correlation_id))}::text[], ${arrayLiteral(audit.map((a) => a.type))}::text[], ${arrayLiteral(audit.map((a) => a.source))}::text[],
              ${arrayLiteral(audit.map((a) => a.symbol))}::text[], ${arrayLiteral(audit.map((a) => a.payload))}::jsonb[])
            ON CONFLICT DO NOTHING`
        : null,
      trades.length ? s`INSERT INTO trades ${s(trades, ...TRADE_COLUMNS)} ON CONFLICT (idempotency_key) DO NOTHING RETURNING *` : null,
    ].filter((p) => p !== null);
    // Data-modifying CTEs all run to completion within the statement; the last part is the main query.
    if (parts.length === 1) return [...(await parts[0]!)];
    if (parts.length === 2) return [...(await s`WITH w1 AS (${parts[0]!}) ${parts[1]!}`)];
    if (parts.length === 3) return [...(await s`WITH w1 AS (${parts[0]!}), w2 AS (${parts[1]!}) ${parts[2]!}`)];
    return [];
  }

  appendBars(bars: Bar[], source: string): Promise<void> | void {
    return this.enqueue(bars.map((bar) => ({ kind: "bar" as const, bar, source })));
  }

  appendAudit(events: Envelope[]): Promise<void> | void {
    return this.enqueue(
      events.map((e) => ({ kind: "audit" as const, id: e.id, ts: e.ts, correlation_id: e.correlation_id, type: e.type, source: e.source, symbol: e.symbol, payload: JSON.stringify(e.payload) })),
    );
  }

  async flush(): Promise<void> {
    while (this.queue.length > 0) {
      this.kick();
      await this.flushing;
    }
  }

  // --- direct writes and reads ---------------------------------------------------------------

  async recordDeadLetter(d: DeadLetter): Promise<void> {
    await this.retry("recordDeadLetter", () => this.sql`INSERT INTO dead_letters (ts, topic, handler, event_id, correlation_id, event, error)
      VALUES (${dt(d.ts)}, ${d.topic}, ${d.handler}, ${d.event.id}, ${d.event.correlation_id}, ${this.sql.json(d.event as any)}, ${d.error})`);
  }

  appendTrades(ts: NewTrade[]): Promise<void> | void {
    this.queuedTrades += ts.length;
    return this.enqueue(ts.map((t) => ({ kind: "trade" as const, row: tradeRow(t) })));
  }

  /** Write buffered trade rows before anything reads or inserts trades. */
  private async tradesFirst(): Promise<void> {
    if (this.queuedTrades > 0) await this.flush();
  }

  /**
   * The write-ahead insert: everything queued before it (bars, audit rows, blocked trades) and this
   * row in ONE statement, committed before this returns — one round trip per order, and the
   * order's chain is durable with its row. Runs as the writer (no batch is in flight meanwhile).
   */
  async insertTrade(t: NewTrade): Promise<TradeRow | null> {
    while (this.flushing) await this.flushing;
    const job = (async () => {
      while (this.queue.length > (this.o.batchSize ?? BATCH)) await this.writeQueued(this.o.batchSize ?? BATCH);
      return this.writeQueued(this.queue.length, tradeRow(t));
    })();
    this.flushing = job.then(() => undefined, () => undefined).finally(() => {
      this.flushing = null;
      if (this.queue.length > 0) this.kick();
    });
    const rows = await job;
    const mine = rows.find((r) => r.idempotency_key === t.idempotency_key);
    return mine ? tradeFromRow(mine) : null;
  }

  async updateTrade(id: number, patch: TradePatch): Promise<void> {
    await this.tradesFirst();
    const p: Row = {};
    for (const [k, v] of Object.entries(patch)) {
      if (v === undefined) continue;
      p[k] = TRADE_TIME_KEYS.has(k) ? dtN(v as number | null) : k === "avg_fill_price" ? num(v) : v;
    }
    if (Object.keys(p).length === 0) return;
    const r = await this.retry("updateTrade", () => this.sql`UPDATE trades SET ${this.sql(p)} WHERE id = ${id}`);
    if (r.count === 0) throw new StoreError(`trade ${id} not found`, "updateTrade");
  }

  async getTrade(id: number): Promise<TradeRow | null> {
    await this.tradesFirst();
    const r = await this.retry("getTrade", () => this.sql`SELECT * FROM trades WHERE id = ${id}`);
    return r[0] ? tradeFromRow(r[0]) : null;
  }

  async getTradeByKey(key: string): Promise<TradeRow | null> {
    await this.tradesFirst();
    const r = await this.retry("getTradeByKey", () => this.sql`SELECT * FROM trades WHERE idempotency_key = ${key}`);
    return r[0] ? tradeFromRow(r[0]) : null;
  }

  async listTrades(f: TradeFilter = {}): Promise<TradeRow[]> {
    await this.tradesFirst();
    const rows = await this.retry("listTrades", (s = this.sql) => s`SELECT * FROM trades WHERE TRUE
      ${f.status ? s`AND status = ${f.status}` : s``} ${f.symbol ? s`AND symbol = ${f.symbol}` : s``}
      ${f.correlation_id ? s`AND correlation_id = ${f.correlation_id}` : s``} ${f.since !== undefined ? s`AND ts >= ${dtBound(f.since)}` : s``}
      ${f.alpaca_order_id ? s`AND alpaca_order_id = ${f.alpaca_order_id}` : s``} ${f.adopted ? s`AND adopted_at IS NOT NULL` : s``}
      ORDER BY ts DESC, id DESC LIMIT ${f.limit ?? 100}`);
    return rows.map(tradeFromRow);
  }

  async orderStats(symbol: string, minuteStart: number, dayStart: number): Promise<OrderStats> {
    await this.tradesFirst();
    // An array literal cast to text[] (fetch_types is off, so JS arrays are not serialized as arrays).
    const open = `{${OPEN_STATUSES.join(",")}}`;
    const [r] = await this.retry("orderStats", () => this.sql`SELECT
        COUNT(*) FILTER (WHERE ts >= ${dt(minuteStart)}) AS orders_since,
        COUNT(*) FILTER (WHERE symbol = ${symbol} AND ts >= ${dt(dayStart)}) AS symbol_since,
        COUNT(*) FILTER (WHERE status = ANY(${open}::text[])) AS open_orders,
        MAX(ts) FILTER (WHERE symbol = ${symbol}) AS last_symbol_ts,
        COALESCE(SUM((qty - filled_qty) * price) FILTER (WHERE status = ANY(${open}::text[]) AND side = 'buy'), 0) AS pending_buy,
        COALESCE(SUM((qty - filled_qty) * price) FILTER (WHERE status = ANY(${open}::text[]) AND side = 'buy' AND symbol = ${symbol}), 0) AS pending_symbol_buy
      FROM trades WHERE status NOT IN ('blocked', 'rejected')`);
    return {
      ordersSince: Number(r!.orders_since), symbolOrdersSince: Number(r!.symbol_since), openOrders: Number(r!.open_orders),
      lastSymbolOrderTs: r!.last_symbol_ts ? ms(r!.last_symbol_ts) : null, pendingBuyNotional: num(r!.pending_buy)!, pendingSymbolBuyNotional: num(r!.pending_symbol_buy)!,
    };
  }

  async placedTradesSince(since: number): Promise<TradeRow[]> {
    await this.tradesFirst();
    const rows = await this.retry("placedTradesSince", () => this.sql`SELECT * FROM trades WHERE ts >= ${dtBound(since)} AND status NOT IN ('blocked', 'rejected') ORDER BY ts, id`);
    return rows.map(tradeFromRow);
  }

  async positions(): Promise<Position[]> {
    return (await this.retry("positions", () => this.sql`SELECT * FROM positions ORDER BY symbol`)).map(positionFromRow);
  }

  async getPosition(symbol: string): Promise<Position | null> {
    const r = await this.retry("getPosition", () => this.sql`SELECT * FROM positions WHERE symbol = ${symbol}`);
    return r[0] ? positionFromRow(r[0]) : null;
  }

  async upsertPosition(p: Position): Promise<void> {
    await this.retry("upsertPosition", () => this.sql`INSERT INTO positions (symbol, qty, avg_entry_price, last_price, market_value, unrealized_pl, opened_at, updated_at, inherited)
      VALUES (${p.symbol}, ${p.qty}, ${round6(p.avg_entry_price)}, ${num(p.last_price)}, ${round6(p.market_value)}, ${round6(p.unrealized_pl)}, ${dtN(p.opened_at)}, ${dt(p.updated_at)}, ${p.inherited === true})
      ON CONFLICT (symbol) DO UPDATE SET qty = EXCLUDED.qty, avg_entry_price = EXCLUDED.avg_entry_price, last_price = EXCLUDED.last_price,
        market_value = EXCLUDED.market_value, unrealized_pl = EXCLUDED.unrealized_pl, opened_at = EXCLUDED.opened_at, updated_at = EXCLUDED.updated_at,
        inherited = EXCLUDED.inherited`);
  }

  async auditByCorrelation(correlationId: string): Promise<AuditRow[]> {
    await this.flush();
    const rows = await this.retry("auditByCorrelation", () => this.sql`SELECT * FROM audit_events WHERE correlation_id = ${correlationId} ORDER BY ts, seq`);
    return rows.map((r) => ({ ts: ms(r.ts), event_id: r.event_id, correlation_id: r.correlation_id, event_type: r.event_type, source: r.source, symbol: r.symbol, payload: r.payload }));
  }

  async recentAudit(correlationId: string, limit: number): Promise<AuditRow[]> {
    await this.flush();
    const rows = await this.retry("recentAudit", () => this.sql`SELECT * FROM audit_events WHERE correlation_id = ${correlationId} ORDER BY ts DESC, seq DESC LIMIT ${limit}`);
    return rows.map((r) => ({ ts: ms(r.ts), event_id: r.event_id, correlation_id: r.correlation_id, event_type: r.event_type, source: r.source, symbol: r.symbol, payload: r.payload }));
  }

  async recordLlmTrace(t: Omit<LlmTraceRow, "id">): Promise<void> {
    await this.retry("recordLlmTrace", () => this.sql`INSERT INTO llm_traces (ts, correlation_id, agent_name, model, base_url, latency_ms, status, error_message, request, response, prompt_tokens, completion_tokens)
      VALUES (${dt(t.ts)}, ${t.correlation_id}, ${t.agent_name}, ${t.model}, ${t.base_url}, ${t.latency_ms}, ${t.status}, ${t.error_message},
        ${t.request === undefined || t.request === null ? null : this.sql.json(t.request as any)}, ${t.response === undefined || t.response === null ? null : this.sql.json(t.response as any)},
        ${t.prompt_tokens}, ${t.completion_tokens})`);
  }

  async listLlmTraces(f: LlmTraceFilter = {}): Promise<LlmTraceRow[]> {
    const rows = await this.retry("listLlmTraces", (s = this.sql) => s`SELECT * FROM llm_traces WHERE TRUE
      ${f.agent ? s`AND agent_name = ${f.agent}` : s``} ${f.model ? s`AND model = ${f.model}` : s``} ${f.status ? s`AND status = ${f.status}` : s``}
      ${f.since !== undefined ? s`AND ts >= ${dtBound(f.since)}` : s``} ${f.until !== undefined ? s`AND ts < ${dtBound(f.until)}` : s``}
      ${f.correlation_id ? s`AND correlation_id = ${f.correlation_id}` : s``} ${f.afterId !== undefined ? s`AND id > ${f.afterId}` : s``}
      ORDER BY ${f.afterId !== undefined ? s`id ASC` : s`ts DESC, id DESC`} LIMIT ${f.limit ?? 20}`);
    return rows.map((r) => ({
      id: Number(r.id), ts: ms(r.ts), correlation_id: r.correlation_id, agent_name: r.agent_name, model: r.model, base_url: r.base_url,
      latency_ms: r.latency_ms === null ? null : Number(r.latency_ms), status: r.status, error_message: r.error_message, request: r.request, response: r.response,
      prompt_tokens: r.prompt_tokens, completion_tokens: r.completion_tokens,
    }));
  }

  async barCloses(from: number, to: number): Promise<{ symbol: string; ts: number; price: number }[]> {
    await this.flush();
    const rows = await this.retry("barCloses", () => this.sql`SELECT symbol, ts, close FROM market_bars WHERE ts >= ${dtBound(from)} AND ts < ${dtBound(to)} ORDER BY ts, symbol`);
    return rows.map((r) => ({ symbol: r.symbol, ts: ms(r.ts), price: num(r.close)! }));
  }

  async barsBetween(from: number, to: number): Promise<Bar[]> {
    await this.flush();
    const rows = await this.retry("barsBetween", () => this.sql`SELECT * FROM market_bars WHERE ts >= ${dtBound(from)} AND ts < ${dtBound(to)} ORDER BY ts, symbol`);
    return rows.map((r) => ({ symbol: r.symbol, ts: ms(r.ts), open: num(r.open)!, high: num(r.high)!, low: num(r.low)!, close: num(r.close)!, volume: Number(r.volume) }));
  }

  async saveModel(m: ModelRow): Promise<void> {
    const j = (x: unknown) => (x === undefined || x === null ? null : this.sql.json(x as any));
    await this.retry("saveModel", () => this.sql`INSERT INTO models (version, name, status, created_at, promoted_at, metrics, train_window, features, params)
      VALUES (${m.version}, ${m.name}, ${m.status}, ${dt(m.created_at)}, ${dtN(m.promoted_at)}, ${j(m.metrics)}, ${j(m.train_window)}, ${j(m.features)}, ${j(m.params)})
      ON CONFLICT (version) DO UPDATE SET status = EXCLUDED.status, promoted_at = EXCLUDED.promoted_at, metrics = EXCLUDED.metrics`);
  }

  async listModels(): Promise<ModelRow[]> {
    const rows = await this.retry("listModels", () => this.sql`SELECT * FROM models ORDER BY created_at DESC, version DESC`);
    return rows.map((r) => ({ version: r.version, name: r.name, status: r.status, created_at: ms(r.created_at), promoted_at: msN(r.promoted_at), metrics: r.metrics, train_window: r.train_window, features: r.features, params: r.params }));
  }

  async productionModelVersion(): Promise<string | null> {
    const [r] = await this.retry("productionModelVersion", () => this.sql`SELECT version FROM models WHERE status = 'production' LIMIT 1`);
    return r ? r.version : null;
  }

  async promoteModel(version: string, at: number): Promise<void> {
    // One statement (atomic without sql.begin, see writeBatch): the version becomes production and
    // every other production model is retired, only when the version exists.
    const [r] = await this.retry("promoteModel", () => this.sql`WITH hit AS (SELECT 1 FROM models WHERE version = ${version}),
      upd AS (UPDATE models SET status = CASE WHEN version = ${version} THEN 'production' ELSE 'retired' END,
          promoted_at = CASE WHEN version = ${version} THEN ${dt(at)}::timestamptz ELSE promoted_at END
        WHERE (version = ${version} OR status = 'production') AND EXISTS (SELECT 1 FROM hit) RETURNING 1)
      SELECT (SELECT COUNT(*) FROM hit) AS found, (SELECT COUNT(*) FROM upd) AS updated`);
    if (Number(r!.found) === 0) throw new StoreError(`no model version ${version}`, "promoteModel");
  }

  async setModelStatus(version: string, status: ModelRow["status"]): Promise<void> {
    const r = await this.retry("setModelStatus", () => this.sql`UPDATE models SET status = ${status} WHERE version = ${version}`);
    if (r.count === 0) throw new StoreError(`no model version ${version}`, "setModelStatus");
  }

  async startAgentRun(agent: string, trigger: AgentRunRow["trigger"], at: number): Promise<number> {
    const r = await this.retry("startAgentRun", () => this.sql`INSERT INTO agent_runs (agent, trigger, started_at, status) VALUES (${agent}, ${trigger}, ${dt(at)}, 'running') RETURNING id`);
    return Number(r[0]!.id);
  }

  async finishAgentRun(id: number, p: Pick<AgentRunRow, "status" | "steps" | "error" | "finished_at">): Promise<void> {
    await this.retry("finishAgentRun", () => this.sql`UPDATE agent_runs SET status = ${p.status}, steps = ${this.sql.json(p.steps as any)}, error = ${p.error}, finished_at = ${dtN(p.finished_at)} WHERE id = ${id}`);
  }

  async listAgentRuns(f: { agent?: string; limit?: number }): Promise<AgentRunRow[]> {
    const rows = await this.retry("listAgentRuns", (s = this.sql) => s`SELECT * FROM agent_runs WHERE TRUE ${f.agent ? s`AND agent = ${f.agent}` : s``} ORDER BY id DESC LIMIT ${f.limit ?? 20}`);
    return rows.map((r) => ({ id: Number(r.id), agent: r.agent, trigger: r.trigger, started_at: ms(r.started_at), finished_at: msN(r.finished_at), status: r.status, steps: r.steps, error: r.error }));
  }

  async latestBarTs(): Promise<number | null> {
    await this.flush();
    const r = await this.retry("latestBarTs", () => this.sql`SELECT MAX(ts) AS t FROM market_bars`);
    return r[0]!.t ? ms(r[0]!.t) : null;
  }

  async saveDailyPnl(r: DailyPnlRow): Promise<void> {
    const row = { ...r, created_at: dt(r.created_at) };
    await this.retry("saveDailyPnl", () => this.sql`INSERT INTO daily_pnl_summary ${this.sql(row as any)}
      ON CONFLICT (report_date) DO UPDATE SET realized_pnl_usd = EXCLUDED.realized_pnl_usd, unrealized_pnl_usd = EXCLUDED.unrealized_pnl_usd,
        total_pnl_usd = EXCLUDED.total_pnl_usd, win_rate = EXCLUDED.win_rate, num_trades = EXCLUDED.num_trades, num_buys = EXCLUDED.num_buys,
        num_sells = EXCLUDED.num_sells, volume_usd = EXCLUDED.volume_usd, wins = EXCLUDED.wins, losses = EXCLUDED.losses, avg_win_usd = EXCLUDED.avg_win_usd,
        avg_loss_usd = EXCLUDED.avg_loss_usd, max_drawdown_usd = EXCLUDED.max_drawdown_usd, best_symbol = EXCLUDED.best_symbol,
        worst_symbol = EXCLUDED.worst_symbol, created_at = EXCLUDED.created_at`);
  }

  async listDailyPnl(limit: number): Promise<DailyPnlRow[]> {
    const rows = await this.retry("listDailyPnl", () => this.sql`SELECT * FROM daily_pnl_summary ORDER BY report_date DESC LIMIT ${limit}`);
    const n = (x: unknown) => (x === null ? null : Number(x));
    return rows.map((r) => ({
      report_date: r.report_date instanceof Date ? r.report_date.toISOString().slice(0, 10) : String(r.report_date), realized_pnl_usd: num(r.realized_pnl_usd)!,
      unrealized_pnl_usd: num(r.unrealized_pnl_usd)!, total_pnl_usd: num(r.total_pnl_usd)!, win_rate: n(r.win_rate), num_trades: r.num_trades, num_buys: r.num_buys,
      num_sells: r.num_sells, volume_usd: num(r.volume_usd)!, wins: r.wins, losses: r.losses, avg_win_usd: num(r.avg_win_usd), avg_loss_usd: num(r.avg_loss_usd),
      max_drawdown_usd: num(r.max_drawdown_usd)!, best_symbol: r.best_symbol, worst_symbol: r.worst_symbol, created_at: ms(r.created_at),
    }));
  }

  async saveBacktestRun(r: BacktestRunRow): Promise<void> {
    const s = this.sql;
    const j = (x: unknown) => s.json(x as any);
    await this.retry("saveBacktestRun", (s = this.sql) => s`INSERT INTO backtest_runs (id, label, started_at, finished_at, symbols, range_from, range_to, data_files, config, config_hash, code_version, summary, results)
      VALUES (${r.id}, ${r.label}, ${dt(r.started_at)}, ${dt(r.finished_at)}, ${j(r.symbols)}, ${r.range_from}, ${r.range_to}, ${j(r.data_files)}, ${j(r.config)}, ${r.config_hash}, ${r.code_version}, ${j(r.summary)}, ${j(r.results)})`);
  }

  async getBacktestRun(id: string): Promise<BacktestRunRow | null> {
    const rows = await this.retry("getBacktestRun", () => this.sql`SELECT * FROM backtest_runs WHERE id = ${id}`);
    return rows[0] ? backtestRunFromRow(rows[0]) : null;
  }

  async listBacktestRuns(limit: number): Promise<BacktestRunRow[]> {
    const rows = await this.retry("listBacktestRuns", () => this.sql`SELECT * FROM backtest_runs ORDER BY started_at DESC, id DESC LIMIT ${limit}`);
    return rows.map(backtestRunFromRow);
  }

  async countAudit(eventType?: string): Promise<number> {
    await this.flush();
    const r = eventType
      ? await this.retry("countAudit", () => this.sql`SELECT COUNT(*) AS n FROM audit_events WHERE event_type = ${eventType}`)
      : await this.retry("countAudit", () => this.sql`SELECT COUNT(*) AS n FROM audit_events`);
    return Number(r[0]!.n);
  }

  async getState(key: string): Promise<string | null> {
    const r = await this.retry("getState", () => this.sql`SELECT value FROM system_state WHERE key = ${key}`);
    return r[0] ? (r[0].value as string) : null;
  }

  async setState(key: string, value: string, at: number): Promise<void> {
    // The write and its notification in one statement (NOTIFY is delivered at commit).
    await this.retry("setState", () => this.sql`WITH w AS (INSERT INTO system_state (key, value, updated_at) VALUES (${key}, ${value}, ${dt(at)})
      ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at RETURNING key)
      SELECT pg_notify(${STATE_CHANNEL}, current_schema() || ':' || key) FROM w`);
  }

  /**
   * LISTEN on the state channel over a client of its own (the main client is replaced after a
   * dropped connection; this one reconnects by itself and runs `onListen` again each time).
   * Notifications name the schema, so stores of other schemas on the same database are ignored.
   */
  async watchState(onChange: (key: string) => void, onListen: () => void): Promise<() => Promise<void>> {
    const schema = this.o.schema ?? String((await this.retry("watchState", () => this.sql`SELECT current_schema() AS s`))[0]!.s);
    const listener = postgres(this.o.url, {
      max: 1, onnotice: () => {}, connect_timeout: 5, fetch_types: false, backoff: (n: number) => Math.min(0.02 * 2 ** n, 2),
      connection: { application_name: `${this.o.applicationName ?? "awet"}-state` },
    });
    const prefix = `${schema}:`;
    try {
      await listener.listen(STATE_CHANNEL, (payload) => {
        if (payload.startsWith(prefix)) onChange(payload.slice(prefix.length));
      }, onListen);
    } catch (e) {
      await listener.end({ timeout: 0 }).catch(() => undefined);
      throw new StoreError(`watchState failed: ${errorMessage(e)}`, "watchState", e);
    }
    return async () => {
      await listener.end({ timeout: 1 }).catch(() => undefined);
    };
  }

  async counts(): Promise<StoreCounts> {
    await this.tradesFirst();
    await this.flush();
    const n = async (q: () => Promise<Row[]>) => Number((await this.retry("counts", q))[0]!.n);
    const by: Record<string, number> = {};
    for (const r of await this.retry("counts", () => this.sql`SELECT status, COUNT(*) AS n FROM trades GROUP BY status`)) by[r.status] = Number(r.n);
    return {
      market_bars: await n(() => this.sql`SELECT COUNT(*) AS n FROM market_bars`),
      audit_events: await n(() => this.sql`SELECT COUNT(*) AS n FROM audit_events`),
      trades: await n(() => this.sql`SELECT COUNT(*) AS n FROM trades`),
      trades_by_status: by,
      dead_letters: await n(() => this.sql`SELECT COUNT(*) AS n FROM dead_letters`),
    };
  }

  async saveHeartbeat(h: Heartbeat): Promise<void> {
    await this.retry("saveHeartbeat", () => this.sql`INSERT INTO process_heartbeats (process_id, host, pid, agents, consumer_groups, version, bus, store, url, started_at, last_beat)
      VALUES (${h.process_id}, ${h.host}, ${h.pid}, ${this.sql.json(h.agents)}, ${this.sql.json(h.groups as any)}, ${h.version}, ${h.bus}, ${h.store}, ${h.url}, ${dt(h.started_at)}, ${dt(h.last_beat)})
      ON CONFLICT (process_id) DO UPDATE SET host = EXCLUDED.host, pid = EXCLUDED.pid, agents = EXCLUDED.agents, consumer_groups = EXCLUDED.consumer_groups,
        version = EXCLUDED.version, bus = EXCLUDED.bus, store = EXCLUDED.store, url = EXCLUDED.url, started_at = EXCLUDED.started_at, last_beat = EXCLUDED.last_beat`);
  }

  async listHeartbeats(): Promise<Heartbeat[]> {
    const rows = await this.retry("listHeartbeats", () => this.sql`SELECT * FROM process_heartbeats ORDER BY process_id`);
    return rows.map((r) => ({
      process_id: r.process_id, host: r.host, pid: Number(r.pid), agents: r.agents, groups: r.consumer_groups, version: r.version,
      bus: r.bus, store: r.store, url: r.url, started_at: ms(r.started_at), last_beat: ms(r.last_beat),
    }));
  }

  async deleteHeartbeat(processId: string): Promise<void> {
    await this.retry("deleteHeartbeat", () => this.sql`DELETE FROM process_heartbeats WHERE process_id = ${processId}`);
  }

  async saveLag(rows: LagRecord[]): Promise<void> {
    if (rows.length === 0) return;
    const vals = rows.map((r) => ({
      group_id: r.group, topic: r.topic, partition_no: r.partition, committed: r.committed, end_offset: r.end, lag: r.lag,
      above_since: dtN(r.above_since), observed_at: dt(r.observed_at), observed_by: r.observed_by,
    }));
    await this.retry("saveLag", () => this.sql`INSERT INTO consumer_lag ${this.sql(vals, "group_id", "topic", "partition_no", "committed", "end_offset", "lag", "above_since", "observed_at", "observed_by")}
      ON CONFLICT (group_id, topic, partition_no) DO UPDATE SET committed = EXCLUDED.committed, end_offset = EXCLUDED.end_offset, lag = EXCLUDED.lag,
        above_since = EXCLUDED.above_since, observed_at = EXCLUDED.observed_at, observed_by = EXCLUDED.observed_by`);
  }

  async listLag(): Promise<LagRecord[]> {
    const rows = await this.retry("listLag", () => this.sql`SELECT * FROM consumer_lag ORDER BY group_id, topic, partition_no`);
    return rows.map((r) => ({
      group: r.group_id, topic: r.topic, partition: Number(r.partition_no), committed: r.committed === null ? null : Number(r.committed), end: Number(r.end_offset),
      lag: Number(r.lag), above_since: msN(r.above_since), observed_at: ms(r.observed_at), observed_by: r.observed_by,
    }));
  }

  async pruneWatch(before: number): Promise<{ heartbeats: number; lag: number }> {
    const h = await this.retry("pruneWatch", () => this.sql`DELETE FROM process_heartbeats WHERE last_beat < ${dt(before)}`);
    const l = await this.retry("pruneWatch", () => this.sql`DELETE FROM consumer_lag WHERE observed_at < ${dt(before)}`);
    return { heartbeats: h.count, lag: l.count };
  }

  async ping(): Promise<void> {
    try {
      await this.sql`SELECT 1`;
      this.state.connected = true;
    } catch (e) {
      this.state.connected = false;
      this.state.lastError = errorMessage(e);
      throw new StoreError(`database unreachable: ${errorMessage(e)}`, "ping", e);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.flush();
    } finally {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w();
      await this.client.end({ timeout: 5 });
    }
  }
}
