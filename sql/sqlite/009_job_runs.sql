-- Names (issue 15): scheduled things are jobs, the pipeline's are agents. The run history of the
-- scheduled jobs becomes job_runs (its `agent` column `job`); rows are kept.
ALTER TABLE agent_runs RENAME TO job_runs;
ALTER TABLE job_runs RENAME COLUMN agent TO job;
DROP INDEX agent_runs_agent_idx;
CREATE INDEX job_runs_job_idx ON job_runs (job, started_at);
-- The audit trail's insertion order has one name on both dialects: seq (it was id here).
ALTER TABLE audit_events RENAME COLUMN id TO seq;
