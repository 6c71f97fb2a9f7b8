import type { Bar, Envelope, Side } from "../core/events";
import type { Heartbeat } from "../obs/deployment";
import type { LagRecord } from "../obs/lag";

export type { Heartbeat, LagRecord };

export type TradeStatus =
  | "blocked" // a gate said no; no broker call was made
  | "pending_submit" // write-ahead row committed, broker call not answered yet
  | "submitted" // the broker accepted the order
  | "partially_filled"
  | "filled"
  | "canceled"
  | "rejected" // the broker said no (its message in error_message)
  | "expired"
  // the broker did not know the client_order_id after in_flight_seconds of wall time: terminal
  // for trading, but revisable — every reconcile's order listing links it if the broker shows it
  | "unknown";

/** Every trade status, in lifecycle order: the one list the API, its OpenAPI enum and the CLI use. */
export const TRADE_STATUSES: readonly TradeStatus[] = [
  "blocked", "pending_submit", "submitted", "partially_filled", "filled", "canceled", "rejected", "expired", "unknown",
];

/** Statuses of orders that are still working at the broker (or may be). */
export const OPEN_STATUSES: readonly TradeStatus[] = ["pending_submit", "submitted", "partially_filled"];

/** Terminal statuses the reconciler may still revise when the broker shows the order after all. */
export const REVISABLE_STATUSES: readonly TradeStatus[] = ["unknown"];

export interface TradeRow {
  id: number;
  ts: number; // event time of the intent
  correlation_id: string;
  idempotency_key: string;
  symbol: string;
  side: Side;
  qty: number;
  price: number | null; // reference price at decision time
  status: TradeStatus;
  error_message: string | null;
  alpaca_order_id: string | null;
  client_order_id: string | null;
  alpaca_status: string | null;
  filled_qty: number;
  avg_fill_price: number | null;
  filled_at: number | null;
  updated_at: number;
  paper_trade: boolean;
  dry_run: boolean;
  order_type: "market" | "bracket";
  take_profit_price: number | null;
  stop_loss_price: number | null;
  exit_reason: string | null;
  run_id: string | null;
  // Wall-clock times (epoch ms), beside the event-time ts/updated_at: the in-flight and unfilled
  // windows are measured on these, never on event time.
  submit_wall_at: number | null; // the write-ahead row was committed and the POST attempted
  first_contact_wall_at: number | null; // the broker's first answer about this order (ack, 4xx, found, not found)
  last_contact_wall_at: number | null; // its latest answer
  adopted_at: number | null; // recorded by the reconciler from a broker order that had no row
}

export type WallColumns = "submit_wall_at" | "first_contact_wall_at" | "last_contact_wall_at" | "adopted_at";
export type NewTrade = Omit<TradeRow, "id" | WallColumns> & Partial<Pick<TradeRow, WallColumns>>;
export type TradePatch = Partial<
  Pick<
    TradeRow,
    | "status"
    | "error_message"
    | "alpaca_order_id"
    | "alpaca_status"
    | "filled_qty"
    | "avg_fill_price"
    | "filled_at"
    | "updated_at"
    | "client_order_id"
    | WallColumns
  >
>;

export interface TradeFilter {
  status?: TradeStatus;
  symbol?: string;
  correlation_id?: string;
  alpaca_order_id?: string;
  since?: number;
  /** Only rows the reconciler adopted from the broker (adopted_at set). */
  adopted?: boolean;
  limit?: number;
}

export interface Position {
  symbol: string;
  qty: number;
  avg_entry_price: number;
  last_price: number | null;
  market_value: number;
  unrealized_pl: number;
  opened_at: number | null;
  updated_at: number;
  /** The broker held it and its opening fill was not found: opened_at is the reconcile's wall time. */
  inherited?: boolean;
}

