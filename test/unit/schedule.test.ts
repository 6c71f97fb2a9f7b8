import { describe, expect, test } from "bun:test";
import { findJob, shouldRunAt } from "../../src/jobs/jobs";
import { nextEffectiveRun } from "../../src/jobs/scheduler";

const iso = (d: Date | null) => d?.toISOString() ?? null;
const job = (n: string) => findJob(n)!;

describe("job schedules (croner, America/New_York)", () => {
  test("night_trainer 02:00 New York across the spring DST change", () => {
    // Friday 2026-03-06 02:00 EST = 07:00Z; the next is Monday 2026-03-09 02:00 EDT = 06:00Z
    expect(iso(nextEffectiveRun(job("night_trainer"), new Date("2026-03-06T03:00:00Z")))).toBe("2026-03-06T07:00:00.000Z");
    expect(iso(nextEffectiveRun(job("night_trainer"), new Date("2026-03-06T08:00:00Z")))).toBe("2026-03-09T06:00:00.000Z");
  });

  test("morning_deployer 08:30 across the autumn DST change, and skipping Thanksgiving", () => {
    expect(iso(nextEffectiveRun(job("morning_deployer"), new Date("2026-10-30T13:00:00Z")))).toBe("2026-11-02T13:30:00.000Z"); // EST from Nov 1
    expect(iso(nextEffectiveRun(job("morning_deployer"), new Date("2026-11-25T14:00:00Z")))).toBe("2026-11-27T13:30:00.000Z"); // Thu 26th is Thanksgiving
  });

  test("trade_watchdog every 15 minutes 09:00-15:45, Mon-Fri, not on Good Friday", () => {
    expect(iso(nextEffectiveRun(job("trade_watchdog"), new Date("2026-04-02T19:50:00Z")))).toBe("2026-04-06T13:00:00.000Z"); // Thu 15:50 EDT → Good Friday 04-03 skipped → Monday 09:00
    expect(iso(nextEffectiveRun(job("trade_watchdog"), new Date("2026-04-06T13:01:00Z")))).toBe("2026-04-06T13:15:00.000Z");
  });

  test("eod at 16:30, or 13:30 after an early close (the day after Thanksgiving)", () => {
    expect(iso(nextEffectiveRun(job("eod"), new Date("2026-11-24T12:00:00Z")))).toBe("2026-11-24T21:30:00.000Z");
    expect(iso(nextEffectiveRun(job("eod"), new Date("2026-11-25T22:00:00Z")))).toBe("2026-11-27T18:30:00.000Z"); // 13:30 EST
    expect(shouldRunAt(job("eod"), Date.parse("2026-11-27T21:30:00Z")).run).toBe(false); // not 16:30 on an early-close day
    expect(shouldRunAt(job("trade_watchdog"), Date.parse("2026-12-25T15:00:00Z"))).toMatchObject({ run: false, why: expect.stringContaining("not an NYSE trading day") });
  });

  test("the orchestrator is on demand only", () => {
    expect(nextEffectiveRun(job("orchestrator"), new Date())).toBeNull();
  });
});

describe("trade_watchdog data freshness", () => {
  test("stale bars during market hours are a hard fault on a live source, and not checked on a replay", async () => {
    const { watchdogFindings } = await import("../../src/jobs/jobs");
    const { SqliteStore } = await import("../../src/store/sqlite");
    const { tempHome, testSettings } = await import("../helpers");
    const { silentLogger } = await import("../../src/obs/log");
    const h = tempHome();
    try {
      const store = new SqliteStore(":memory:");
      await store.migrate();
      await store.appendBars([{ symbol: "SPY", ts: Date.parse("2026-11-24T14:00:00Z"), open: 1, high: 1, low: 1, close: 1, volume: 1 }], "t");
      const now = Date.parse("2026-11-24T15:00:00Z"); // Tuesday 10:00 New York, an hour after the last bar
      const live = await watchdogFindings({ settings: testSettings(h.home, { AWET_MARKET_SOURCE: "alpaca" }), store, log: silentLogger, now, dryRun: false });
      expect(live.find((f) => f.check === "data_freshness")).toMatchObject({ ok: false, severity: "hard", action: "REDUCING" });
      const replay = await watchdogFindings({ settings: testSettings(h.home), store, log: silentLogger, now, dryRun: false });
      expect(replay.find((f) => f.check === "data_freshness")).toMatchObject({ ok: true });
      await store.close();
    } finally {
      h.cleanup();
    }
  });
});
