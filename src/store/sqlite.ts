import { Database, type Statement } from "bun:sqlite";
import { chmodSync, existsSync } from "node:fs";
import { ensurePrivateFile } from "../ops/trust";
import { StoreError, errorMessage } from "../core/errors";
import { SQLITE, codecs } from "./codec";
import type { BatchTable, Db, Row } from "./db";
import { loadMigrations } from "./migrations";
import type { Repositories, Store, StoreCounts } from "./port";
import { repositories, storeCounts } from "./repos";

export interface SqliteStore extends Repositories {}

/** A failed statement as a StoreError naming the operation, as on PostgreSQL. */
function failsAs<T>(op: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw new StoreError(`${op} failed: ${errorMessage(e)}`, op, e);
  }
}

/**
 * bun:sqlite adapter (WAL). The repositories (src/store/repos/) hold the queries; this adapter keeps
 * what is SQLite's: the file, migrations, statements, the batched writer. Bars, audit events and
 * blocked trade rows are buffered and written in one transaction per batch; a write-ahead trade row
 * commits at once, with the buffered rows, because it must be durable before any broker call.
 */
export class SqliteStore implements Store {
  readonly kind = "sqlite" as const;
  private db: Database;
  private readonly codec = codecs(SQLITE);
  private buffers: Record<BatchTable, unknown[][]> = { market_bars: [], audit_events: [], trades: [] };
  private queued = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stmts = new Map<string, Statement>();
  private closed = false;
  private readonly inserts: Record<BatchTable, string>;
  private readonly batchCodecs = { market_bars: this.codec("market_bars"), audit_events: this.codec("audit_events"), trades: this.codec("trades") };
  /** What the repositories run on. */
  private readonly io: Db;

  constructor(
    readonly path: string,
    private opts: { batchSize?: number; flushMs?: number } = {},
  ) {
    // The database holds prompts and trades: 0600 in a 0700 folder whatever the umask (SQLite
    // gives the -wal and -shm files the database file's mode).
    if (path !== ":memory:") ensurePrivateFile(path);
    try {
      this.db = new Database(path, { create: true, strict: false });
      this.db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = 10000;");
      if (path !== ":memory:") for (const f of [`${path}-wal`, `${path}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
    } catch (e) {
      throw new StoreError(`cannot open SQLite database ${path}: ${(e as Error).message}`, "open", e);
    }
    const insert = (verb: string, t: BatchTable, conflict = "") => {
      const cols = this.batchCodecs[t].insertColumns;
      return `${verb} INTO ${t} (${cols.join(", ")}) VALUES (${cols.map(() => "?").join(", ")}) ${conflict}`;
    };
    // a row already there (a replayed bar, a redelivered event, a known key) is skipped
    this.inserts = {
      market_bars: insert("INSERT OR IGNORE", "market_bars"),
      audit_events: insert("INSERT OR IGNORE", "audit_events"),
      trades: insert("INSERT", "trades", "ON CONFLICT (idempotency_key) DO NOTHING"),
    };
    this.io = {
      kind: "sqlite",
      codec: this.codec,
      all: (op, sql, params = []) => failsAs(op, () => this.q(sql).all(...(params as never[])) as Row[]),
      run: (op, sql, params = []) => failsAs(op, () => this.q(sql).run(...(params as never[])).changes),
      append: (t, rows, common) => this.append(t, rows, common),
      // every buffered row and the write-ahead row in ONE transaction: one commit per order, and the
      // order's chain is on disk with it
      writeAhead: (t) =>
        failsAs("insertTrade", () => this.flushSync(() => this.q(`${this.inserts.trades} RETURNING *`).get(...(this.batchCodecs.trades.values(t) as never[])) as Row | null) ?? null),
      settle: (only) => {
        if (only !== "trades" || this.buffers.trades.length) this.flushSync();
      },
      atomic: (op, statements) =>
        failsAs(op, () =>
          this.db.transaction(() => {
            for (const s of statements) {
              const changed = this.q(s.sql).run(...(s.params as never[])).changes;
              if (s.mustChange !== undefined && changed === 0) throw new Error(s.mustChange);
            }
          })(),
        ),
    };
    const repos = repositories(this.io);
    // own state writes move stateVersion (data_version moves only on other connections' commits)
    const setState = async (key: string, value: string, at: number) => {
      try {
        await repos.setState(key, value, at);
      } finally {
        this.ownStateWrites++;
      }
    };
    Object.assign(this, repos, { setState });
  }

  private ownStateWrites = 0;

  /** See StateRepository.stateVersion: any commit by another connection, or a state write by this one, changes it. */
  stateVersion(): string {
    const r = failsAs("stateVersion", () => this.q("PRAGMA data_version").get() as { data_version: number });
    return `${r.data_version}:${this.ownStateWrites}`;
  }

  counts(): Promise<StoreCounts> {
    return storeCounts(this.io);
  }

  private q(sql: string): Statement {
    let s = this.stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }

  async migrate(): Promise<string[]> {
    this.db.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
    );
    const done = new Set((this.db.query("SELECT version FROM schema_migrations").all() as Row[]).map((r) => r.version));
    const applied: string[] = [];
    for (const m of loadMigrations("sqlite")) {
      if (done.has(m.version)) continue;
      try {
        this.db.transaction(() => {
          this.db.exec(m.sql);
          this.db.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)").run(
            m.version, m.name, new Date().toISOString(),
          );
        })();
      } catch (e) {
        throw new StoreError(`migration ${m.version}_${m.name} failed: ${(e as Error).message}`, "migrate", e);
      }
      applied.push(`${String(m.version).padStart(3, "0")}_${m.name}`);
    }
    // statements prepared before a migration may name what it changed
    for (const s of this.stmts.values()) s.finalize();
    this.stmts.clear();
    return applied;
  }

  private append(t: BatchTable, rows: readonly object[], common?: Row): void {
    const c = this.batchCodecs[t];
    const buf = this.buffers[t];
    for (const r of rows) buf.push(c.values(r, common));
    this.queued += rows.length;
    const size = this.opts.batchSize ?? 2048;
    if (this.queued >= size) {
      this.flushSync();
      return;
    }
    if (!this.timer) this.timer = setTimeout(() => this.flushSync(), this.opts.flushMs ?? 100);
  }

  /** Write the buffered rows in one transaction; `also` runs last inside the same transaction. */
  private flushSync<T = void>(also?: () => T): T | undefined {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.closed || this.queued === 0) return also ? this.db.transaction(also)() : undefined;
    const { market_bars, audit_events, trades } = this.buffers;
    const insBar = this.q(this.inserts.market_bars);
    const insAudit = this.q(this.inserts.audit_events);
    const insTrade = this.q(this.inserts.trades);
    // Buffers are swapped only after the commit, so a failed batch stays queued, not lost.
    const out = this.db.transaction(() => {
      for (const r of market_bars) insBar.run(...(r as never[]));
      for (const r of audit_events) insAudit.run(...(r as never[]));
      for (const r of trades) insTrade.run(...(r as never[]));
      return also?.();
    })();
    this.buffers = { market_bars: [], audit_events: [], trades: [] };
    this.queued = 0;
    return out;
  }

  async ping(): Promise<void> {
    this.db.query("SELECT 1").get();
  }

  async flush(): Promise<void> {
    this.flushSync();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.flushSync();
    this.closed = true;
    for (const s of this.stmts.values()) s.finalize();
    this.db.close();
  }
}
