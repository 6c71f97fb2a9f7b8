import { StoreError, errorMessage } from "../../core/errors";
import { Where, excludedSet, valuesList, type Db } from "../db";
import type {
  BacktestRunRepository, BacktestRunRow, DeadLetterRepository, JobRunRepository, JobRunRow, LlmTraceRepository, LlmTraceRow, ModelRepository, ModelRow,
  StateRepository,
} from "../port";

const insertInto = (table: string, cols: readonly string[]) => `INSERT INTO ${table} (${cols.join(", ")}) VALUES ${valuesList(1, cols.length)}`;

/** LLM traces: every prompt and answer, filtered for `awet llm` and the API. */
export function llmTraceRepository(db: Db): LlmTraceRepository {
  const traces = db.codec<LlmTraceRow>("llm_traces");
  const insert = insertInto("llm_traces", traces.insertColumns);
  return {
    async recordLlmTrace(t) {
      await db.run("recordLlmTrace", insert, traces.values(t));
    },
    async listLlmTraces(f = {}) {
      const w = new Where(traces)
        .eq("agent_name", f.agent).eq("model", f.model).eq("status", f.status).cmp("ts", ">=", f.since).cmp("ts", "<", f.until)
        .eq("correlation_id", f.correlation_id).cmp("id", ">", f.afterId);
      const order = f.afterId !== undefined ? "id ASC" : "ts DESC, id DESC";
      return (await db.all("listLlmTraces", `SELECT * FROM llm_traces ${w} ORDER BY ${order} LIMIT ?`, [...w.params, f.limit ?? 20])).map(traces.decode);
    },
  };
}

/** The model registry: at most one production version. */
export function modelRepository(db: Db): ModelRepository {
  const models = db.codec<ModelRow>("models");
  const save = `${insertInto("models", models.insertColumns)} ON CONFLICT (version) DO UPDATE SET ${excludedSet(["status", "promoted_at", "metrics"])}`;
  // One statement (atomic on both dialects, no transaction): the version becomes production and
  // every other production model retired — only when the version exists (else nothing changes).
  const promote = `UPDATE models SET status = CASE WHEN version = ? THEN 'production' ELSE 'retired' END,
      promoted_at = CASE WHEN version = ? THEN ? ELSE promoted_at END
    WHERE (version = ? OR status = 'production') AND EXISTS (SELECT 1 FROM models WHERE version = ?)`;
  return {
    async saveModel(m) {
      await db.run("saveModel", save, models.values(m));
    },
    listModels: async () => (await db.all("listModels", "SELECT * FROM models ORDER BY created_at DESC, version DESC")).map(models.decode),
    async productionModelVersion() {
      const [r] = await db.all("productionModelVersion", "SELECT version FROM models WHERE status = 'production' LIMIT 1");
      return r ? (r.version as string) : null;
    },
    async promoteModel(version, at) {
      const changed = await db.run("promoteModel", promote, [version, version, models.value("promoted_at", at), version, version]);
      if (changed === 0) throw new StoreError(`no model version ${version}`, "promoteModel");
    },
    async setModelStatus(version, status) {
      if ((await db.run("setModelStatus", "UPDATE models SET status = ? WHERE version = ?", [status, version])) === 0)
        throw new StoreError(`no model version ${version}`, "setModelStatus");
    },
  };
}

/** The run history of the scheduled jobs. */
export function jobRunRepository(db: Db): JobRunRepository {
  const runs = db.codec<JobRunRow>("job_runs");
  return {
    async startJobRun(job, trigger, at) {
      const [r] = await db.all("startJobRun", "INSERT INTO job_runs (job, trigger, started_at, status, steps) VALUES (?, ?, ?, 'running', ?) RETURNING id", [
        job, trigger, runs.value("started_at", at), runs.value("steps", []),
      ]);
      return Number(r!.id);
    },
    async finishJobRun(id, p) {
      await db.run("finishJobRun", "UPDATE job_runs SET status = ?, steps = ?, error = ?, finished_at = ? WHERE id = ?", [
        p.status, runs.value("steps", p.steps), p.error, runs.value("finished_at", p.finished_at), id,
      ]);
    },
    async listJobRuns(f) {
      const w = new Where(runs).eq("job", f.job);
      return (await db.all("listJobRuns", `SELECT * FROM job_runs ${w} ORDER BY id DESC LIMIT ?`, [...w.params, f.limit ?? 20])).map(runs.decode);
    },
  };
}

/** Replays stored as backtest runs. */
export function backtestRunRepository(db: Db): BacktestRunRepository {
  const runs = db.codec<BacktestRunRow>("backtest_runs");
  const insert = insertInto("backtest_runs", runs.insertColumns);
  return {
    async saveBacktestRun(r) {
      try {
        await db.run("saveBacktestRun", insert, runs.values(r));
      } catch (e) {
        throw new StoreError(`cannot store run ${r.id}: ${errorMessage(e)}`, "saveBacktestRun", e);
      }
    },
    async getBacktestRun(id) {
      const [r] = await db.all("getBacktestRun", "SELECT * FROM backtest_runs WHERE id = ?", [id]);
      return r ? runs.decode(r) : null;
    },
    listBacktestRuns: async (limit) => (await db.all("listBacktestRuns", "SELECT * FROM backtest_runs ORDER BY started_at DESC, id DESC LIMIT ?", [limit])).map(runs.decode),
  };
}

/** Small named values. */
export function stateRepository(db: Db): StateRepository {
  const state = db.codec("system_state");
  return {
    async getState(key) {
      const [r] = await db.all("getState", "SELECT value FROM system_state WHERE key = ?", [key]);
      return r ? (r.value as string) : null;
    },
    async setState(key, value, at) {
      await db.run("setState", `INSERT INTO system_state (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET ${excludedSet(["value", "updated_at"])}`, [
        key, value, state.value("updated_at", at),
      ]);
    },
  };
}

/** Events a handler failed on, kept whole. */
export function deadLetterRepository(db: Db): DeadLetterRepository {
  const dead = db.codec("dead_letters");
  const insert = insertInto("dead_letters", dead.insertColumns);
  return {
    async recordDeadLetter(d) {
      await db.run("recordDeadLetter", insert, dead.values({ ts: d.ts, topic: d.topic, handler: d.handler, event_id: d.event.id, correlation_id: d.event.correlation_id, event: d.event, error: d.error }));
    },
  };
}
