import postgres, { type Sql } from "postgres";
import { StoreError, errorMessage } from "../core/errors";
import type { Logger } from "../obs/log";
import { codecs, postgresDialect } from "./codec";
import type { BatchTable, Db, Row } from "./db";
import { loadMigrations } from "./migrations";
import type { Repositories, Store, StoreCounts } from "./port";
import { repositories, storeCounts } from "./repos";
import { TIMESCALE_DEFAULTS, setupTimescale, type TimescaleOptions } from "./timescale";

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

/**
 * Queued rows: bars as they came (immutable values: encoded by the flusher, off the per-bar path),
 * audit rows as column-array elements (captured when appended) with their correlation id.
 */
type Queued = { table: "market_bars"; bar: { symbol: string; ts: number }; common: Row | undefined } | { table: "audit_events"; v: unknown[]; corr: string };

/**
 * Column `col` of `rows` as a PostgreSQL array literal ('{"a","b",NULL}') sent as ONE text
 * parameter and cast server-side (`unnest($1::text[], ...)`): a batch of N rows is a statement with
 * one parameter per column, not N per column, which the server parses and plans in a fraction of
 * the time.
 * Every text element is quoted, so commas, braces, spaces and the word NULL stay text; inside the
 * quotes only `"` and `\` are escaped (a backslash makes the next character literal, newlines
 * included). Most elements — symbols, ISO times, ids — have neither and are copied as they are.
 */