/** What the throttle gates need to know about past orders, computed by the store. */
export interface OrderStats {
  ordersSince: number; // non-blocked orders with ts >= minuteStart
  symbolOrdersSince: number; // non-blocked orders of the symbol with ts >= dayStart
  openOrders: number; // orders in OPEN_STATUSES
  lastSymbolOrderTs: number | null; // ts of the latest non-blocked order of the symbol
  pendingBuyNotional: number; // sum of qty*price of open BUY orders
  pendingSymbolBuyNotional: number;
}

export interface StoreCounts {
  market_bars: number;
  audit_events: number;
  trades: number;
  trades_by_status: Record<string, number>;
  dead_letters: number;
}

export interface DeadLetter {
  ts: number;
  topic: string;
  handler: string;
  event: Envelope;
  error: string;
}

export interface LlmTraceRow {
  id: number;
  ts: number;
  correlation_id: string | null;
  agent_name: string;
  model: string;
  base_url: string | null;
  latency_ms: number | null;
  status: string;
  error_message: string | null;
  request: unknown;
  response: unknown;
  prompt_tokens: number | null;
  completion_tokens: number | null;
}

export interface LlmTraceFilter {
  limit?: number;
  agent?: string;
  model?: string;
  status?: string;
  since?: number;
  until?: number;
  correlation_id?: string;
  afterId?: number;
}

export interface DailyPnlRow {
  report_date: string;
  realized_pnl_usd: number;
  unrealized_pnl_usd: number;
  total_pnl_usd: number;
  win_rate: number | null;
  num_trades: number;
  num_buys: number;
  num_sells: number;
  volume_usd: number;
  wins: number;
  losses: number;
  avg_win_usd: number | null;
  avg_loss_usd: number | null;
  max_drawdown_usd: number;
  best_symbol: string | null;
  worst_symbol: string | null;
  created_at: number;
}

export interface ModelRow {
  version: string;
  name: string;
  status: "candidate" | "production" | "retired";
  created_at: number;
  promoted_at: number | null;
  metrics: unknown;
  train_window: unknown;
  features: unknown;
  params: unknown;
}

/** One run of a scheduled job (night_trainer, morning_deployer, trade_watchdog, eod). */
export interface JobRunRow {
  id: number;
  job: string;
  trigger: "cron" | "manual" | "api" | "startup";
  started_at: number;
  finished_at: number | null;
  status: "running" | "ok" | "error" | "skipped";
  steps: { name: string; input: string; output: string; duration_ms: number; ok: boolean }[];
  error: string | null;
}

/** One replay stored as a backtest run (`awet runs`). */
export interface BacktestRunRow {
  id: string;
  label: string | null;
  started_at: number;
  finished_at: number;
  symbols: string[];
  /** The --from / --to asked for, as given (null: the files' own range). */
  range_from: string | null;
  range_to: string | null;
  data_files: { path: string; sha256: string; bytes: number }[];
  /** The effective settings (app and llm) the run used, and the sha256 of their canonical JSON. */
  config: Record<string, unknown>;
  config_hash: string;
  code_version: string;
  /** The replay's counts (bars, orders, fills, ...). */
  summary: Record<string, unknown>;
  /** The backtest results (src/reports/backtest.ts), with the equity curve. */
  results: Record<string, unknown>;
}

export interface AuditRow {
  ts: number;
  event_id: string;
  correlation_id: string;
  event_type: string;
  source: string;
  symbol: string;
  payload: unknown;
}

// --- repositories, one per concern --------------------------------------------------------
// A caller that needs one concern takes that repository (e.g. `store: TradeRepository`); the Store
// is all of them. Hot-path appends (bars, audit events, blocked trades) may be buffered and written
// in batches; `flush()` makes them durable, and every read of those tables sees what was appended
// before it.

/** Market bars (time series). */
export interface BarRepository {
  /** Buffered: returns at once (no promise) unless the writer must wait (back-pressure). */
  appendBars(bars: Bar[], source: string): Promise<void> | void;
  /** Closing prices of stored bars with from <= ts < to, in time order (marks for PnL). */
  barCloses(from: number, to: number): Promise<{ symbol: string; ts: number; price: number }[]>;
  /** Stored bars with from <= ts < to (all symbols), in time order. */
  barsBetween(from: number, to: number): Promise<Bar[]>;
  /** Time of the newest stored bar, or null. */
  latestBarTs(): Promise<number | null>;
}

