-- Replays stored as backtest runs (`awet runs`): what was replayed (files and their hashes, symbols,
-- date range), under which config (the effective settings and their hash) and code version, and
-- the results (JSON, with the equity curve).
CREATE TABLE backtest_runs (
  id            TEXT PRIMARY KEY,
  label         TEXT,
  started_at    TIMESTAMPTZ NOT NULL,
  finished_at   TIMESTAMPTZ NOT NULL,
  symbols       JSONB NOT NULL,
  range_from    TEXT,
  range_to      TEXT,
  data_files    JSONB NOT NULL,
  config        JSONB NOT NULL,
  config_hash   TEXT NOT NULL,
  code_version  TEXT NOT NULL,
  summary       JSONB NOT NULL,
  results       JSONB NOT NULL
);
CREATE INDEX backtest_runs_started_idx ON backtest_runs (started_at);
