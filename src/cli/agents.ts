import { UsageError } from "../core/errors";
import { JOBS, findJob } from "../jobs/jobs";
import { nextEffectiveRun, runJob } from "../jobs/scheduler";
import { evaluateVersion, promote, rollback, trainCandidate } from "../model/service";
import { intFlag, parseArgs } from "./args";
import { GLOBAL_VALUE_FLAGS, out, settingsFrom, withStore } from "./common";
import { oneLine } from "../core/text";

export const AGENTS_HELP = `Usage: awet agents list | run NAME [--dry-run] | runs [--agent A] [--limit N] [--json]   [--home DIR]

The scheduled agents (croner, America/New_York, Mon-Fri; the daemon runs them on schedule):
${JOBS.map((j) => `  ${j.name.padEnd(17)} ${j.description}`).join("\n")}

  list             the agents, their cron and next run
  run NAME         run one now (trigger manual), printing its steps; --dry-run does no harm
  runs             the run history (agent, trigger, start, end, status, steps, error)
Each agent also logs to <home>/logs/<agent>.log.`;

export const MODEL_HELP = `Usage: awet model train | eval [--json] | list | promote VERSION | rollback   [--home DIR]

  train            train a candidate quantile model (p10/p50/p90 of the next-horizon return) on the
                   engineered features of the stored bars, in a worker, with progress
  eval             walk-forward metrics of the production model (else the newest) beside two
                   baselines; --json: {"model": {...}, "baselines": {"random_walk": {...},
                   "rolling_vol": {...}}}, each with pinball_loss, coverage_p10_p90, directional_accuracy
  list             every version with its status (candidate, production, retired) and metrics
  promote VERSION  make VERSION the production model (Prediction picks it up without a restart)
  rollback         make the previously promoted version production again`;


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
  return withStore(p, async (store) => {
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

const m4 = (x: { pinball_loss: number; coverage_p10_p90: number; directional_accuracy: number }) =>
  `pinball ${x.pinball_loss.toExponential(4)}  coverage p10-p90 ${(x.coverage_p10_p90 * 100).toFixed(1)}%  direction ${(x.directional_accuracy * 100).toFixed(1)}%`;

export async function modelCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { bool: ["help", "json"], value: [...GLOBAL_VALUE_FLAGS, "seed", "epochs"] });
  const sub = p.positionals[0];
  if (p.flags.help || !sub) return out(MODEL_HELP), p.flags.help ? 0 : 2;
  const s = settingsFrom(p);
  return withStore(p, async (store) => {
    if (sub === "train") {
      const r = await trainCandidate(store, s, {
        seed: intFlag(p, "seed", 42, 0, 2 ** 31), epochs: intFlag(p, "epochs", 30, 1, 1000),
        onProgress: p.flags.json ? undefined : (pr) => process.stderr.write(`\r  training epoch ${pr.epoch}/${pr.epochs}  loss ${pr.loss.toExponential(3)}   `),
      });
      if (!p.flags.json) process.stderr.write("\n");
      if (p.flags.json) out(JSON.stringify({ version: r.version, where: r.where, samples: r.samples, ...r.evaluation }, null, 2));
      else {
        out(`candidate ${r.version} (trained in the ${r.where} on ${r.evaluation.train_window.n} samples; validated on ${r.evaluation.validation_window.n})`);
        out(`  model        ${m4(r.evaluation.model)}`);
        out(`  random walk  ${m4(r.evaluation.baselines.random_walk)}`);
        out(`  rolling vol  ${m4(r.evaluation.baselines.rolling_vol)}`);
      }
      return 0;
    }
    if (sub === "eval") {
      const models = await store.listModels();
      const row = models.find((m) => m.status === "production") ?? models[0];
      if (!row) throw new UsageError("no model yet: run `awet model train` (bars are needed: `awet replay data/minute`)");
      const ev = await evaluateVersion(store, s, row);
      if (p.flags.json) out(JSON.stringify({ model: { version: row.version, status: row.status, ...ev.model }, baselines: ev.baselines, train_window: ev.train_window, validation_window: ev.validation_window }, null, 2));
      else {
        out(`walk-forward evaluation of ${row.version} (${row.status}); validation ${ev.validation_window.from} .. ${ev.validation_window.to}, ${ev.validation_window.n} samples`);
        out(`  model        ${m4(ev.model)}`);
        out(`  random walk  ${m4(ev.baselines.random_walk)}`);
        out(`  rolling vol  ${m4(ev.baselines.rolling_vol)}`);
      }
      return 0;
    }
    if (sub === "list") {
      const models = await store.listModels();
      if (p.flags.json) out(JSON.stringify(models.map((m) => ({ ...m, params: undefined })), null, 2));
      else if (models.length === 0) out("no models");
      else for (const m of models) out(`${m.version.padEnd(20)} ${m.status.padEnd(11)} created ${new Date(m.created_at).toISOString()}  ${m.metrics ? m4((m.metrics as any).model) : ""}`);
      return 0;
    }
    if (sub === "promote") {
      const v = p.positionals[1];
      if (!v) throw new UsageError("awet model promote VERSION");
      await promote(store, v);
      out(`${v} is now the production model`);
      return 0;
    }
    if (sub === "rollback") {
      out(`${await rollback(store)} is the production model again`);
      return 0;
    }
    throw new UsageError(`awet model: expected train, eval, list, promote or rollback; got '${sub}'`);
  });
}
