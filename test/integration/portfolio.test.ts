import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Supervisor, runSeed } from "../../src/agents/supervisor";
import { nyDate, nyDayStart } from "../../src/core/time";
import { ReplaySource } from "../../src/market/replay";
import { pnlForDate } from "../../src/ops/pnl";
import { Portfolio } from "../../src/portfolio/portfolio";
import { ROOT, tempHome, testSettings } from "../helpers";

describe("Portfolio: the book in memory equals what the store holds", () => {
  test("after a replay with fills, a Portfolio restored from the store has the same positions, throttle figures and FIFO day PnL as the live one and as the store's own queries", async () => {
    const h = tempHome();
    mkdirSync(join(h.home, ".tmp"), { recursive: true });
    writeFileSync(join(h.home, ".tmp", "APPROVE_EXECUTION"), "");
    const settings = testSettings(h.home, { AWET_EXECUTION_DRY_RUN: "false", LLM_ENABLED: "false", AWET_ALLOW_ADD_TO_POSITION: "true", AWET_ENABLE_EXIT_LOGIC: "false" });
    const sup = new Supervisor({ settings });
    try {
      const paths = ["SPY.csv", "BAC.csv"].map((f) => join(ROOT, "data", "minute", f));
      await sup.init(runSeed(paths, settings));
      const s = await sup.runSource(new ReplaySource(paths, "max"));
      expect(s.fills).toBeGreaterThan(0);
      const held = (await sup.store.positions()).filter((p) => p.qty !== 0);
      expect(held.length).toBeGreaterThan(0); // exits off: positions stay open at the end

      const restored = new Portfolio(sup.store, sup.broker);
      await restored.ready();
      expect(restored.openPositions()).toEqual(held);
      expect(sup.portfolio.openPositions()).toEqual(held);

      const now = (await sup.store.latestBarTs())!;
      for (const sym of ["SPY", "BAC"]) {
        const live = sup.portfolio.facts(sym, "probe", now);
        const back = restored.facts(sym, "probe", now);
        expect(back).toEqual(live);
        const sql = await sup.store.orderStats(sym, now - 60_000, nyDayStart(now));
        expect(back.ordersLastMinute).toBe(sql.ordersSince);
        expect(back.symbolOrdersToday).toBe(sql.symbolOrdersSince);
        expect(back.openOrders).toBe(sql.openOrders);
        expect(back.lastSymbolOrderTs).toBe(sql.lastSymbolOrderTs);
      }
      // the daily-loss gate's figure is the operator's: `awet pnl today` (FIFO) for the same day
      const rep = await pnlForDate(sup.store, nyDate(now));
      expect(restored.dayPnlUsd(now)).toBeCloseTo(rep.total_pnl_usd, 2);
      expect(sup.portfolio.dayPnlUsd(now)).toBeCloseTo(rep.total_pnl_usd, 2);
      // a key the store holds is a duplicate for the restored book too
      const lastPlaced = (await sup.store.placedTradesSince(0)).at(-1)!;
      expect(restored.facts(lastPlaced.symbol, lastPlaced.idempotency_key, now).duplicate).toBe(true);
    } finally {
      await sup.close();
      h.cleanup();
    }
  });
});