/** The audit trail: every event, keyed by event id. Rows of one time keep the order they were appended in. */
export interface AuditRepository {
  /** Buffered like appendBars; an event id already stored is skipped (at-least-once delivery). */
  appendAudit(events: Envelope[]): Promise<void> | void;
  /** One correlation id's rows, oldest first. */
  auditByCorrelation(correlationId: string): Promise<AuditRow[]>;
  /** The newest audit rows of one correlation id (e.g. 'operator'), newest first. */
  recentAudit(correlationId: string, limit: number): Promise<AuditRow[]>;
  countAudit(eventType?: string): Promise<number>;
}

/** Trade rows (orders and blocked intents). */
export interface TradeRepository {
  /**
   * Write-ahead insert, committed before it returns, in one commit with the order's chain — the
   * bar of its symbol and time and every audit row of its correlation appended before it — and the
   * trade rows appended before it (so ids keep the order of the decisions). Other appended rows may
   * follow later (SQLite commits them too; PostgreSQL leaves them to its flusher). Returns null
   * when the idempotency key already exists (that row is not written again).
   */
  insertTrade(t: NewTrade): Promise<TradeRow | null>;
  /**
   * Rows that need not be durable at once (blocked intents: no broker call follows), written with
   * the next batch; a key that already has a row is skipped. Every trade read and `insertTrade`
   * first writes what is buffered, so ids keep the order of the decisions.
   */
  appendTrades(ts: NewTrade[]): Promise<void> | void;
  /** Fields left undefined are not changed; an unknown id is an error. */
  updateTrade(id: number, patch: TradePatch): Promise<void>;
  getTrade(id: number): Promise<TradeRow | null>;
  getTradeByKey(idempotencyKey: string): Promise<TradeRow | null>;
  /** Newest first (100 unless limit says). */
  listTrades(f?: TradeFilter): Promise<TradeRow[]>;
  orderStats(symbol: string, minuteStart: number, dayStart: number): Promise<OrderStats>;
  /** Rows that reached the broker (not blocked, not rejected) with ts >= since, oldest first. */
  placedTradesSince(since: number): Promise<TradeRow[]>;
}

export interface PositionRepository {
  /** By symbol. */
  positions(): Promise<Position[]>;
  getPosition(symbol: string): Promise<Position | null>;
  upsertPosition(p: Position): Promise<void>;
  /**
   * A fill: its trade row's patch and the position it leaves, in one commit — a crash leaves both
   * written or neither. An unknown trade id is an error and writes nothing.
   */
  recordFill(tradeId: number, patch: TradePatch, position: Position): Promise<void>;
}

export interface LlmTraceRepository {
  recordLlmTrace(t: Omit<LlmTraceRow, "id">): Promise<void>;
  /** Newest first, unless afterId is given (then oldest first, for follow mode). */
  listLlmTraces(f?: LlmTraceFilter): Promise<LlmTraceRow[]>;
}

/** The end-of-day PnL summaries. */
export interface PnlRepository {
  /** One row per date; a re-run overwrites it. */
  saveDailyPnl(r: DailyPnlRow): Promise<void>;
  /** Newest date first. */
  listDailyPnl(limit: number): Promise<DailyPnlRow[]>;
}

/** The model registry. */
export interface ModelRepository {
  /** Insert, or update the status, promoted_at and metrics of a known version. */
  saveModel(m: ModelRow): Promise<void>;
  /** Newest first. */
  listModels(): Promise<ModelRow[]>;
  /** The version whose status is production (the one record of it), or null; reads no params. */
  productionModelVersion(): Promise<string | null>;
  /** Make `version` the only production model (the previous one becomes retired); atomic. */
  promoteModel(version: string, at: number): Promise<void>;
  setModelStatus(version: string, status: ModelRow["status"]): Promise<void>;
}

