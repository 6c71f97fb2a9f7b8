/**
 * The configuration schema: every key of config/app.yaml and config/llm.yaml, its type, default
 * and bounds. The loader rejects any key not listed here, naming the key and the file; a test
 * checks that the shipped YAML files hold exactly these defaults.
 */
export type KeySpec =
  | { type: "bool"; default: boolean }
  | { type: "int"; default: number; min?: number; max?: number }
  | { type: "number"; default: number; min?: number; max?: number; exclusiveMin?: boolean }
  | { type: "string"; default: string; pattern?: RegExp }
  | { type: "enum"; default: string; values: readonly string[] }
  | { type: "symbols"; default: string[] }
  | { type: "ints"; default: number[]; min?: number; max?: number }
  | { type: "list"; default: string[]; values: readonly string[] }
  | { type: "names"; default: string[]; pattern: RegExp }
  | { type: "speed"; default: number | "max" };

/** The agents a process can run (`awet start --agents`) and a deployment can expect. */
export const AGENT_NAMES = ["ingestion", "features", "prediction", "risk", "execution", "exit", "watchtower"] as const;

/** A ticker as the config accepts it (upper case, digits and dots, up to 10 characters). */
export { SYMBOL_RE } from "../core/symbol";

export const APP_SCHEMA = {
  // general
  symbols: { type: "symbols", default: ["SPY", "AIG", "BAC", "IBM"] },
  http_host: { type: "string", default: "127.0.0.1", pattern: /^[A-Za-z0-9.:\-\[\]]+$/ },
  http_port: { type: "int", default: 8000, min: 0, max: 65535 },
  // Host names the HTTP server answers to besides loopback names, IP literals, http_host and (when
  // bound to all interfaces) this machine's name: anything else is refused (DNS rebinding)
  http_allowed_hosts: { type: "names", default: [], pattern: /^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$/ },
  store: { type: "enum", default: "sqlite", values: ["sqlite", "postgres"] },
  pg_max_queue: { type: "int", default: 10000, min: 100 },
  store_timescale: { type: "enum", default: "auto", values: ["auto", "on", "off"] },
  timescale_compress_after_days: { type: "int", default: 0, min: 0 },
  timescale_retain_days: { type: "int", default: 0, min: 0 },
  audit_level: { type: "enum", default: "decisions", values: ["decisions", "all"] },
  bus: { type: "enum", default: "memory", values: ["memory", "kafka"] },
  kafka_partitions: { type: "int", default: 3, min: 1 },
  kafka_replication_factor: { type: "int", default: 1, min: 1 },
  broker: { type: "enum", default: "sim", values: ["sim", "alpaca"] },
  market_source: { type: "enum", default: "replay", values: ["replay", "alpaca"] },
  replay_path: { type: "string", default: "data/minute" },
  factor_files_dir: { type: "string", default: "data/factor_files" },
  max_bar_range_pct: { type: "number", default: 50, min: 0, exclusiveMin: true },
  replay_speed: { type: "speed", default: 3000 },
  log_level: { type: "enum", default: "info", values: ["debug", "info", "warn", "error"] },
  // execution safety
  execution_dry_run: { type: "bool", default: true },
  // throttles
  max_orders_per_minute: { type: "int", default: 5, min: 0 },
  max_orders_per_symbol_per_day: { type: "int", default: 3, min: 0 },
  max_open_orders_total: { type: "int", default: 20, min: 0 },
  cooldown_seconds_per_symbol: { type: "int", default: 900, min: 0 },
  // exposure caps
  max_total_exposure_usd: { type: "number", default: 50000, min: 0 },
  max_exposure_per_symbol_usd: { type: "number", default: 10000, min: 0 },
  // pre-trade checks beyond the runbook
  max_notional_per_order_usd: { type: "number", default: 10000, min: 0, exclusiveMin: true },
  max_order_qty: { type: "int", default: 10000, min: 1 },
  price_band_pct: { type: "number", default: 5, min: 0, exclusiveMin: true },
  stoploss_guard_count: { type: "int", default: 3, min: 1 },
  stoploss_guard_lookback_minutes: { type: "int", default: 60, min: 1 },
  stoploss_guard_lock_minutes: { type: "int", default: 120, min: 1 },
  stoploss_guard_scope: { type: "enum", default: "symbol", values: ["symbol", "global"] },
  pdt_protection: { type: "bool", default: true },
  max_daily_loss_usd: { type: "number", default: 2000, min: 0, exclusiveMin: true },
  max_daily_loss_action: { type: "enum", default: "REDUCING", values: ["REDUCING", "HALTED"] },
  // order shaping
  use_bracket_orders: { type: "bool", default: false },
  allow_add_to_position: { type: "bool", default: false },
  // exits
  enable_exit_logic: { type: "bool", default: true },
  take_profit_pct: { type: "number", default: 1.0, min: 0, exclusiveMin: true },
  stop_loss_pct: { type: "number", default: 0.5, min: 0, exclusiveMin: true },
  max_holding_minutes: { type: "int", default: 60, min: 1 },
  exit_check_interval_seconds: { type: "int", default: 60, min: 1 },
  // risk and sizing
  extended_hours: { type: "bool", default: false },
  position_size_usd: { type: "number", default: 2000, min: 0, exclusiveMin: true },
  // forecaster
  forecast_horizon_bars: { type: "int", default: 15, min: 1, max: 390 },
  forecast_window_bars: { type: "int", default: 60, min: 10, max: 5000 },
  signal_threshold: { type: "number", default: 0.3, min: 0 },
  // trained forecasters (linear quantile, TFT); see `awet model --help`
  forecast_horizons_bars: { type: "ints", default: [30, 45, 60], min: 1, max: 390 },
  model_kind: { type: "enum", default: "tft", values: ["tft", "linear"] },
  tft_lookback_bars: { type: "int", default: 120, min: 2, max: 2000 },
  tft_hidden: { type: "int", default: 16, min: 2, max: 256 },
  tft_heads: { type: "int", default: 4, min: 1, max: 16 },
  tft_epochs: { type: "int", default: 20, min: 1, max: 1000 },
  tft_patience: { type: "int", default: 3, min: 1, max: 100 },
  tft_train_stride: { type: "int", default: 1, min: 1, max: 1000 },
  promotion_margin_pct: { type: "number", default: 1, min: 0, max: 100 },
  promotion_coverage_min: { type: "number", default: 0.7, min: 0, max: 1 },
  promotion_coverage_max: { type: "number", default: 0.9, min: 0, max: 1 },
  // simulated paper broker
  sim_slippage_bps: { type: "number", default: 5, min: 0, max: 1000 },
  sim_account_equity_usd: { type: "number", default: 100000, min: 0 },
  // broker reconciliation (Alpaca)
  reconcile_interval_seconds: { type: "int", default: 60, min: 1 },
  positions_interval_seconds: { type: "int", default: 120, min: 1 },
  // wall-clock windows (never event time): an entry with nothing filled this long after its POST is
  // cancelled; a pending_submit order the broker does not know this long becomes `unknown` (revisable)
  unfilled_timeout_seconds: { type: "int", default: 600, min: 1 },
  in_flight_seconds: { type: "int", default: 30, min: 1 },
  // how far back the first order listing reaches (late and orphan orders), and how long an
  // `unknown` row keeps listings reaching back to it
  order_lookback_hours: { type: "int", default: 24, min: 1, max: 8760 },
  // Watchtower: heartbeats, consumer lag, one health view across processes
  heartbeat_interval_seconds: { type: "int", default: 5, min: 1 },
  heartbeat_timeout_seconds: { type: "int", default: 30, min: 2 },
  watchtower_interval_seconds: { type: "int", default: 30, min: 1 },
  max_consumer_lag: { type: "int", default: 1000, min: 0 },
  lag_grace_seconds: { type: "int", default: 120, min: 0 },
  expected_agents: { type: "list", default: [...AGENT_NAMES], values: AGENT_NAMES },
} as const satisfies Record<string, KeySpec>;

