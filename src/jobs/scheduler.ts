import { Cron } from "croner";
import type { Settings } from "../config/load";
import { errorMessage } from "../core/errors";
import { makeLogger, type Logger } from "../obs/log";
import type { JobRunRow, Store } from "../store/port";
import { JOBS, shouldRunAt, type Job, type JobRuntime } from "./jobs";
import { RunRecorder } from "./runs";

export const TZ = "America/New_York";
const running = new Set<string>();

/** The next time a job really runs after `from`: cron in New York time, skipping days it would skip. Pure. */
export function nextEffectiveRun(job: Job, from: Date): Date | null {
  if (!job.cron) return null;
  const c = new Cron(job.cron, { timezone: TZ, paused: true });
  let t: Date | null = from;
  for (let i = 0; i < 500; i++) {
    t = c.nextRun(t);
    if (!t) return null;
    if (shouldRunAt(job, t.getTime()).run) return t;
  }
  return null;
}

export interface RunOptions {
  settings: Settings;
  store: Store;
  trigger: JobRunRow["trigger"];
  dryRun?: boolean;
  sup?: JobRuntime;
  now?: number;
  say?: (l: string) => void;
  /** Check the trading-day / EOD-time rules (cron firings); manual runs always run. */
  checkCalendar?: boolean;
  /** Record the run only when it fails (the scheduled runs of a job that repeats every few minutes). */
  failuresOnly?: boolean;
}

/** One logger per job and logs directory: a pino file destination holds a descriptor, so none is opened per run. */
const loggers = new Map<string, Logger>();
function jobLogger(s: Settings, name: string): Logger {
  const key = `${s.paths.logs}\0${s.app.log_level}\0${name}`;
  let log = loggers.get(key);
  if (!log) loggers.set(key, (log = makeLogger({ logsDir: s.paths.logs, level: s.app.log_level, name, stderr: false })));
  return log;
}

/** Run one job with its run record; never overlaps itself (a second start is recorded as skipped). */
export async function runJob(job: Job, o: RunOptions): Promise<JobRunRow> {
  const log = jobLogger(o.settings, job.name);
  const rec = await new RunRecorder(o.store, job.name, o.trigger, log, o.failuresOnly).start();
  const now = o.now ?? Date.now();
  try {
    if (running.has(job.name)) return await rec.finish("skipped", "a run of this job is still in progress (jobs never overlap)");
    if (o.checkCalendar) {
      const ok = shouldRunAt(job, now);
      if (!ok.run) return await rec.finish("skipped", ok.why ?? "not due");
    }
    running.add(job.name);
    const result = await job.run({ settings: o.settings, store: o.store, log, now, dryRun: Boolean(o.dryRun), sup: o.sup, say: o.say }, rec);
    rec.steps.push({ name: "result", input: "", output: result, duration_ms: 0, ok: true });
    return await rec.finish("ok");
  } catch (e) {
    return await rec.finish("error", errorMessage(e));
  } finally {
    running.delete(job.name);
    log.flush?.();
  }
}

/**
 * The daemon's schedule: each job on its croner pattern in America/New_York, or on its period in
 * seconds (croner's `interval`, first run one period after the start), with `protect` (no
 * overlap). Jobs that reconcile the broker are scheduled only when this process has a reconciler
 * (Alpaca); their scheduled runs are recorded only when they fail. At start, a cron run missed
 * while the daemon was down is reported, and run once when still useful (the trainer, the
 * deployer, the EOD job; not the watchdog).
 */
export class Scheduler {
  private crons = new Map<string, Cron>();
  constructor(private o: { settings: Settings; store: Store; log: Logger; sup?: JobRuntime }) {}

  /** Whether this process schedules the job at all. */
  private scheduled(job: Job): boolean {
    if (job.needsReconciler && !this.o.sup?.reconciler) return false;
    return job.cron !== null || job.every !== undefined;
  }

  start(now = Date.now()): void {
    for (const job of JOBS) {
      if (!this.scheduled(job)) continue;
      if (job.cron) {
        this.crons.set(job.name, new Cron(job.cron, { timezone: TZ, protect: true, name: job.name }, async () => {
          await runJob(job, { ...this.o, trigger: "cron", checkCalendar: true });
        }));
        continue;
      }
      const n = job.every!(this.o.settings.app);
      this.crons.set(job.name, new Cron("* * * * * *", { timezone: TZ, protect: true, name: job.name, interval: n, startAt: new Date(now + n * 1000) }, async () => {
        await runJob(job, { ...this.o, trigger: "cron", failuresOnly: true });
      }));
    }
  }

  /** Scheduled runs missed since each job's last recorded run (at most the latest one per job). */
  async missed(now = Date.now()): Promise<{ job: Job; due: Date }[]> {
    const out: { job: Job; due: Date }[] = [];
    for (const job of JOBS) {
      if (!job.cron) continue;
      const prev = new Cron(job.cron, { timezone: TZ, paused: true }).previousRuns(1, new Date(now))[0];
      if (!prev || !shouldRunAt(job, prev.getTime()).run) continue;
      const last = (await this.o.store.listJobRuns({ job: job.name, limit: 1 }))[0];
      if (!last) continue; // never ran here: nothing was "missed", this is a new home
      if (last.started_at < prev.getTime()) out.push({ job, due: prev });
    }
    return out;
  }

  async catchUp(now = Date.now()): Promise<string[]> {
    const lines: string[] = [];
    for (const m of await this.missed(now)) {
      const msg = `${m.job.name}: the run due ${m.due.toISOString()} was missed while the daemon was down`;
      this.o.log.warn({ job: m.job.name, due: m.due.toISOString() }, "missed scheduled run");
      if (m.job.runMissed) {
        lines.push(`${msg}; running it once now`);
        void runJob(m.job, { ...this.o, trigger: "startup" });
      } else lines.push(`${msg}; not re-run (only useful on time)`);
    }
    return lines;
  }

  /** Each job's pattern or period and its next run here (null: on demand, or not scheduled in this process). */
  status(): { ok: boolean; jobs: Record<string, { cron: string | null; every_seconds?: number; next: string | null }> } {
    const jobs: Record<string, { cron: string | null; every_seconds?: number; next: string | null }> = {};
    for (const j of JOBS) {
      if (j.every) {
        const next = this.crons.get(j.name)?.nextRun() ?? null;
        jobs[j.name] = { cron: null, every_seconds: j.every(this.o.settings.app), next: this.scheduled(j) ? (next?.toISOString() ?? null) : null };
      } else jobs[j.name] = { cron: j.cron, next: nextEffectiveRun(j, new Date())?.toISOString() ?? null };
    }
    return { ok: true, jobs };
  }

  stop(): void {
    for (const c of this.crons.values()) c.stop();
    this.crons.clear();
  }
}
