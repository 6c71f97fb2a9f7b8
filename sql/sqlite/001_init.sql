-- AWET schema for bun:sqlite. Times are ISO-8601 UTC text (sortable); prices are stored rounded
-- to 6 decimals by the adapter, so cents never drift; booleans are 0/1.

CREATE TABLE market_bars (
  symbol      TEXT NOT NULL,
  ts          TEXT NOT NULL,
  open        REAL NOT NULL,
  high        REAL NOT NULL,
  low         REAL NOT NULL,
  close       REAL NOT NULL,
  volume      REAL NOT NULL,
  source      TEXT NOT NULL DEFAULT 'replay',
  PRIMARY KEY (symbol, ts)
);
CREATE INDEX market_bars_ts_idx ON market_bars (ts);

CREATE TABLE audit_events (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id        TEXT NOT NULL UNIQUE,
  ts              TEXT NOT NULL,
  correlation_id  TEXT NOT NULL,
  event_type      TEXT NOT NULL,
  source          TEXT NOT NULL,
  symbol          TEXT NOT NULL,
  payload         TEXT NOT NULL
);
CREATE INDEX audit_events_corr_idx ON audit_events (correlation_id);
CREATE INDEX audit_events_ts_idx ON audit_events (ts);
CREATE INDEX audit_events_type_idx ON audit_events (event_type, ts);

CREATE TABLE trades (
  id                INTEGER PRIMARY KEY AUTOINCREMENT,
  ts                TEXT NOT NULL,
  correlation_id    TEXT NOT NULL,
  idempotency_key   TEXT NOT NULL UNIQUE,
  symbol            TEXT NOT NULL,
  side              TEXT NOT NULL CHECK (side IN ('buy', 'sell')),
  qty               REAL NOT NULL,
  price             REAL,
  status            TEXT NOT NULL,
  error_message     TEXT,
  alpaca_order_id   TEXT,
  client_order_id   TEXT UNIQUE,
  alpaca_status     TEXT,
  filled_qty        REAL NOT NULL DEFAULT 0,
  avg_fill_price    REAL,
  filled_at         TEXT,
  updated_at        TEXT NOT NULL,
  paper_trade       INTEGER NOT NULL DEFAULT 1 CHECK (paper_trade = 1),
  dry_run           INTEGER NOT NULL DEFAULT 0,
  order_type        TEXT NOT NULL DEFAULT 'market',
  take_profit_price REAL,
  stop_loss_price   REAL,
  exit_reason       TEXT,
  run_id            TEXT
);
CREATE INDEX trades_ts_idx ON trades (ts);
CREATE INDEX trades_symbol_ts_idx ON trades (symbol, ts);
CREATE INDEX trades_status_idx ON trades (status);
CREATE INDEX trades_corr_idx ON trades (correlation_id);

CREATE TABLE positions (
  symbol           TEXT PRIMARY KEY,
  qty              REAL NOT NULL,
  avg_entry_price  REAL NOT NULL DEFAULT 0,
  last_price       REAL,
  market_value     REAL NOT NULL DEFAULT 0,
  unrealized_pl    REAL NOT NULL DEFAULT 0,
  opened_at        TEXT,
  updated_at       TEXT NOT NULL
);

CREATE TABLE llm_traces (
  id                 INTEGER PRIMARY KEY AUTOINCREMENT,
  ts                 TEXT NOT NULL,
  correlation_id     TEXT,
  agent_name         TEXT NOT NULL,
  model              TEXT NOT NULL,
  base_url           TEXT,
  latency_ms         REAL,
  status             TEXT NOT NULL,
  error_message      TEXT,
  request            TEXT,
  response           TEXT,
  prompt_tokens      INTEGER,
  completion_tokens  INTEGER
);
CREATE INDEX llm_traces_ts_idx ON llm_traces (ts);
CREATE INDEX llm_traces_corr_idx ON llm_traces (correlation_id);

CREATE TABLE daily_pnl_summary (
  report_date         TEXT PRIMARY KEY,
  realized_pnl_usd    REAL NOT NULL,
  unrealized_pnl_usd  REAL NOT NULL,
  total_pnl_usd       REAL NOT NULL,
  win_rate            REAL,
  num_trades          INTEGER NOT NULL,
  num_buys            INTEGER NOT NULL DEFAULT 0,
  num_sells           INTEGER NOT NULL DEFAULT 0,
  volume_usd          REAL NOT NULL DEFAULT 0,
  wins                INTEGER NOT NULL DEFAULT 0,
  losses              INTEGER NOT NULL DEFAULT 0,
  avg_win_usd         REAL,
  avg_loss_usd        REAL,
  max_drawdown_usd    REAL NOT NULL DEFAULT 0,
  best_symbol         TEXT,
  worst_symbol        TEXT,
  created_at          TEXT NOT NULL
);

CREATE TABLE models (
  version       TEXT PRIMARY KEY,
  name          TEXT NOT NULL,
  status        TEXT NOT NULL CHECK (status IN ('candidate', 'production', 'retired')),
  created_at    TEXT NOT NULL,
  promoted_at   TEXT,
  metrics       TEXT,
  train_window  TEXT,
  features      TEXT,
  params        TEXT
);

CREATE TABLE agent_runs (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  agent        TEXT NOT NULL,
  trigger      TEXT NOT NULL,
  started_at   TEXT NOT NULL,
  finished_at  TEXT,
  status       TEXT NOT NULL,
  steps        TEXT NOT NULL DEFAULT '[]',
  error        TEXT
);
CREATE INDEX agent_runs_agent_idx ON agent_runs (agent, started_at);

CREATE TABLE dead_letters (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  ts              TEXT NOT NULL,
  topic           TEXT NOT NULL,
  handler         TEXT NOT NULL,
  event_id        TEXT NOT NULL,
  correlation_id  TEXT,
  event           TEXT NOT NULL,
  error           TEXT NOT NULL
);

CREATE TABLE system_state (
  key         TEXT PRIMARY KEY,
  value       TEXT NOT NULL,
  updated_at  TEXT NOT NULL
);