export const LLM_SCHEMA = {
  llm_enabled: { type: "bool", default: true },
  base_url: { type: "string", default: "http://127.0.0.1:11434" },
  model: { type: "string", default: "llama3.2:1b" },
  llm_timeout_ms: { type: "int", default: 5000, min: 1 },
  // an answer body is read up to this many bytes and no further (a schema-conforming answer is < 1 KB)
  max_answer_bytes: { type: "int", default: 65536, min: 1024, max: 16777216 },
  temperature: { type: "number", default: 0, min: 0, max: 2 },
  trace_enabled: { type: "bool", default: true },
  trace_preview_chars: { type: "int", default: 800, min: 0 },
  trace_log_level: { type: "enum", default: "INFO", values: ["DEBUG", "INFO", "WARNING"] },
  trace_store_db: { type: "bool", default: true },
  trace_redact_db: { type: "bool", default: false },
} as const satisfies Record<string, KeySpec>;

type ValueOf<S extends KeySpec> = S extends { type: "bool" }
  ? boolean
  : S extends { type: "int" | "number" }
    ? number
    : S extends { type: "symbols" | "list" | "names" }
      ? string[]
      : S extends { type: "ints" }
        ? number[]
      : S extends { type: "speed" }
        ? number | "max"
        : string;

export type AppConfig = { -readonly [K in keyof typeof APP_SCHEMA]: ValueOf<(typeof APP_SCHEMA)[K]> };
export type LlmConfig = { -readonly [K in keyof typeof LLM_SCHEMA]: ValueOf<(typeof LLM_SCHEMA)[K]> };

/** Env names that override llm.yaml keys, as the runbook spells them (besides AWET_<KEY>). */
export const LLM_ENV_ALIASES: Record<string, keyof LlmConfig> = {
  LLM_ENABLED: "llm_enabled",
  OLLAMA_HOST: "base_url",
  LLM_MODEL: "model",
  LLM_TRACE_ENABLED: "trace_enabled",
  LLM_TRACE_STORE_DB: "trace_store_db",
  LLM_TRACE_REDACT_DB: "trace_redact_db",
  LLM_TRACE_PREVIEW_CHARS: "trace_preview_chars",
};