export function columnLiteral(rows: readonly (readonly unknown[])[], col: number): string {
  let s = "{";
  for (let i = 0; i < rows.length; i++) {
    const x = rows[i]![col];
    if (i > 0) s += ",";
    if (x === null || x === undefined) s += "NULL";
    else if (typeof x === "number") s += Number.isFinite(x) ? String(x) : `"${String(x)}"`;
    else {
      const t = String(x);
      s += t.indexOf('"') === -1 && t.indexOf("\\") === -1 ? '"' + t + '"' : '"' + t.replace(/[\\"]/g, "\\$&") + '"';
    }
  }
  return s + "}";
}

/** `?` placeholders (the repositories' SQL) as PostgreSQL's `$1, $2, ...`; no literal of theirs holds a `?`. */
function numbered(sql: string): string {
  let i = 0;
  return sql.replace(/\?/g, () => `$${++i}`);
}

export interface PostgresStore extends Repositories {}

/**
 * The Store on PostgreSQL (TimescaleDB as store_timescale says) with the `postgres` package. The
 * repositories (src/store/repos/) hold the queries; this adapter keeps what is PostgreSQL's: the
 * client and its renewal, the retry of every statement on a lost connection, migrations and
 * TimescaleDB, the batched writer, state notifications. Bars, audit events and blocked trades go
 * through a bounded queue written by one flusher, one statement per batch: when the database is
 * slow or down, appends wait (back-pressure, shown by backlog()) instead of dropping anything, a
 * batch that fails on a lost connection is retried whole, and writing resumes where it stopped
 * once the server is back.
 */
export class PostgresStore implements Store {
  readonly kind = "postgres" as const;
  private client: Sql;
  private queue: Queued[] = [];
  /** Blocked trade rows (column-array elements) in decision order: written with the next write-ahead, or by the timer. */
  private trades: unknown[][] = [];
  /** The bars and audit rows the flusher's statement is writing now (out of the queue). */
  private inFlight: Queued[] | null = null;
  /** Rows per flusher statement now: halved after a statement is cut off, doubled back after one lands. */
  private batchRows = BATCH;
  /** Flusher statements cut off in a row: the pause before the next grows with it (to 5 s). */
  private cutStreak = 0;
  /** Statements that write trade rows run one after another, so ids follow the decisions. */
  private tradeWriter: Promise<unknown> = Promise.resolve();
  private flushing: Promise<void> | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private waiters: (() => void)[] = [];
  private state: Backlog;
  private closed = false;
  /** Whether TimescaleDB is used (known after migrate). */
  timescale: boolean | null = null;
  private timescaleWarnings: string[] = [];
  private readonly codec = codecs(postgresDialect((v) => this.sql.json(v as never)));
  private readonly numbered = new Map<string, string>();
  /** What the repositories run on: each statement retried on a lost connection. */
  private readonly io: Db;

  constructor(private o: PostgresStoreOptions) {
    this.client = this.connect();
    this.state = { queued: 0, max: o.maxQueue ?? 10_000, waiting: false, connected: true, lastError: null, retries: 0 };
    const text = (sql: string) => {
      let t = this.numbered.get(sql);
      if (t === undefined) this.numbered.set(sql, (t = numbered(sql)));
      return t;
    };
    // prepare: named statements, as tagged templates get (unsafe's default is unnamed)
    const exec = (op: string, sql: string, params: readonly unknown[] = []) => this.retry(op, () => this.sql.unsafe(text(sql), params as never[], { prepare: true }));
    this.io = {
      kind: "postgres",
      codec: this.codec,
      all: exec,
      run: async (op, sql, params) => (await exec(op, sql, params)).count,
      append: (t, rows, common) => this.enqueue(t, rows, common),
      writeAhead: (t) => this.writeAhead(t),
      settle: (only) => (only !== "trades" ? this.flush() : this.settleTrades()),
      // One statement, one round trip: each write a data-modifying CTE (PostgreSQL runs them all,
      // all or nothing), and awet_raise (migration 011) fails the whole statement when a write that
      // must change a row changed none. Retried whole on a lost connection: the writes given here
      // set values, so a second run after a commit whose reply was lost writes the same again.
      // (Not postgres.js's begin(): four round trips; nor its pipelining, which under Bun crashes
      // on a connection the server closes mid-write.)
      atomic: async (op, statements) => {
        const checks = statements.flatMap((s, i) => (s.mustChange === undefined ? [] : [{ i, text: s.mustChange }]));
        const sql = `WITH ${statements.map((s, i) => `w${i} AS (${s.sql} RETURNING 1)`).join(", ")}
          SELECT ${checks.length ? checks.map((c) => `CASE WHEN NOT EXISTS (SELECT 1 FROM w${c.i}) THEN awet_raise(?) END`).join(", ") : "1"}`;
        // a raised text comes back as "<op> failed: <text>" (retry's StoreError)
        await exec(op, sql, [...statements.flatMap((s) => s.params), ...checks.map((c) => c.text)]);
      },
    };
    // the state write is dialect here: it also notifies watchers (watchState)
    Object.assign(this, repositories(this.io), { setState: (key: string, value: string, at: number) => this.setStateNotify(key, value, at) });
  }

  counts(): Promise<StoreCounts> {
    return storeCounts(this.io);
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
    return { ...this.state, queued: this.queue.length + (this.inFlight?.length ?? 0) + this.trades.length };
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
  private enqueue(table: BatchTable, rows: readonly object[], common?: Row): Promise<void> | void {
    if (this.queue.length + this.trades.length >= this.state.max && !this.closed) return this.enqueueWhenRoom(table, rows, common);
    this.state.waiting = false;
    if (table === "market_bars") for (const bar of rows) this.queue.push({ table, bar: bar as { symbol: string; ts: number }, common });
    else if (table === "audit_events") for (const r of rows) this.queue.push({ table, v: this.codec(table).elements(r, common), corr: (r as { correlation_id: string }).correlation_id });
    else for (const r of rows) this.trades.push(this.codec(table).elements(r));
    if (this.queue.length >= (this.o.batchSize ?? BATCH)) this.kick();
    else if (!this.flushing && !this.timer)
      this.timer = setTimeout(() => {
        this.timer = null;
        this.kick();
        if (this.trades.length > 0) void this.settleTrades().catch((e) => this.o.log?.warn({ err: errorMessage(e) }, "blocked trade rows not written yet; kept for the next write"));
      }, 20);
  }

  private async enqueueWhenRoom(table: BatchTable, rows: readonly object[], common?: Row): Promise<void> {
    while (this.queue.length + this.trades.length >= this.state.max && !this.closed) {
      this.state.waiting = true; // back-pressure: the caller waits for the flusher
      this.kick();
      if (this.trades.length > 0) void this.settleTrades().catch(() => undefined);
      await new Promise<void>((r) => this.waiters.push(r));
    }
    this.enqueue(table, rows, common);
  }

  private kick(): void {
    if (!this.flushing && this.queue.length > 0) this.flushing = this.drainQueue().finally(() => (this.flushing = null));
  }

  private async drainQueue(): Promise<void> {
    while (this.queue.length > 0 && !this.closed) await this.writeRows(Math.min(this.o.batchSize ?? BATCH, this.batchRows));
    if (this.closed && this.queue.length > 0) throw new StoreError(`write batch failed: the store closed with ${this.queue.length} rows unwritten`, "write batch");
  }

  /**
   * The flusher: the first `max` queued bars and audit rows in one statement. They leave the queue
   * for the statement and come back to its front if it fails, so nothing is lost while the server
   * is away. A statement cut off with its connection (twice in a row) is sent again in halves,
   * down to 64 rows: a server that drops connections faster than a large batch takes to write
   * still sees the queue shrink, instead of the same batch cut off forever.
   */
  private async writeRows(max: number): Promise<void> {
    const batch = this.queue.splice(0, max);
    this.inFlight = batch;
    try {
      const { bars, audit } = this.split(batch);
      await this.retry("write batch", () => this.writeBatch(bars, audit, []), 2);
      this.batchRows = Math.min(BATCH, this.batchRows * 2);
      this.cutStreak = 0;
    } catch (e) {
      this.queue.unshift(...batch);
      if (!isConnectionError(e) || this.closed) throw e;
      this.batchRows = Math.max(64, Math.floor(batch.length / 2));
      await new Promise((r) => setTimeout(r, Math.min(5_000, 20 * 2 ** this.cutStreak++)));
    } finally {
      this.inFlight = null;
      this.wake();
    }
  }

  private split(rows: readonly Queued[]): { bars: unknown[][]; audit: unknown[][] } {
    const bars: unknown[][] = [], audit: unknown[][] = [];
    const barCodec = this.codec("market_bars");
    for (const q of rows) if (q.table === "market_bars") bars.push(barCodec.elements(q.bar, q.common));
    else audit.push(q.v);
    return { bars, audit };
  }

  /** Appends waiting for room in the queue (back-pressure) look again. */
  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Run `f` as the trade writer: after every statement that writes trade rows before it. */
  private asTradeWriter<T>(f: () => Promise<T>): Promise<T> {
    const run = this.tradeWriter.then(f);
    this.tradeWriter = run.catch(() => undefined);
    return run;
  }

  /** Write the blocked trade rows waiting (after any write-ahead running): what reads of trades wait for. */
  private settleTrades(): Promise<void> {
    if (this.trades.length === 0) return this.tradeWriter.then(() => undefined);
    return this.asTradeWriter(async () => {
      const rows = this.trades.splice(0);
      if (rows.length === 0) return;
      try {
        await this.retry("write batch", () => this.writeBatch([], [], rows), Number.POSITIVE_INFINITY);
      } catch (e) {
        this.trades.unshift(...rows);
        throw e;
      }
      this.wake();
    });
  }

  /**
   * Bars, audit rows and trades of one batch in ONE statement (data-modifying CTEs are atomic), not
   * in sql.begin: the `postgres` package (3.4.9) crashes the process when the server drops a
   * connection inside a transaction — its ROLLBACK is written to the closed socket from a
   * setImmediate and the TypeError escapes every await (porsager/postgres #1066, #1154, #1208).
   * Plain pooled statements never take that path; the store uses no reserved connection at all.
   * Bars and audit rows go in as column arrays (unnest: one parameter per column, the same
   * statement text for any batch size); trades too, in decision order (WITH ORDINALITY: ids
   * follow it), returning what was inserted. One statement text per combination of parts, whatever
   * the number of rows: each is prepared once per connection, not once per row count.
   */
  private async writeBatch(bars: unknown[][], audit: unknown[][], trades: unknown[][]): Promise<Row[]> {
    const s = this.sql;
    const arrays = (t: BatchTable, rows: unknown[][]) => {
      const c = this.codec(t);
      return c.insertColumns.map((_, i) => s`${columnLiteral(rows, i)}::${s.unsafe(c.arrayTypes[i]!)}`).reduce((acc, a) => s`${acc}, ${a}`);
    };
    const unnest = (t: "market_bars" | "audit_events", rows: unknown[][]) =>
      s`INSERT INTO ${s(t)} (${s.unsafe(this.codec(t).insertColumns.join(", "))}) SELECT * FROM unnest(${arrays(t, rows)}) ON CONFLICT DO NOTHING`;
    const tradeCols = this.codec("trades").insertColumns.join(", ");
    const parts = [
      bars.length ? unnest("market_bars", bars) : null,
      audit.length ? unnest("audit_events", audit) : null,
      trades.length
        ? s`INSERT INTO trades (${s.unsafe(tradeCols)}) SELECT ${s.unsafe(tradeCols)} FROM unnest(${arrays("trades", trades)}) WITH ORDINALITY AS u(${s.unsafe(tradeCols)}, n) ORDER BY n ON CONFLICT (idempotency_key) DO NOTHING RETURNING *`
        : null,
    ].filter((p) => p !== null);
    // Data-modifying CTEs all run to completion within the statement; the last part is the main query.
    if (parts.length === 1) return [...(await parts[0]!)];
    if (parts.length === 2) return [...(await s`WITH w1 AS (${parts[0]!}) ${parts[1]!}`)];
    if (parts.length === 3) return [...(await s`WITH w1 AS (${parts[0]!}), w2 AS (${parts[1]!}) ${parts[2]!}`)];
    return [];
  }

  /**
   * The write-ahead insert: the order's chain — its bar and its correlation's audit rows still
   * queued — every blocked trade row decided before it, and its own row, in ONE statement,
   * committed before this returns (one round trip per order). Bars and audit rows of other bars
   * stay with the flusher, whose statement runs beside this one: the order waits only when the
   * flusher is writing rows of its own chain. Ids follow the decisions: trade rows are written by
   * one writer at a time (asTradeWriter), and the rows decided before this order are taken now.
   */
  private async writeAhead(t: object): Promise<Row | null> {
    const o = t as { idempotency_key: string; correlation_id: string; symbol: string; ts: number };
    const row = this.codec("trades").elements(t);
    const mine = (q: Queued) => (q.table === "audit_events" ? q.corr === o.correlation_id : q.bar.symbol === o.symbol && q.bar.ts === o.ts);
    const take = (): Queued[] => {
      const chain: Queued[] = [];
      if (this.queue.some(mine)) this.queue = this.queue.filter((q) => (mine(q) ? (chain.push(q), false) : true));
      return chain;
    };
    const chain = take();
    const before = this.trades.splice(0);
    const flusher = this.inFlight?.some(mine) ? this.flushing : null;
    const rows = await this.asTradeWriter(async () => {
      // Part of the chain is in the flusher's statement: it commits first (if it fails, its rows are
      // back in the queue and are taken again here).
      if (flusher) {
        await flusher.catch(() => undefined);
        chain.push(...take());
      }
      const { bars, audit } = this.split(chain);
      try {
        return await this.retry("insertTrade", () => this.writeBatch(bars, audit, [...before, row]), 6);
      } catch (e) {
        this.queue.unshift(...chain);
        this.trades.unshift(...before);
        throw e;
      }
    });
    this.wake();
    return rows.find((r) => r.idempotency_key === o.idempotency_key) ?? null;
  }

  /** PostgreSQL's setState: the write and its notification in one statement (NOTIFY is delivered at commit). */
  private async setStateNotify(key: string, value: string, at: number): Promise<void> {
    await this.retry("setState", () => this.sql`WITH w AS (INSERT INTO system_state (key, value, updated_at) VALUES (${key}, ${value}, ${new Date(at)})
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

  /** Everything queued is committed when this resolves: bars and audit rows, blocked trades, a write-ahead running. */
  async flush(): Promise<void> {
    for (;;) {
      this.kick();
      if (this.flushing) await this.flushing;
      else if (this.trades.length > 0) await this.settleTrades();
      else {
        await this.tradeWriter;
        if (this.queue.length === 0 && this.trades.length === 0 && !this.flushing) return;
      }
    }
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
      this.wake();
      await this.client.end({ timeout: 5 });
    }
  }
}
