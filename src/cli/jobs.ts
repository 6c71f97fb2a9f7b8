import { UsageError } from "../core/errors";
import { JOBS, findJob, type Job } from "../jobs/jobs";
import { nextEffectiveRun, runJob } from "../jobs/scheduler";
import { intFlag, parseArgs } from "./args";
import { GLOBAL_VALUE_FLAGS, out, settingsFrom, withStore } from "./common";
import { oneLine } from "../core/text";
import type { Settings } from "../config/load";

export const JOBS_HELP = `Usage: awet jobs list | run NAME [--dry-run] | runs [--job J] [--limit N] [--json]   [--home DIR]

The scheduled jobs (croner, America/New_York; the daemon runs them on schedule):
${JOBS.map((j) => `  ${j.name.padEnd(17)} ${j.description}`).join("\n")}

  list             the jobs, their schedule (cron pattern or period) and next run
  run NAME         run one now (trigger manual), printing its steps; --dry-run does no harm
  runs             the run history (job, trigger, start, end, status, steps, error); --job J for one
Each job also logs to <home>/logs/<job>.log. (The pipeline's agents are listed by \`awet agents\`.)`;

/** How a job is scheduled, in words. */
function schedule(j: Job, s: Settings): string {
  return j.cron ?? (j.every ? `every ${j.every(s.app)} s${j.needsReconciler ? " (alpaca)" : ""}` : "on demand");
}

export async function jobsCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { bool: ["help", "json", "dry-run"], value: [...GLOBAL_VALUE_FLAGS, "job", "limit"] });
  const sub = p.positionals[0];
  if (p.flags.help || !sub) return out(JOBS_HELP), p.flags.help ? 0 : 2;
  const s = settingsFrom(p);
  if (sub === "list") {
    const rows = JOBS.map((j) => ({ name: j.name, cron: j.cron, every_seconds: j.every ? j.every(s.app) : null, next: nextEffectiveRun(j, new Date())?.toISOString() ?? null, description: j.description }));
    if (p.flags.json) out(JSON.stringify(rows, null, 2));
    else for (const [i, r] of rows.entries()) out(`${r.name.padEnd(17)} ${schedule(JOBS[i]!, s).padEnd(20)} next ${r.next ?? "-"}`);
    return 0;
  }
  return withStore(s, async (store) => {
    if (sub === "run") {
      const name = p.positionals[1];
      const job = name ? findJob(name) : undefined;
      if (!job) throw new UsageError(`awet jobs run: unknown job '${name ?? ""}'; choose from ${JOBS.map((j) => j.name).join(", ")}`);
      const run = await runJob(job, { settings: s, store, trigger: "manual", dryRun: Boolean(p.flags["dry-run"]), say: p.flags.json ? undefined : out });
      if (p.flags.json) out(JSON.stringify(run, null, 2));
      else {
        out(`${job.name} run ${run.id}: ${run.status}${run.error ? ` (${oneLine(run.error)})` : ""}`);
        for (const st of run.steps) out(`  ${st.ok ? "✓" : "✗"} ${st.name.padEnd(14)} ${st.duration_ms} ms  ${oneLine(st.output)}`);
      }
      return run.status === "error" ? 1 : 0;
    }
    if (sub === "runs") {
      if (p.flags.job && !findJob(String(p.flags.job))) throw new UsageError(`--job: unknown job '${p.flags.job}'; choose from ${JOBS.map((j) => j.name).join(", ")}`);
      const runs = await store.listJobRuns({ job: p.flags.job as string | undefined, limit: intFlag(p, "limit", 20, 1, 1000) });
      if (p.flags.json) out(JSON.stringify(runs.map((r) => ({ ...r, started_at: new Date(r.started_at).toISOString(), finished_at: r.finished_at && new Date(r.finished_at).toISOString() })), null, 2));
      else if (runs.length === 0) out("no job runs yet");
      else
        for (const r of runs) {
          out(`#${r.id} ${r.job.padEnd(17)} ${r.trigger.padEnd(7)} ${new Date(r.started_at).toISOString()} ${r.status}${r.error ? ` — ${oneLine(r.error)}` : ""}`);
          for (const st of r.steps) out(`     ${st.ok ? "✓" : "✗"} ${st.name}: ${oneLine(st.output.slice(0, 140))}`);
        }
      return 0;
    }
    throw new UsageError(`awet jobs: expected list, run or runs; got '${sub}'`);
  });
}
