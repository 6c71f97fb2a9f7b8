-- AWET schema for PostgreSQL / TimescaleDB. Times are timestamptz; money and prices NUMERIC(20,6)
-- (exact to the micro-dollar, as the SQLite adapter rounds); request/response JSONB.
-- Unique keys of the time-series tables include their time column, so that TimescaleDB can turn
-- them into hypertables (done by the adapter when the extension is available).

CREATE TABLE market_bars (
  symbol      TEXT NOT NULL,
  ts          TIMESTAMPTZ NOT NULL,
  open        NUMERIC(20,6) NOT NULL,
  high        NUMERIC(20,6) NOT NULL,
  low         NUMERIC(20,6) NOT NULL,
  close       NUMERIC(20,6) NOT NULL,
  volume      NUMERIC(24,6) NOT NULL,
  source      TEXT NOT NULL DEFAULT 'replay',
  PRIMARY KEY (symbol, ts)
);
CREATE INDEX market_bars_ts_idx ON market_bars (ts);

CREATE TABLE audit_events (
  event_id        TEXT NOT NULL,
  ts              TIMESTAMPTZ NOT NULL,
  correlation_id  TEXT NOT NULL,
  event_type      TEXT NOT NULL,
  source          TEXT NOT NULL,
  symbol          TEXT NOT NULL,
  payload         JSONB NOT NULL,
  seq             BIGSERIAL,
  PRIMARY KEY (event_id, ts)
);
CREATE INDEX audit_events_corr_idx ON audit_events (correlation_id);
CREATE INDEX audit_events_ts_idx ON audit_events (ts);
CREATE INDEX audit_events_type_idx ON audit_events (event_type, ts);

CREATE TABLE trades (
  id                BIGSERIAL PRIMARY KEY,
  ts                TIMESTAMPTZ NOT NULL,
  correlation_id    TEXT NOT NULL,
  idempotency_key   TEXT NOT NULL UNIQUE,
  symbol            TEXT NOT NULL,
  side              TEXT NOT NULL CHECK (side IN ('buy', 'sell')),
  qty               NUMERIC(20,6) NOT NULL,
  price             NUMERIC(20,6),
  status            TEXT NOT NULL,
  error_message     TEXT,
  alpaca_order_id   TEXT,
  client_order_id   TEXT UNIQUE,
  alpaca_status     TEXT,
  filled_qty        NUMERIC(20,6) NOT NULL DEFAULT 0,
  avg_fill_price    NUMERIC(20,6),
  filled_at         TIMESTAMPTZ,
  updated_at        TIMESTAMPTZ NOT NULL,
  paper_trade       BOOLEAN NOT NULL DEFAULT TRUE CHECK (paper_trade = TRUE),
  dry_run           BOOLEAN NOT NULL DEFAULT FALSE,
  order_type        TEXT NOT NULL DEFAULT 'market',
  take_profit_price NUMERIC(20,6),
  stop_loss_price   NUMERIC(20,6),
  exit_reason       TEXT,
  run_id            TEXT
);
CREATE INDEX trades_ts_idx ON trades (ts);
CREATE INDEX trades_symbol_ts_idx ON trades (symbol, ts);
CREATE INDEX trades_status_idx ON trades (status);
CREATE INDEX trades_corr_idx ON trades (correlation_id);

CREATE TABLE positions (
  symbol           TEXT PRIMARY KEY,
  qty              NUMERIC(20,6) NOT NULL,
  avg_entry_price  NUMERIC(20,6) NOT NULL DEFAULT 0,
  last_price       NUMERIC(20,6),
  market_value     NUMERIC(20,6) NOT NULL DEFAULT 0,
  unrealized_pl    NUMERIC(20,6) NOT NULL DEFAULT 0,
  opened_at        TIMESTAMPTZ,
  updated_at       TIMESTAMPTZ NOT NULL
);

CREATE TABLE llm_traces (
  id                 BIGSERIAL,
  ts                 TIMESTAMPTZ NOT NULL,
  correlation_id     TEXT,
  agent_name         TEXT NOT NULL,
  model              TEXT NOT NULL,
  base_url           TEXT,
  latency_ms         DOUBLE PRECISION,
  status             TEXT NOT NULL,
  error_message      TEXT,
  request            JSONB,
  response           JSONB,
  prompt_tokens      INTEGER,
  completion_tokens  INTEGER,
  PRIMARY KEY (id, ts)
);
CREATE INDEX llm_traces_ts_idx ON llm_traces (ts);
CREATE INDEX llm_traces_corr_idx ON llm_traces (correlation_id);

CREATE TABLE daily_pnl_summary (
  report_date         DATE PRIMARY KEY,
  realized_pnl_usd    NUMERIC(20,6) NOT NULL,
  unrealized_pnl_usd  NUMERIC(20,6) NOT NULL,
  total_pnl_usd       NUMERIC(20,6) NOT NULL,
  win_rate            DOUBLE PRECISION,
  num_trades          INTEGER NOT NULL,
  num_buys            INTEGER NOT NULL DEFAULT 0,
  num_sells           INTEGER NOT NULL DEFAULT 0,
  volume_usd          NUMERIC(20,6) NOT NULL DEFAULT 0,
  wins                INTEGER NOT NULL DEFAULT 0,
  losses              INTEGER NOT NULL DEFAULT 0,
  avg_win_usd         NUMERIC(20,6),
  avg_loss_usd        NUMERIC(20,6),
  max_drawdown_usd    NUMERIC(20,6) NOT NULL DEFAULT 0,
  best_symbol         TEXT,
  worst_symbol        TEXT,
  created_at          TIMESTAMPTZ NOT NULL
);

CREATE TABLE models (
  version       TEXT PRIMARY KEY,
  name          TEXT NOT NULL,
  status        TEXT NOT NULL CHECK (status IN ('candidate', 'production', 'retired')),
  created_at    TIMESTAMPTZ NOT NULL,
  promoted_at   TIMESTAMPTZ,
  metrics       JSONB,
  train_window  JSONB,
  features      JSONB,
  params        JSONB
);

CREATE TABLE agent_runs (
  id           BIGSERIAL PRIMARY KEY,
  agent        TEXT NOT NULL,
  trigger      TEXT NOT NULL,
  started_at   TIMESTAMPTZ NOT NULL,
  finished_at  TIMESTAMPTZ,
  status       TEXT NOT NULL,
  steps        JSONB NOT NULL DEFAULT '[]',
  error        TEXT
);
CREATE INDEX agent_runs_agent_idx ON agent_runs (agent, started_at);

CREATE TABLE dead_letters (
  id              BIGSERIAL PRIMARY KEY,
  ts              TIMESTAMPTZ NOT NULL,
  topic           TEXT NOT NULL,
  handler         TEXT NOT NULL,
  event_id        TEXT NOT NULL,
  correlation_id  TEXT,
  event           JSONB NOT NULL,
  error           TEXT NOT NULL
);

CREATE TABLE system_state (
  key         TEXT PRIMARY KEY,
  value       TEXT NOT NULL,
  updated_at  TIMESTAMPTZ NOT NULL
);
