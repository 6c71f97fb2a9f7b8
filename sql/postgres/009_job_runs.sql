-- Names (issue 15): scheduled things are jobs, the pipeline's are agents. The run history of the
-- scheduled jobs becomes job_runs (its `agent` column `job`); rows and ids are kept.
ALTER TABLE agent_runs RENAME TO job_runs;
ALTER TABLE job_runs RENAME COLUMN agent TO job;
ALTER INDEX agent_runs_agent_idx RENAME TO job_runs_job_idx;
ALTER INDEX agent_runs_pkey RENAME TO job_runs_pkey;
ALTER SEQUENCE agent_runs_id_seq RENAME TO job_runs_id_seq;
