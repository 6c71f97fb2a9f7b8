import { Database, type Statement } from "bun:sqlite";
import { chmodSync, existsSync } from "node:fs";
import { ensurePrivateFile } from "../ops/trust";
import { clampTs } from "./bounds";
import type { Bar, Envelope } from "../core/events";
import { StoreError } from "../core/errors";
import { round6 } from "../core/money";
import { loadMigrations } from "./migrations";
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

const iso = (ts: number) => new Date(ts).toISOString();
const isoBound = (ts: number) => iso(clampTs(ts)); // a filter bound (see bounds.ts)
const isoN = (ts: number | null) => (ts === null ? null : iso(ts));
const ms = (s: string) => Date.parse(s);
const msN = (s: string | null) => (s === null ? null : Date.parse(s));
const p6 = (x: number | null) => (x === null ? null : round6(x));

const TRADE_COLS = [
  "ts", "correlation_id", "idempotency_key", "symbol", "side", "qty", "price", "status", "error_message",
  "alpaca_order_id", "client_order_id", "alpaca_status", "filled_qty", "avg_fill_price", "filled_at",
  "updated_at", "paper_trade", "dry_run", "order_type", "take_profit_price", "stop_loss_price", "exit_reason", "run_id",
  "submit_wall_at", "first_contact_wall_at", "last_contact_wall_at", "adopted_at",
] as const;

/** Trade columns holding times (ISO text here, epoch ms in TradeRow). */
const TRADE_TIME_KEYS = new Set(["filled_at", "updated_at", "submit_wall_at", "first_contact_wall_at", "last_contact_wall_at", "adopted_at"]);

type Row = Record<string, any>;

function tradeFromRow(r: Row): TradeRow {
  return {
    id: r.id,
    ts: ms(r.ts),
    correlation_id: r.correlation_id,
    idempotency_key: r.idempotency_key,
    symbol: r.symbol,
    side: r.side,
    qty: r.qty,
    price: p6(r.price),
    status: r.status,
    error_message: r.error_message,
    alpaca_order_id: r.alpaca_order_id,
    client_order_id: r.client_order_id,
    alpaca_status: r.alpaca_status,
    filled_qty: r.filled_qty,
    avg_fill_price: p6(r.avg_fill_price),
    filled_at: msN(r.filled_at),
    updated_at: ms(r.updated_at),
    paper_trade: r.paper_trade === 1,
    dry_run: r.dry_run === 1,
    order_type: r.order_type,
    take_profit_price: p6(r.take_profit_price),
    stop_loss_price: p6(r.stop_loss_price),
    exit_reason: r.exit_reason,
    run_id: r.run_id,
    submit_wall_at: msN(r.submit_wall_at ?? null),
    first_contact_wall_at: msN(r.first_contact_wall_at ?? null),
    last_contact_wall_at: msN(r.last_contact_wall_at ?? null),
    adopted_at: msN(r.adopted_at ?? null),
  };
}

function tradeParams(t: NewTrade): unknown[] {
  return [
    iso(t.ts), t.correlation_id, t.idempotency_key, t.symbol, t.side, t.qty, p6(t.price), t.status, t.error_message,
    t.alpaca_order_id, t.client_order_id, t.alpaca_status, t.filled_qty, p6(t.avg_fill_price), isoN(t.filled_at),
    iso(t.updated_at), t.paper_trade ? 1 : 0, t.dry_run ? 1 : 0, t.order_type, p6(t.take_profit_price),
    p6(t.stop_loss_price), t.exit_reason, t.run_id,
    isoN(t.submit_wall_at ?? null), isoN(t.first_contact_wall_at ?? null), isoN(t.last_contact_wall_at ?? null), isoN(t.adopted_at ?? null),
  ];
}

function positionFromRow(r: Row): Position {
  return {
    symbol: r.symbol,
    qty: r.qty,
    avg_entry_price: round6(r.avg_entry_price),
    last_price: p6(r.last_price),
    market_value: round6(r.market_value),
    unrealized_pl: round6(r.unrealized_pl),
    opened_at: msN(r.opened_at),
    updated_at: ms(r.updated_at),
    ...(r.inherited === 1 ? { inherited: true } : {}), // present only when set, as positions built from fills have no flag
  };
}

