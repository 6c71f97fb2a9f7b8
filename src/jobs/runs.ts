import { errorMessage } from "../core/errors";
import type { Logger } from "../obs/log";
import type { JobRunRepository, JobRunRow } from "../store/port";

type Step = JobRunRow["steps"][number];

/**
 * One run of a scheduled job, recorded the way SuperAGI's APM tab shows runs: job, trigger,
 * start and end, status, and each step with its input summary, output summary and duration.
 */
export class RunRecorder {
  readonly steps: Step[] = [];
  id = 0;
  private startedAt = 0;
  constructor(
    private store: JobRunRepository,
    readonly job: string,
    readonly trigger: JobRunRow["trigger"],
    readonly log: Logger,
    /** Record the run only when it fails (a job repeating every minute would drown the history otherwise). */
    readonly failuresOnly = false,
  ) {}

  async start(): Promise<this> {
    this.startedAt = Date.now();
    if (this.failuresOnly) return this;
    this.id = await this.store.startJobRun(this.job, this.trigger, this.startedAt);
    this.log.info({ run_id: this.id, trigger: this.trigger }, `${this.job} run started`);
    return this;
  }

  /** Run one step; its output summary is what `f` returns. A throw fails the step and the run. */
  async step<T>(name: string, input: string, f: () => Promise<{ output: string; value?: T }>): Promise<T | undefined> {
    const t0 = performance.now();
    try {
      const r = await f();
      const s = { name, input, output: r.output, duration_ms: Math.round(performance.now() - t0), ok: true };
      this.steps.push(s);
      this.log.info(s, `step ${name}`);
      return r.value;
    } catch (e) {
      const s = { name, input, output: `failed: ${errorMessage(e)}`, duration_ms: Math.round(performance.now() - t0), ok: false };
      this.steps.push(s);
      this.log.error(s, `step ${name} failed`);
      throw e;
    }
  }

  async finish(status: JobRunRow["status"], error: string | null = null): Promise<JobRunRow> {
    const finished_at = Date.now();
    if (this.failuresOnly) {
      if (status !== "error") return { id: 0, job: this.job, trigger: this.trigger, started_at: this.startedAt, finished_at, status, steps: this.steps, error };
      this.id = await this.store.startJobRun(this.job, this.trigger, this.startedAt);
    }
    await this.store.finishJobRun(this.id, { status, steps: this.steps, error, finished_at });
    this.log.info({ run_id: this.id, status, error }, `${this.job} run finished`);
    return { id: this.id, job: this.job, trigger: this.trigger, started_at: this.startedAt, finished_at, status, steps: this.steps, error };
  }
}
