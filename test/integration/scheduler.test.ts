import { describe, expect, test } from "bun:test";
import { newStats } from "../../src/agents/context";
import { findJob, type JobRuntime } from "../../src/jobs/jobs";
import { Scheduler, runJob } from "../../src/jobs/scheduler";
import { silentLogger } from "../../src/obs/log";
import { SqliteStore } from "../../src/store/sqlite";
import { tempHome, testSettings } from "../helpers";

/** A daemon runtime double: counts reconcile cycles and position syncs, or fails them on demand. */
function runtime(o: { reconciles: boolean; fail?: boolean }) {
  const calls = { cycles: 0, syncs: 0, nows: [] as number[] };
  const rt: JobRuntime = {
    agents: [],
    stats: newStats(),
    reconciler: o.reconciles ? ({} as JobRuntime["reconciler"]) : null,
    reconcileCycle: async (now?: number) => {
      calls.cycles++;
      calls.nows.push(now ?? -1);
      if (o.fail) throw new Error("broker said 503");
      return "orders";
    },
    syncPositions: async () => {
      calls.syncs++;
      return { synced: 2, zeroed: 1 };
    },
  };
  return { rt, calls };
}

/** Wait until `ok()` holds (polled every 50 ms), at most `ms`. */
async function until(ok: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok()) && Date.now() < end) await Bun.sleep(50);
}

describe("the periodic reconcile and positions sync are jobs of the scheduler", () => {
  test("with a reconciler they run on their periods from the config, are listed with their next run, and a clean run leaves no history row", async () => {
    const h = tempHome();
    const settings = testSettings(h.home, { AWET_RECONCILE_INTERVAL_SECONDS: "1", AWET_POSITIONS_INTERVAL_SECONDS: "2" });
    const store = new SqliteStore(settings.paths.db);
    await store.migrate();
    const { rt, calls } = runtime({ reconciles: true });
    const sched = new Scheduler({ settings, store, log: silentLogger, sup: rt });
    try {
      const t0 = Date.now();
      sched.start(t0);
      const st = sched.status().jobs;
      expect(st.reconcile).toMatchObject({ cron: null, every_seconds: 1 });
      expect(st.positions_sync).toMatchObject({ cron: null, every_seconds: 2 });
      const next = Date.parse(st.reconcile!.next!);
      expect(next - t0).toBeGreaterThanOrEqual(900); // first run one period after the start, not at once
      expect(next - t0).toBeLessThan(2100);
      await until(() => calls.cycles >= 3 && calls.syncs >= 1, 8000);
      const elapsed = (Date.now() - t0) / 1000;
      expect(calls.cycles).toBeGreaterThanOrEqual(3);
      expect(calls.syncs).toBeGreaterThanOrEqual(1);
      // Once per period, not more: croner fires on whole seconds at least `interval` apart.
      expect(calls.cycles).toBeLessThanOrEqual(Math.floor(elapsed) + 1);
      expect(calls.syncs).toBeLessThanOrEqual(Math.floor(elapsed / 2) + 1);
      for (const n of calls.nows) expect(Math.abs(n - Date.now())).toBeLessThan(10_000); // wall time is passed in
      expect(await store.listJobRuns({ job: "reconcile", limit: 10 })).toEqual([]);
      expect(await store.listJobRuns({ job: "positions_sync", limit: 10 })).toEqual([]);
    } finally {
      sched.stop();
      await store.close();
      h.cleanup();
    }
  });

  test("a failing cycle is recorded with its error; the trainer and the other cron jobs keep their patterns", async () => {
    const h = tempHome();
    const settings = testSettings(h.home, { AWET_RECONCILE_INTERVAL_SECONDS: "1", AWET_POSITIONS_INTERVAL_SECONDS: "3600" });
    const store = new SqliteStore(settings.paths.db);
    await store.migrate();
    const { rt } = runtime({ reconciles: true, fail: true });
    const sched = new Scheduler({ settings, store, log: silentLogger, sup: rt });
    try {
      sched.start();
      expect(sched.status().jobs.night_trainer).toMatchObject({ cron: "0 2 * * 1-5" });
      await until(async () => (await store.listJobRuns({ job: "reconcile", limit: 10 })).length > 0, 5000);
      const runs = await store.listJobRuns({ job: "reconcile", limit: 10 });
      expect(runs.length).toBeGreaterThanOrEqual(1);
      expect(runs[0]).toMatchObject({ job: "reconcile", trigger: "cron", status: "error", error: "broker said 503" });
      expect(runs[0]!.finished_at! - runs[0]!.started_at).toBeGreaterThanOrEqual(0);
    } finally {
      sched.stop();
      await store.close();
      h.cleanup();
    }
  });

  test("without a reconciler (the simulated broker) neither is scheduled, and a manual run says there is nothing to do", async () => {
    const h = tempHome();
    const settings = testSettings(h.home, { AWET_RECONCILE_INTERVAL_SECONDS: "1" });
    const store = new SqliteStore(settings.paths.db);
    await store.migrate();
    const { rt, calls } = runtime({ reconciles: false });
    const sched = new Scheduler({ settings, store, log: silentLogger, sup: rt });
    try {
      sched.start();
      expect(sched.status().jobs.reconcile).toEqual({ cron: null, every_seconds: 1, next: null });
      await Bun.sleep(2200); // two periods
      expect(calls.cycles).toBe(0);
      const run = await runJob(findJob("reconcile")!, { settings, store, trigger: "manual" });
      expect(run.status).toBe("ok");
      expect(run.steps.at(-1)!.output).toBe("nothing to reconcile (the broker fills from bars)");
      expect((await store.listJobRuns({ job: "reconcile", limit: 10 })).length).toBe(1); // manual runs are recorded
    } finally {
      sched.stop();
      await store.close();
      h.cleanup();
    }
  });
});

describe("RunRecorder", () => {
  test("a finished run reports the time it started, the same the history row holds", async () => {
    const { RunRecorder } = await import("../../src/jobs/runs");
    const h = tempHome();
    const store = new SqliteStore(testSettings(h.home).paths.db);
    await store.migrate();
    try {
      const before = Date.now();
      const rec = await new RunRecorder(store, "eod", "manual", silentLogger).start();
      const done = await rec.finish("ok");
      expect(done.started_at).toBeGreaterThanOrEqual(before);
      expect(done.started_at).toBeLessThanOrEqual(done.finished_at!);
      const [row] = await store.listJobRuns({ job: "eod", limit: 1 });
      expect(row!.started_at).toBe(done.started_at);
    } finally {
      await store.close();
      h.cleanup();
    }
  });
});
