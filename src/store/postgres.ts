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

/** `?` placeholders (the repositories' SQL) as PostgreSQL's `$1, $2, ...`; no literal of theirs holds a `?`. */
function numbered(sql: string): string {
  let i = 0;
  return sql.replace(/\?/g, () => `$${++i}`);
}

export interface PostgresStore extends Repositories {}

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
  private queue: { table: BatchTable; row: Row }[] = [];
  private queuedTrades = 0;
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
      append: (t, rows) => this.enqueue(t, rows),
      settle: (only) => (only !== "trades" || this.queuedTrades > 0 ? this.flush() : undefined),
    };
    Object.assign(this, repositories(this.io));
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
      connection: { application_name: this.o.applicationName ?? (process.env.PGAPPNAME || "awet"), ...(this.o.schema ? { search_path: this.o.schema } : {}) },
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
  private enqueue(table: BatchTable, rows: readonly object[]): Promise<void> | void {
    if (this.queue.length >= this.state.max && !this.closed) return this.enqueueWhenRoom(table, rows);
    this.state.waiting = false;
    const c = this.codec(table);
    for (const r of rows) this.queue.push({ table, row: c.record(r) });
    if (table === "trades") this.queuedTrades += rows.length;
    if (this.queue.length >= (this.o.batchSize ?? 500)) this.kick();
    else if (!this.flushing && !this.timer)
      this.timer = setTimeout(() => {
        this.timer = null;
        this.kick();
      }, 20);
  }

  private async enqueueWhenRoom(table: BatchTable, rows: readonly object[]): Promise<void> {
    while (this.queue.length >= this.state.max && !this.closed) {
      this.state.waiting = true; // back-pressure: the caller waits for the flusher
      this.kick();
      await new Promise<void>((r) => this.waiters.push(r));
    }
    this.enqueue(table, rows);
  }

  private kick(): void {
    if (!this.flushing) this.flushing = this.drainQueue().finally(() => (this.flushing = null));
  }

  private async drainQueue(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.slice(0, this.o.batchSize ?? 500);
      const bars = batch.filter((b) => b.table === "market_bars").map((b) => b.row);
      const audit = batch.filter((b) => b.table === "audit_events").map((b) => b.row);
      const trades = batch.filter((b) => b.table === "trades").map((b) => b.row);
      // One statement per batch: it lands whole or not at all, and is retried whole. Rows leave
      // the queue only after it committed, so nothing is lost while the server is away.
      await this.retry("write batch", () => this.writeBatch(bars, audit, trades), Number.POSITIVE_INFINITY);
      this.queue.splice(0, batch.length);
      this.queuedTrades -= trades.length;
      for (const w of this.waiters.splice(0)) w();
    }
  }

  /**
   * Bars, audit rows and trades of one batch in ONE statement (data-modifying CTEs are atomic), not
   * in sql.begin: the `postgres` package (3.4.9) crashes the process when the server drops a
   * connection inside a transaction — its ROLLBACK is written to the closed socket from a
   * setImmediate and the TypeError escapes every await (porsager/postgres #1066, #1154, #1208).
   * Plain pooled statements never take that path; the store uses no reserved connection at all.
   */
  private async writeBatch(bars: Row[], audit: Row[], trades: Row[]): Promise<void> {
    const s = this.sql;
    const cols = (t: BatchTable) => this.codec(t).insertColumns as string[];
    const parts = [
      bars.length ? s`INSERT INTO market_bars ${s(bars, cols("market_bars"))} ON CONFLICT DO NOTHING` : null,
      audit.length ? s`INSERT INTO audit_events ${s(audit, cols("audit_events"))} ON CONFLICT DO NOTHING` : null,
      trades.length ? s`INSERT INTO trades ${s(trades, cols("trades"))} ON CONFLICT (idempotency_key) DO NOTHING` : null,
    ].filter((p) => p !== null);
    if (parts.length === 1) await parts[0]!;
    else if (parts.length === 2) await s`WITH w1 AS (${parts[0]!}) ${parts[1]!}`;
    else if (parts.length === 3) await s`WITH w1 AS (${parts[0]!}), w2 AS (${parts[1]!}) ${parts[2]!}`;
  }

  async flush(): Promise<void> {
    while (this.queue.length > 0) {
      this.kick();
      await this.flushing;
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
      for (const w of this.waiters.splice(0)) w();
      await this.client.end({ timeout: 5 });
    }
  }
}
