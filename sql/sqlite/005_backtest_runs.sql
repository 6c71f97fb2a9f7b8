-- Replays stored as backtest runs (`awet runs`): what was replayed (files and their hashes, symbols,
-- date range), under which config (the effective settings and their hash) and code version, and
-- the results (JSON, with the equity curve).
CREATE TABLE backtest_runs (
  id            TEXT PRIMARY KEY,
  label         TEXT,
  started_at    TEXT NOT NULL,
  finished_at   TEXT NOT NULL,
  symbols       TEXT NOT NULL,
  range_from    TEXT,
  range_to      TEXT,
  data_files    TEXT NOT NULL,
  config        TEXT NOT NULL,
  config_hash   TEXT NOT NULL,
  code_version  TEXT NOT NULL,
  summary       TEXT NOT NULL,
  results       TEXT NOT NULL
);
CREATE INDEX backtest_runs_started_idx ON backtest_runs (started_at);
