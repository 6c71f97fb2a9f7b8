import { Elysia, t } from "elysia";
import { JOBS, findJob } from "../jobs/jobs";
import { nextEffectiveRun, runJob } from "../jobs/scheduler";
import type { JobRunRow } from "../store/port";
import { apiErrors, notFound } from "./errors";
import { CONTROL_ERRORS, JSON_BODY, Limit, Open, READ_ERRORS, oneOf } from "./schemas";
import type { ServerContext } from "./context";

const JobName = oneOf(JOBS.map((j) => j.name), "a scheduled job");

/** A run of a job with ISO times and its steps (input, output, duration). */
const JobRun = Open({
  id: t.Integer(),
  job: t.String(),
  trigger: t.String({ description: "cron, manual, api or startup" }),
  started_at: t.String({ format: "date-time" }),
  finished_at: t.Nullable(t.String({ format: "date-time" })),
  status: t.String({ description: "running, ok, error or skipped" }),
  steps: t.Array(Open({ name: t.String(), output: t.String(), ok: t.Boolean() })),
  error: t.Nullable(t.String()),
});

const runJson = (r: JobRunRow) => ({ ...r, started_at: new Date(r.started_at).toISOString(), finished_at: r.finished_at === null ? null : new Date(r.finished_at).toISOString() });

/**
 * Scheduled jobs (night trainer, morning deployer, trade watchdog, orchestrator, EOD, reconcile,
 * positions sync): the list with their cron or period and next run, the run history, and a run now (token required, audited).
 * The pipeline agents are under /api/agents.
 */
export function jobRoutes(c: ServerContext) {
  const { sup } = c;
  return new Elysia({ name: "awet-jobs" })
    .use(apiErrors())
    .get("/api/jobs", () => {
      const st = c.info.scheduler?.status().jobs;
      return {
        jobs: JOBS.map((j) => ({
          name: j.name, description: j.description, cron: j.cron, every_seconds: j.every ? j.every(sup.settings.app) : null,
          next: st ? (st[j.name]?.next ?? null) : (nextEffectiveRun(j, new Date())?.toISOString() ?? null),
        })),
      };
    }, {
      response: {
        200: t.Object({
          jobs: t.Array(t.Object({
            name: t.String(), description: t.String(),
            cron: t.Nullable(t.String({ description: "croner pattern, New York time; null: on demand or on a period" })),
            every_seconds: t.Nullable(t.Integer({ description: "the period of a job that repeats (reconcile, positions_sync); null for the others" })),
            next: t.Nullable(t.String({ format: "date-time", description: "the next run (in the daemon: null when this process does not schedule it)" })),
          })),
        }),
        ...READ_ERRORS,
      },
      detail: { tags: ["jobs"], summary: "Scheduled jobs with their cron or period and next run" },
    })
    .get(
      "/api/jobs/runs",
      async ({ query }) => ({ runs: (await sup.store.listJobRuns({ job: query.job, limit: query.limit ?? 20 })).map(runJson) }),
      {
        query: t.Object({ job: t.Optional(JobName), limit: Limit(20) }),
        response: { 200: t.Object({ runs: t.Array(JobRun) }), ...READ_ERRORS },
        detail: { tags: ["jobs"], summary: "Run history of the jobs, newest first" },
      },
    )
    .post(
      "/api/jobs/:name/run",
      async (ctx) => {
        const { params, body } = ctx;
        const job = findJob(params.name);
        if (!job) throw notFound(`no job '${params.name}' (${JOBS.map((j) => j.name).join(", ")})`);
        const dryRun = body.dry_run === true;
        const run = await c.act(ctx, `jobs run ${job.name}${dryRun ? " --dry-run" : ""}`, () => runJob(job, { settings: sup.settings, store: sup.store, trigger: "api", dryRun, sup }), (r) => ({ status: r.status }));
        return runJson(run);
      },
      {
        ...JSON_BODY,
        params: t.Object({ name: t.String({ description: "a job name (GET /api/jobs)" }) }),
        body: t.Object({ dry_run: t.Optional(t.Boolean({ description: "run without side effects where the job supports it" })) }, { description: "optional" }),
        response: { 200: JobRun, 404: "Error", ...CONTROL_ERRORS },
        detail: { tags: ["jobs"], summary: "Run a scheduled job now and answer with its run (steps, status)", security: [{ bearer: [] }] },
      },
    );
}
