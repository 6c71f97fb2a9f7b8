import { UsageError } from "../core/errors";
import { JOBS, findJob } from "../jobs/jobs";
import { nextEffectiveRun, runJob } from "../jobs/scheduler";
import { intFlag, parseArgs } from "./args";
import { GLOBAL_VALUE_FLAGS, out, settingsFrom, withStore } from "./common";
import { oneLine } from "../core/text";

export { MODEL_HELP, modelCommand } from "./model";

export const AGENTS_HELP = `Usage: awet agents list | run NAME [--dry-run] | runs [--agent A] [--limit N] [--json]   [--home DIR]

The scheduled agents (croner, America/New_York, Mon-Fri; the daemon runs them on schedule):
${JOBS.map((j) => `  ${j.name.padEnd(17)} ${j.description}`).join("\n")}

  list             the agents, their cron and next run
  run NAME         run one now (trigger manual), printing its steps; --dry-run does no harm
  runs             the run history (agent, trigger, start, end, status, steps, error)
Each agent also logs to <home>/logs/<agent>.log.`;

export async function agentsCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { bool: ["help", "json", "dry-run"], value: [...GLOBAL_VALUE_FLAGS, "agent", "limit"] });
  const sub = p.positionals[0];
  if (p.flags.help || !sub) return out(AGENTS_HELP), p.flags.help ? 0 : 2;
  const s = settingsFrom(p);
  if (sub === "list") {
    const rows = JOBS.map((j) => ({ name: j.name, cron: j.cron, next: nextEffectiveRun(j, new Date())?.toISOString() ?? null, description: j.description }));
    if (p.flags.json) out(JSON.stringify(rows, null, 2));
    else for (const r of rows) out(`${r.name.padEnd(17)} ${(r.cron ?? "on demand").padEnd(20)} next ${r.next ?? "-"}`);
    return 0;
  }
  return withStore(s, async (store) => {
    if (sub === "run") {
      const name = p.positionals[1];
      const job = name ? findJob(name) : undefined;
      if (!job) throw new UsageError(`awet agents run: unknown agent '${name ?? ""}'; choose from ${JOBS.map((j) => j.name).join(", ")}`);
      const run = await runJob(job, { settings: s, store, trigger: "manual", dryRun: Boolean(p.flags["dry-run"]), say: p.flags.json ? undefined : out });
      if (p.flags.json) out(JSON.stringify(run, null, 2));
      else {
        out(`${job.name} run ${run.id}: ${run.status}${run.error ? ` (${oneLine(run.error)})` : ""}`);
        for (const st of run.steps) out(`  ${st.ok ? "✓" : "✗"} ${st.name.padEnd(14)} ${st.duration_ms} ms  ${oneLine(st.output)}`);
      }
      return run.status === "error" ? 1 : 0;
    }
    if (sub === "runs") {
      if (p.flags.agent && !findJob(String(p.flags.agent))) throw new UsageError(`--agent: unknown agent '${p.flags.agent}'`);
      const runs = await store.listAgentRuns({ agent: p.flags.agent as string | undefined, limit: intFlag(p, "limit", 20, 1, 1000) });
      if (p.flags.json) out(JSON.stringify(runs.map((r) => ({ ...r, started_at: new Date(r.started_at).toISOString(), finished_at: r.finished_at && new Date(r.finished_at).toISOString() })), null, 2));
      else if (runs.length === 0) out("no agent runs yet");
      else
        for (const r of runs) {
          out(`#${r.id} ${r.agent.padEnd(17)} ${r.trigger.padEnd(7)} ${new Date(r.started_at).toISOString()} ${r.status}${r.error ? ` — ${oneLine(r.error)}` : ""}`);
          for (const st of r.steps) out(`     ${st.ok ? "✓" : "✗"} ${st.name}: ${oneLine(st.output.slice(0, 140))}`);
        }
      return 0;
    }
    throw new UsageError(`awet agents: expected list, run or runs; got '${sub}'`);
  });
}
