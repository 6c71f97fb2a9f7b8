/**
 * Every table of the store, described once: its columns with their kinds and its key. The row
 * codecs of both adapters (src/store/codec.ts), `awet db check` (check.ts), `awet db
 * copy-to-postgres` (copy.ts) and the test that the migrations of both dialects create exactly
 * these columns (test/contract/store-schema.test.ts) are derived from it. Adding a column is: a
 * migration per dialect (listed in src/embedded.ts), a line here, and the field in the row type
 * (port.ts). Pure data.
 */

/**
 * How a column is stored and read back:
 *  - serial  an id the database assigns (SQLite INTEGER PRIMARY KEY AUTOINCREMENT, PostgreSQL BIGSERIAL)
 *  - text    a string (enums included)
 *  - time    epoch ms in the row type; ISO-8601 UTC text on SQLite (sortable), timestamptz on PostgreSQL
 *  - date    a calendar day "YYYY-MM-DD"; text on SQLite, DATE on PostgreSQL
 *  - money   a price or an amount, rounded to 6 decimals on write and read (REAL / NUMERIC(20,6))
 *  - number  any other real number: quantities, volumes, ratios, latencies (REAL / NUMERIC or DOUBLE)
 *  - int     a whole number: counts, offsets, pids (INTEGER / INTEGER or BIGINT)
 *  - bool    SQLite 0/1, PostgreSQL BOOLEAN
 *  - json    any JSON value; text on SQLite, JSONB on PostgreSQL
 */
export type Kind = "serial" | "text" | "time" | "date" | "money" | "number" | "int" | "bool" | "json";

export interface Column {
  name: string;
  kind: Kind;
  /** The row type's property, when it is not the column's name. */
  field?: string;
  /** Kept by the database only (an insertion order), never part of the row type or a copy. */
  internal?: boolean;
}

export interface Table {
  name: string;
  columns: readonly Column[];
  /** The columns that identify a row. On PostgreSQL a hypertable's unique keys also hold its time column. */
  key: readonly string[];
  /** Other unique columns (ON CONFLICT targets). */
  unique?: readonly (readonly string[])[];
  /** Earlier names, for databases not yet migrated (copy-to-postgres reads them). */
  formerly?: { name?: string; columns?: Readonly<Record<string, string>> };
}

const c = (name: string, kind: Kind, more: Partial<Column> = {}): Column => ({ name, kind, ...more });