function backtestRunFromRow(r: Row): BacktestRunRow {
  return {
    id: r.id, label: r.label, started_at: ms(r.started_at), finished_at: ms(r.finished_at), symbols: JSON.parse(r.symbols), range_from: r.range_from, range_to: r.range_to,
    data_files: JSON.parse(r.data_files), config: JSON.parse(r.config), config_hash: r.config_hash, code_version: r.code_version, summary: JSON.parse(r.summary), results: JSON.parse(r.results),
  };
}

/**
 * bun:sqlite adapter (WAL). Bars and audit events are buffered and written in one transaction per
 * batch; trade rows are written immediately, because the write-ahead row must be durable before
 * any broker call.
 */
export class SqliteStore implements Store {
  readonly kind = "sqlite" as const;
  private db: Database;
  private barBuf: unknown[][] = [];
  private auditBuf: unknown[][] = [];
  private tradeBuf: unknown[][] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stmts = new Map<string, Statement>();
  private closed = false;

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
    return applied;
  }

  appendBars(bars: Bar[], source: string): void {
    for (const b of bars) this.barBuf.push([b.symbol, iso(b.ts), b.open, b.high, b.low, b.close, b.volume, source]);
    this.schedule();
  }

  appendAudit(events: Envelope[]): void {
    for (const e of events)
      this.auditBuf.push([e.id, iso(e.ts), e.correlation_id, e.type, e.source, e.symbol, JSON.stringify(e.payload)]);
    this.schedule();
  }

  appendTrades(ts: NewTrade[]): void {
    for (const x of ts) this.tradeBuf.push(tradeParams(x));
    this.schedule();
  }

  /** Write buffered trade rows before anything reads or inserts trades. */
  private tradesFirst(): void {
    if (this.tradeBuf.length) this.flushSync();
  }

  private schedule(): void {
    const size = this.opts.batchSize ?? 2048;
    if (this.barBuf.length + this.auditBuf.length + this.tradeBuf.length >= size) {
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
    if (this.closed || (this.barBuf.length === 0 && this.auditBuf.length === 0 && this.tradeBuf.length === 0)) return also ? this.db.transaction(also)() : undefined;
    const bars = this.barBuf;
    const audit = this.auditBuf;
    const trades = this.tradeBuf;
    const insBar = this.q(
      "INSERT OR IGNORE INTO market_bars (symbol, ts, open, high, low, close, volume, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    );
    const insAudit = this.q(
      "INSERT OR IGNORE INTO audit_events (event_id, ts, correlation_id, event_type, source, symbol, payload) VALUES (?, ?, ?, ?, ?, ?, ?)",
    );
    const insTrade = this.q(`INSERT INTO trades (${TRADE_COLS.join(", ")}) VALUES (${TRADE_COLS.map(() => "?").join(", ")}) ON CONFLICT (idempotency_key) DO NOTHING`);
    // Buffers are swapped only after the commit, so a failed batch stays queued, not lost.
    const out = this.db.transaction(() => {
      for (const r of bars) insBar.run(...(r as any[]));
      for (const r of audit) insAudit.run(...(r as any[]));
      for (const r of trades) insTrade.run(...(r as any[]));
      return also?.();
    })();
    this.barBuf = [];
    this.auditBuf = [];
    this.tradeBuf = [];
    return out;
  }

  async recordDeadLetter(d: DeadLetter): Promise<void> {
    this.q(
      "INSERT INTO dead_letters (ts, topic, handler, event_id, correlation_id, event, error) VALUES (?, ?, ?, ?, ?, ?, ?)",
    ).run(iso(d.ts), d.topic, d.handler, d.event.id, d.event.correlation_id, JSON.stringify(d.event), d.error);
  }

  /**
   * The write-ahead insert: every buffered row (bars, audit, blocked trades) and this one in ONE
   * transaction, committed before this returns — one commit per order, and the order's chain is on
   * disk with it.
   */
  async insertTrade(t: NewTrade): Promise<TradeRow | null> {
    const sql = `INSERT INTO trades (${TRADE_COLS.join(", ")}) VALUES (${TRADE_COLS.map(() => "?").join(", ")})
                 ON CONFLICT (idempotency_key) DO NOTHING RETURNING *`;
    const row = this.flushSync(() => this.q(sql).get(...(tradeParams(t) as any[])) as Row | null);
    return row ? tradeFromRow(row) : null;
  }

  async updateTrade(id: number, patch: TradePatch): Promise<void> {
    this.tradesFirst();
    const keys = Object.keys(patch) as (keyof TradePatch)[];
    if (keys.length === 0) return;
    const vals = keys.map((k) => {
      const v = patch[k];
      if (TRADE_TIME_KEYS.has(k)) return isoN(v as number | null);
      if (k === "avg_fill_price") return p6(v as number | null);
      return v ?? null;
    });
    const res = this.db.query(`UPDATE trades SET ${keys.map((k) => `${k} = ?`).join(", ")} WHERE id = ?`).run(...(vals as any[]), id);
    if (res.changes === 0) throw new StoreError(`trade ${id} not found`, "updateTrade");
  }

  async getTrade(id: number): Promise<TradeRow | null> {
    this.tradesFirst();
    const r = this.q("SELECT * FROM trades WHERE id = ?").get(id) as Row | null;
    return r ? tradeFromRow(r) : null;
  }

  async getTradeByKey(key: string): Promise<TradeRow | null> {
    this.tradesFirst();
    const r = this.q("SELECT * FROM trades WHERE idempotency_key = ?").get(key) as Row | null;
    return r ? tradeFromRow(r) : null;
  }

  async listTrades(f: TradeFilter = {}): Promise<TradeRow[]> {
    this.tradesFirst();
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.status) (where.push("status = ?"), args.push(f.status));
    if (f.symbol) (where.push("symbol = ?"), args.push(f.symbol));
    if (f.correlation_id) (where.push("correlation_id = ?"), args.push(f.correlation_id));
    if (f.alpaca_order_id) (where.push("alpaca_order_id = ?"), args.push(f.alpaca_order_id));
    if (f.since !== undefined) (where.push("ts >= ?"), args.push(isoBound(f.since)));
    if (f.adopted) where.push("adopted_at IS NOT NULL");
    const sql = `SELECT * FROM trades ${where.length ? "WHERE " + where.join(" AND ") : ""} ORDER BY ts DESC, id DESC LIMIT ?`;
    args.push(f.limit ?? 100);
    return (this.db.query(sql).all(...(args as any[])) as Row[]).map(tradeFromRow);
  }

  async orderStats(symbol: string, minuteStart: number, dayStart: number): Promise<OrderStats> {
    this.tradesFirst();
    const open = OPEN_STATUSES.map((s) => `'${s}'`).join(",");
    const r = this.q(
      `SELECT
         SUM(CASE WHEN ts >= ?1 THEN 1 ELSE 0 END) AS orders_since,
         SUM(CASE WHEN symbol = ?2 AND ts >= ?3 THEN 1 ELSE 0 END) AS symbol_since,
         SUM(CASE WHEN status IN (${open}) THEN 1 ELSE 0 END) AS open_orders,
         MAX(CASE WHEN symbol = ?2 THEN ts END) AS last_symbol_ts,
         SUM(CASE WHEN status IN (${open}) AND side = 'buy' THEN (qty - filled_qty) * price ELSE 0 END) AS pending_buy,
         SUM(CASE WHEN status IN (${open}) AND side = 'buy' AND symbol = ?2 THEN (qty - filled_qty) * price ELSE 0 END) AS pending_symbol_buy
       FROM trades WHERE status NOT IN ('blocked', 'rejected')`,
    ).get(iso(minuteStart), symbol, iso(dayStart)) as Row;
    return {
      ordersSince: r.orders_since ?? 0,
      symbolOrdersSince: r.symbol_since ?? 0,
      openOrders: r.open_orders ?? 0,
      lastSymbolOrderTs: r.last_symbol_ts ? ms(r.last_symbol_ts) : null,
      pendingBuyNotional: round6(r.pending_buy ?? 0),
      pendingSymbolBuyNotional: round6(r.pending_symbol_buy ?? 0),
    };
  }

  async placedTradesSince(since: number): Promise<TradeRow[]> {
    this.tradesFirst();
    return (
      this.q("SELECT * FROM trades WHERE ts >= ? AND status NOT IN ('blocked', 'rejected') ORDER BY ts, id").all(isoBound(since)) as Row[]
    ).map(tradeFromRow);
  }

  async positions(): Promise<Position[]> {
    return (this.q("SELECT * FROM positions ORDER BY symbol").all() as Row[]).map(positionFromRow);
  }

  async getPosition(symbol: string): Promise<Position | null> {
    const r = this.q("SELECT * FROM positions WHERE symbol = ?").get(symbol) as Row | null;
    return r ? positionFromRow(r) : null;
  }

  async upsertPosition(p: Position): Promise<void> {
    this.q(
      `INSERT INTO positions (symbol, qty, avg_entry_price, last_price, market_value, unrealized_pl, opened_at, updated_at, inherited)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (symbol) DO UPDATE SET qty = excluded.qty, avg_entry_price = excluded.avg_entry_price,
         last_price = excluded.last_price, market_value = excluded.market_value, unrealized_pl = excluded.unrealized_pl,
         opened_at = excluded.opened_at, updated_at = excluded.updated_at, inherited = excluded.inherited`,
    ).run(
      p.symbol, p.qty, round6(p.avg_entry_price), p6(p.last_price), round6(p.market_value), round6(p.unrealized_pl),
      isoN(p.opened_at), iso(p.updated_at), p.inherited ? 1 : 0,
    );
  }

  async auditByCorrelation(correlationId: string): Promise<AuditRow[]> {
    this.flushSync();
    return (this.q("SELECT * FROM audit_events WHERE correlation_id = ? ORDER BY ts, id").all(correlationId) as Row[]).map(
      (r) => ({
        ts: ms(r.ts),
        event_id: r.event_id,
        correlation_id: r.correlation_id,
        event_type: r.event_type,
        source: r.source,
        symbol: r.symbol,
        payload: JSON.parse(r.payload),
      }),
    );
  }

  async recentAudit(correlationId: string, limit: number): Promise<AuditRow[]> {
    this.flushSync();
    return (this.q("SELECT * FROM audit_events WHERE correlation_id = ? ORDER BY ts DESC, id DESC LIMIT ?").all(correlationId, limit) as Row[]).map((r) => ({
      ts: ms(r.ts), event_id: r.event_id, correlation_id: r.correlation_id, event_type: r.event_type, source: r.source, symbol: r.symbol, payload: JSON.parse(r.payload),
    }));
  }

  async recordLlmTrace(t: Omit<LlmTraceRow, "id">): Promise<void> {
    this.q(
      `INSERT INTO llm_traces (ts, correlation_id, agent_name, model, base_url, latency_ms, status, error_message, request, response, prompt_tokens, completion_tokens)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(iso(t.ts), t.correlation_id, t.agent_name, t.model, t.base_url, t.latency_ms, t.status, t.error_message,
      t.request === undefined ? null : JSON.stringify(t.request), t.response === undefined ? null : JSON.stringify(t.response), t.prompt_tokens, t.completion_tokens);
  }

  async listLlmTraces(f: LlmTraceFilter = {}): Promise<LlmTraceRow[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.agent) (where.push("agent_name = ?"), args.push(f.agent));
    if (f.model) (where.push("model = ?"), args.push(f.model));
    if (f.status) (where.push("status = ?"), args.push(f.status));
    if (f.since !== undefined) (where.push("ts >= ?"), args.push(isoBound(f.since)));
    if (f.until !== undefined) (where.push("ts < ?"), args.push(isoBound(f.until)));
    if (f.correlation_id) (where.push("correlation_id = ?"), args.push(f.correlation_id));
    if (f.afterId !== undefined) (where.push("id > ?"), args.push(f.afterId));
    const order = f.afterId !== undefined ? "id ASC" : "ts DESC, id DESC";
    args.push(f.limit ?? 20);
    const rows = this.db.query(`SELECT * FROM llm_traces ${where.length ? "WHERE " + where.join(" AND ") : ""} ORDER BY ${order} LIMIT ?`).all(...(args as any[])) as Row[];
    return rows.map((r) => ({
      id: r.id, ts: ms(r.ts), correlation_id: r.correlation_id, agent_name: r.agent_name, model: r.model, base_url: r.base_url, latency_ms: r.latency_ms,
      status: r.status, error_message: r.error_message, request: r.request === null ? null : JSON.parse(r.request), response: r.response === null ? null : JSON.parse(r.response),
      prompt_tokens: r.prompt_tokens, completion_tokens: r.completion_tokens,
    }));
  }

  async barCloses(from: number, to: number): Promise<{ symbol: string; ts: number; price: number }[]> {
    this.flushSync();
    return (this.q("SELECT symbol, ts, close FROM market_bars WHERE ts >= ? AND ts < ? ORDER BY ts, symbol").all(isoBound(from), isoBound(to)) as Row[]).map((r) => ({ symbol: r.symbol, ts: ms(r.ts), price: round6(r.close) }));
  }

  async barsBetween(from: number, to: number): Promise<Bar[]> {
    this.flushSync();
    return (this.q("SELECT * FROM market_bars WHERE ts >= ? AND ts < ? ORDER BY ts, symbol").all(isoBound(from), isoBound(to)) as Row[]).map((r) => ({
      symbol: r.symbol, ts: ms(r.ts), open: r.open, high: r.high, low: r.low, close: r.close, volume: r.volume,
    }));
  }

  async saveModel(m: ModelRow): Promise<void> {
    const j = (x: unknown) => (x === undefined || x === null ? null : JSON.stringify(x));
    this.q(`INSERT INTO models (version, name, status, created_at, promoted_at, metrics, train_window, features, params) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (version) DO UPDATE SET status = excluded.status, promoted_at = excluded.promoted_at, metrics = excluded.metrics`).run(
      m.version, m.name, m.status, iso(m.created_at), isoN(m.promoted_at), j(m.metrics), j(m.train_window), j(m.features), j(m.params));
  }

  async listModels(): Promise<ModelRow[]> {
    const p = (x: string | null) => (x === null ? null : JSON.parse(x));
    return (this.q("SELECT * FROM models ORDER BY created_at DESC, version DESC").all() as Row[]).map((r) => ({
      version: r.version, name: r.name, status: r.status, created_at: ms(r.created_at), promoted_at: msN(r.promoted_at),
      metrics: p(r.metrics), train_window: p(r.train_window), features: p(r.features), params: p(r.params),
    }));
  }

  async productionModelVersion(): Promise<string | null> {
    const r = this.q("SELECT version FROM models WHERE status = 'production' LIMIT 1").get() as Row | null;
    return r ? r.version : null;
  }

  async promoteModel(version: string, at: number): Promise<void> {
    this.db.transaction(() => {
      const hit = this.db.query("SELECT 1 FROM models WHERE version = ?").get(version);
      if (!hit) throw new StoreError(`no model version ${version}`, "promoteModel");
      this.db.query("UPDATE models SET status = 'retired' WHERE status = 'production' AND version <> ?").run(version);
      this.db.query("UPDATE models SET status = 'production', promoted_at = ? WHERE version = ?").run(iso(at), version);
    })();
  }

  async setModelStatus(version: string, status: ModelRow["status"]): Promise<void> {
    const r = this.db.query("UPDATE models SET status = ? WHERE version = ?").run(status, version);
    if (r.changes === 0) throw new StoreError(`no model version ${version}`, "setModelStatus");
  }

  async startAgentRun(agent: string, trigger: AgentRunRow["trigger"], at: number): Promise<number> {
    const r = this.q("INSERT INTO agent_runs (agent, trigger, started_at, status, steps) VALUES (?, ?, ?, 'running', '[]') RETURNING id").get(agent, trigger, iso(at)) as Row;
    return r.id;
  }

  async finishAgentRun(id: number, p: Pick<AgentRunRow, "status" | "steps" | "error" | "finished_at">): Promise<void> {
    this.q("UPDATE agent_runs SET status = ?, steps = ?, error = ?, finished_at = ? WHERE id = ?").run(p.status, JSON.stringify(p.steps), p.error, isoN(p.finished_at), id);
  }

  async listAgentRuns(f: { agent?: string; limit?: number }): Promise<AgentRunRow[]> {
    const rows = (f.agent
      ? this.q("SELECT * FROM agent_runs WHERE agent = ? ORDER BY id DESC LIMIT ?").all(f.agent, f.limit ?? 20)
      : this.q("SELECT * FROM agent_runs ORDER BY id DESC LIMIT ?").all(f.limit ?? 20)) as Row[];
    return rows.map((r) => ({ id: r.id, agent: r.agent, trigger: r.trigger, started_at: ms(r.started_at), finished_at: msN(r.finished_at), status: r.status, steps: JSON.parse(r.steps), error: r.error }));
  }

  async latestBarTs(): Promise<number | null> {
    this.flushSync();
    const r = this.q("SELECT MAX(ts) AS t FROM market_bars").get() as Row;
    return r.t ? ms(r.t) : null;
  }

  async saveDailyPnl(r: DailyPnlRow): Promise<void> {
    const cols = ["report_date", "realized_pnl_usd", "unrealized_pnl_usd", "total_pnl_usd", "win_rate", "num_trades", "num_buys", "num_sells", "volume_usd", "wins", "losses", "avg_win_usd", "avg_loss_usd", "max_drawdown_usd", "best_symbol", "worst_symbol", "created_at"] as const;
    const vals = cols.map((c) => (c === "created_at" ? iso(r.created_at) : (r[c] ?? null)));
    this.q(`INSERT INTO daily_pnl_summary (${cols.join(", ")}) VALUES (${cols.map(() => "?").join(", ")})
      ON CONFLICT (report_date) DO UPDATE SET ${cols.filter((c) => c !== "report_date").map((c) => `${c} = excluded.${c}`).join(", ")}`).run(...(vals as any[]));
  }

  async listDailyPnl(limit: number): Promise<DailyPnlRow[]> {
    return (this.q("SELECT * FROM daily_pnl_summary ORDER BY report_date DESC LIMIT ?").all(limit) as Row[]).map((r) => ({ ...r, created_at: ms(r.created_at) }) as DailyPnlRow);
  }

  async saveBacktestRun(r: BacktestRunRow): Promise<void> {
    const j = JSON.stringify;
    try {
      this.q(`INSERT INTO backtest_runs (id, label, started_at, finished_at, symbols, range_from, range_to, data_files, config, config_hash, code_version, summary, results)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
        r.id, r.label, iso(r.started_at), iso(r.finished_at), j(r.symbols), r.range_from, r.range_to, j(r.data_files), j(r.config), r.config_hash, r.code_version, j(r.summary), j(r.results));
    } catch (e) {
      throw new StoreError(`cannot store run ${r.id}: ${(e as Error).message}`, "saveBacktestRun", e);
    }
  }

  async getBacktestRun(id: string): Promise<BacktestRunRow | null> {
    const r = this.q("SELECT * FROM backtest_runs WHERE id = ?").get(id) as Row | null;
    return r ? backtestRunFromRow(r) : null;
  }

  async listBacktestRuns(limit: number): Promise<BacktestRunRow[]> {
    return (this.q("SELECT * FROM backtest_runs ORDER BY started_at DESC, id DESC LIMIT ?").all(limit) as Row[]).map(backtestRunFromRow);
  }

  async countAudit(eventType?: string): Promise<number> {
    this.flushSync();
    const r = eventType
      ? (this.q("SELECT COUNT(*) AS n FROM audit_events WHERE event_type = ?").get(eventType) as Row)
      : (this.q("SELECT COUNT(*) AS n FROM audit_events").get() as Row);
    return r.n;
  }

  async getState(key: string): Promise<string | null> {
    const r = this.q("SELECT value FROM system_state WHERE key = ?").get(key) as Row | null;
    return r ? r.value : null;
  }

  async setState(key: string, value: string, at: number): Promise<void> {
    this.q(
      "INSERT INTO system_state (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
    ).run(key, value, iso(at));
  }

  async counts(): Promise<StoreCounts> {
    this.flushSync();
    const one = (sql: string) => (this.db.query(sql).get() as Row).n as number;
    const by: Record<string, number> = {};
    for (const r of this.db.query("SELECT status, COUNT(*) AS n FROM trades GROUP BY status").all() as Row[]) by[r.status] = r.n;
    return {
      market_bars: one("SELECT COUNT(*) AS n FROM market_bars"),
      audit_events: one("SELECT COUNT(*) AS n FROM audit_events"),
      trades: one("SELECT COUNT(*) AS n FROM trades"),
      trades_by_status: by,
      dead_letters: one("SELECT COUNT(*) AS n FROM dead_letters"),
    };
  }

  async ping(): Promise<void> {
    this.db.query("SELECT 1").get();
  }

  async saveHeartbeat(h: Heartbeat): Promise<void> {
    this.q(
      `INSERT INTO process_heartbeats (process_id, host, pid, agents, consumer_groups, version, bus, store, url, started_at, last_beat)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (process_id) DO UPDATE SET host = excluded.host, pid = excluded.pid, agents = excluded.agents,
         consumer_groups = excluded.consumer_groups, version = excluded.version, bus = excluded.bus, store = excluded.store,
         url = excluded.url, started_at = excluded.started_at, last_beat = excluded.last_beat`,
    ).run(h.process_id, h.host, h.pid, JSON.stringify(h.agents), JSON.stringify(h.groups), h.version, h.bus, h.store, h.url, iso(h.started_at), iso(h.last_beat));
  }

  async listHeartbeats(): Promise<Heartbeat[]> {
    return (this.q("SELECT * FROM process_heartbeats ORDER BY process_id").all() as Row[]).map((r) => ({
      process_id: r.process_id, host: r.host, pid: r.pid, agents: JSON.parse(r.agents), groups: JSON.parse(r.consumer_groups), version: r.version,
      bus: r.bus, store: r.store, url: r.url, started_at: ms(r.started_at), last_beat: ms(r.last_beat),
    }));
  }

  async deleteHeartbeat(processId: string): Promise<void> {
    this.q("DELETE FROM process_heartbeats WHERE process_id = ?").run(processId);
  }

  async saveLag(rows: LagRecord[]): Promise<void> {
    const ins = this.q(
      `INSERT INTO consumer_lag (group_id, topic, partition_no, committed, end_offset, lag, above_since, observed_at, observed_by)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (group_id, topic, partition_no) DO UPDATE SET committed = excluded.committed, end_offset = excluded.end_offset,
         lag = excluded.lag, above_since = excluded.above_since, observed_at = excluded.observed_at, observed_by = excluded.observed_by`,
    );
    this.db.transaction(() => {
      for (const r of rows) ins.run(r.group, r.topic, r.partition, r.committed, r.end, r.lag, isoN(r.above_since), iso(r.observed_at), r.observed_by);
    })();
  }

  async listLag(): Promise<LagRecord[]> {
    return (this.q("SELECT * FROM consumer_lag ORDER BY group_id, topic, partition_no").all() as Row[]).map((r) => ({
      group: r.group_id, topic: r.topic, partition: r.partition_no, committed: r.committed, end: r.end_offset, lag: r.lag,
      above_since: msN(r.above_since), observed_at: ms(r.observed_at), observed_by: r.observed_by,
    }));
  }

  async pruneWatch(before: number): Promise<{ heartbeats: number; lag: number }> {
    const h = this.q("DELETE FROM process_heartbeats WHERE last_beat < ?").run(iso(before));
    const l = this.q("DELETE FROM consumer_lag WHERE observed_at < ?").run(iso(before));
    return { heartbeats: h.changes, lag: l.changes };
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
