import { describe, expect, test } from "bun:test";
import { Supervisor } from "../../src/agents/supervisor";
import { backfillFromAlpaca } from "../../src/market/backfill";
import { findJob } from "../../src/jobs/jobs";
import { runJob } from "../../src/jobs/scheduler";
import { FakeAlpaca } from "../helpers/fake-alpaca";
import { tempHome, testSettings } from "../helpers";

describe("night_trainer backfill from Alpaca's market-data API (fake server on loopback)", () => {
  test("adjusted one-minute bars are fetched, validated and stored once; the trainer's step says where they came from", async () => {
    const fake = new FakeAlpaca();
    const h = tempHome();
    const now = Date.parse("2026-11-24T21:00:00Z");
    fake.historical.SPY = Array.from({ length: 30 }, (_, i) => ({ ts: now - (30 - i) * 60_000, o: 600 + i, h: 601 + i, l: 599 + i, c: 600.5 + i, v: 1000 }));
    fake.historical.SPY.push({ ts: now, o: 1, h: 900, l: 1, c: 2, v: 1 }); // garbage: quarantined
    const env = { APCA_API_KEY_ID: "PKBACKFILL0000000001", APCA_API_SECRET_KEY: "s", ALPACA_DATA_URL: fake.url, AWET_ALLOW_LOOPBACK_BROKER: "1", AWET_BROKER: "alpaca", ALPACA_BASE_URL: fake.url, LLM_ENABLED: "false" };
    try {
      const settings = testSettings(h.home, env);
      const sup = new Supervisor({ settings });
      await sup.init("bf");
      const r = await backfillFromAlpaca(sup.store, settings, { days: 1, now });
      expect(r).toMatchObject({ fetched: 31, stored: 30, rejected: 1 });
      expect(fake.barsQuery).toContain("adjustment=all");
      expect(fake.barsQuery).toContain("timeframe=1Min");
      await backfillFromAlpaca(sup.store, settings, { days: 1, now });
      expect((await sup.store.counts()).market_bars).toBe(30); // idempotent
      const run = await runJob(findJob("night_trainer")!, { settings, store: sup.store, trigger: "manual", now });
      expect(run.steps[0]).toMatchObject({ name: "backfill", ok: true, output: expect.stringContaining("source: Alpaca (31 fetched, 30 stored, 1 rejected") });
      expect(run.status).toBe("error"); // 30 bars are too few to train on, and the run says so
      expect(run.error).toContain("only 0 training points");
      await expect(backfillFromAlpaca(sup.store, testSettings(h.home, { ...env, ALPACA_DATA_URL: "https://evil.example" }), { days: 1 })).rejects.toThrow(/not Alpaca's market-data host/);
      await sup.close();
    } finally {
      fake.stop();
      h.cleanup();
    }
  });
});