export const TABLES = {
  market_bars: {
    name: "market_bars",
    columns: [c("symbol", "text"), c("ts", "time"), c("open", "money"), c("high", "money"), c("low", "money"), c("close", "money"), c("volume", "number"), c("source", "text")],
    key: ["symbol", "ts"],
  },
  audit_events: {
    name: "audit_events",
    columns: [
      // the order rows were written in: the trade chain lists one bar's events (same ts) in it
      c("seq", "serial", { internal: true }),
      c("event_id", "text"), c("ts", "time"), c("correlation_id", "text"), c("event_type", "text"), c("source", "text"), c("symbol", "text"), c("payload", "json"),
    ],
    key: ["event_id"],
    formerly: { columns: { seq: "id" } },
  },
  trades: {
    name: "trades",
    columns: [
      c("id", "serial"), c("ts", "time"), c("correlation_id", "text"), c("idempotency_key", "text"), c("symbol", "text"), c("side", "text"),
      c("qty", "number"), c("price", "money"), c("status", "text"), c("error_message", "text"), c("alpaca_order_id", "text"), c("client_order_id", "text"),
      c("alpaca_status", "text"), c("filled_qty", "number"), c("avg_fill_price", "money"), c("filled_at", "time"), c("updated_at", "time"),
      c("paper_trade", "bool"), c("dry_run", "bool"), c("order_type", "text"), c("take_profit_price", "money"), c("stop_loss_price", "money"),
      c("exit_reason", "text"), c("run_id", "text"),
      c("submit_wall_at", "time"), c("first_contact_wall_at", "time"), c("last_contact_wall_at", "time"), c("adopted_at", "time"),
    ],
    key: ["id"],
    unique: [["idempotency_key"], ["client_order_id"]],
  },
  positions: {
    name: "positions",
    columns: [
      c("symbol", "text"), c("qty", "number"), c("avg_entry_price", "money"), c("last_price", "money"), c("market_value", "money"), c("unrealized_pl", "money"),
      c("opened_at", "time"), c("updated_at", "time"), c("inherited", "bool"),
    ],
    key: ["symbol"],
  },
  llm_traces: {
    name: "llm_traces",
    columns: [
      c("id", "serial"), c("ts", "time"), c("correlation_id", "text"), c("agent_name", "text"), c("model", "text"), c("base_url", "text"), c("latency_ms", "number"),
      c("status", "text"), c("error_message", "text"), c("request", "json"), c("response", "json"), c("prompt_tokens", "int"), c("completion_tokens", "int"),
    ],
    key: ["id"],
  },
  daily_pnl_summary: {
    name: "daily_pnl_summary",
    columns: [
      c("report_date", "date"), c("realized_pnl_usd", "money"), c("unrealized_pnl_usd", "money"), c("total_pnl_usd", "money"), c("win_rate", "number"),
      c("num_trades", "int"), c("num_buys", "int"), c("num_sells", "int"), c("volume_usd", "money"), c("wins", "int"), c("losses", "int"),
      c("avg_win_usd", "money"), c("avg_loss_usd", "money"), c("max_drawdown_usd", "money"), c("best_symbol", "text"), c("worst_symbol", "text"), c("created_at", "time"),
    ],
    key: ["report_date"],
  },
  models: {
    name: "models",
    columns: [
      c("version", "text"), c("name", "text"), c("status", "text"), c("created_at", "time"), c("promoted_at", "time"),
      c("metrics", "json"), c("train_window", "json"), c("features", "json"), c("params", "json"),
    ],
    key: ["version"],
  },
  job_runs: {
    name: "job_runs",
    columns: [c("id", "serial"), c("job", "text"), c("trigger", "text"), c("started_at", "time"), c("finished_at", "time"), c("status", "text"), c("steps", "json"), c("error", "text")],
    key: ["id"],
    formerly: { name: "agent_runs", columns: { job: "agent" } },
  },
  dead_letters: {
    name: "dead_letters",
    columns: [c("id", "serial"), c("ts", "time"), c("topic", "text"), c("handler", "text"), c("event_id", "text"), c("correlation_id", "text"), c("event", "json"), c("error", "text")],
    key: ["id"],
  },
  system_state: {
    name: "system_state",
    columns: [c("key", "text"), c("value", "text"), c("updated_at", "time")],
    key: ["key"],
  },
  backtest_runs: {
    name: "backtest_runs",
    columns: [
      c("id", "text"), c("label", "text"), c("started_at", "time"), c("finished_at", "time"), c("symbols", "json"), c("range_from", "text"), c("range_to", "text"),
      c("data_files", "json"), c("config", "json"), c("config_hash", "text"), c("code_version", "text"), c("summary", "json"), c("results", "json"),
    ],
    key: ["id"],
  },
  process_heartbeats: {
    name: "process_heartbeats",
    columns: [
      c("process_id", "text"), c("host", "text"), c("pid", "int"), c("agents", "json"), c("consumer_groups", "json", { field: "groups" }), c("version", "text"),
      c("bus", "text"), c("store", "text"), c("url", "text"), c("started_at", "time"), c("last_beat", "time"),
    ],
    key: ["process_id"],
  },
  consumer_lag: {
    name: "consumer_lag",
    columns: [
      c("group_id", "text", { field: "group" }), c("topic", "text"), c("partition_no", "int", { field: "partition" }), c("committed", "int"),
      c("end_offset", "int", { field: "end" }), c("lag", "int"), c("above_since", "time"), c("observed_at", "time"), c("observed_by", "text"),
    ],
    key: ["group_id", "topic", "partition_no"],
  },
} as const satisfies Record<string, Table>;

export type TableName = keyof typeof TABLES;

/** Every table, in an order that needs no foreign keys (the order copy-to-postgres writes them in). */
export const ALL_TABLES: readonly Table[] = Object.values(TABLES);

/** The SQL column types each kind may have, per dialect (lower case, as the catalogs name them). */
export const SQL_TYPES: Record<"sqlite" | "postgres", Record<Kind, readonly string[]>> = {
  sqlite: {
    serial: ["integer"], text: ["text"], time: ["text"], date: ["text"], money: ["real"], number: ["real"], int: ["integer"], bool: ["integer"], json: ["text"],
  },
  postgres: {
    serial: ["bigint"], text: ["text"], time: ["timestamp with time zone"], date: ["date"], money: ["numeric"], number: ["numeric", "double precision"],
    int: ["integer", "bigint"], bool: ["boolean"], json: ["jsonb"],
  },
};