/** The run history of the scheduled jobs. */
export interface JobRunRepository {
  startJobRun(job: string, trigger: JobRunRow["trigger"], at: number): Promise<number>;
  finishJobRun(id: number, patch: Pick<JobRunRow, "status" | "steps" | "error" | "finished_at">): Promise<void>;
  /** Newest first (20 unless limit says). */
  listJobRuns(f: { job?: string; limit?: number }): Promise<JobRunRow[]>;
}

/** Replays stored as backtest runs (`awet runs`). */
export interface BacktestRunRepository {
  /** Store a finished replay; its id must be new. */
  saveBacktestRun(r: BacktestRunRow): Promise<void>;
  getBacktestRun(id: string): Promise<BacktestRunRow | null>;
  /** Newest first. */
  listBacktestRuns(limit: number): Promise<BacktestRunRow[]>;
}

/** Small named values (the trading state and its reason, ...). */
export interface StateRepository {
  getState(key: string): Promise<string | null>;
  /** Stores with `watchState` announce every write to watchers (in this and other processes). */
  setState(key: string, value: string, at: number): Promise<void>;
  /**
   * Optional: be told when any process writes a state key (PostgreSQL: LISTEN/NOTIFY).
   * `onListen` runs once the watch is live, and again after each reconnect (notifications may
   * have been missed meanwhile). Returns the function that ends the watch.
   */
  watchState?(onChange: (key: string) => void, onListen: () => void): Promise<() => Promise<void>>;
  /**
   * Optional: a token, read synchronously and cheaply, that changes whenever a state key may have
   * been written since the last read of it — by this store or by any other process (SQLite: the
   * connection's data_version, which moves on every other connection's commit, plus this store's
   * own state writes). A reader may reuse a value it read while the token stays the same.
   */
  stateVersion?(): string;
}

/** Events a handler failed on. */
export interface DeadLetterRepository {
  recordDeadLetter(d: DeadLetter): Promise<void>;
}

/** What the Watchtower keeps about the deployment: process heartbeats and consumer lag. */
export interface WatchRepository {
  /** Insert or replace this process's heartbeat row (keyed by process_id). */
  saveHeartbeat(h: Heartbeat): Promise<void>;
  /** Every process's heartbeat row, by process_id. */
  listHeartbeats(): Promise<Heartbeat[]>;
  /** Remove one process's row (a clean stop). */
  deleteHeartbeat(processId: string): Promise<void>;
  /** Insert or replace consumer lag rows (keyed by group, topic, partition). */
  saveLag(rows: LagRecord[]): Promise<void>;
  /** By group, topic and partition. */
  listLag(): Promise<LagRecord[]>;
  /** Forget heartbeats whose last beat, and lag rows observed, before `before` (gone for good). */
  pruneWatch(before: number): Promise<{ heartbeats: number; lag: number }>;
}

/** The store as a whole: schema, health and durability. */
export interface StoreLifecycle {
  readonly kind: "sqlite" | "postgres";
  migrate(): Promise<string[]>;
  counts(): Promise<StoreCounts>;
  ping(): Promise<void>;
  /** Rows waiting to be written and whether writers are held back (PostgreSQL's bounded queue). */
  backlog?(): { queued: number; max: number; waiting: boolean; connected: boolean; lastError: string | null; retries: number };
  /** Problems that do not stop the store but an operator should see (e.g. a TimescaleDB policy not created). */
  warnings?(): string[];
  /** Make every buffered append durable. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** Every repository: what one adapter implements over one database. */
export type Repositories = BarRepository &
  AuditRepository &
  TradeRepository &
  PositionRepository &
  LlmTraceRepository &
  PnlRepository &
  ModelRepository &
  JobRunRepository &
  BacktestRunRepository &
  StateRepository &
  DeadLetterRepository &
  WatchRepository;

/** The Store port: agents call typed methods, never SQL. */
export type Store = StoreLifecycle & Repositories;
