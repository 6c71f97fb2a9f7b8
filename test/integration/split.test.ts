import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Supervisor } from "../../src/agents/supervisor";
import { MemoryBus } from "../../src/bus/memory";
import { ReplaySource } from "../../src/market/replay";
import { buildApp } from "../../src/server/app";
import { ROOT, tempHome, testSettings } from "../helpers";

function homeWithApproval() {
  const h = tempHome();
  mkdirSync(join(h.home, ".tmp"), { recursive: true });
  writeFileSync(join(h.home, ".tmp", "APPROVE_EXECUTION"), "");
  return h;
}
const rows = (db: string) => {
  const d = new Database(db, { readonly: true });
  try {
    return d.query("SELECT ts, symbol, side, qty, price, status, error_message, filled_qty, avg_fill_price, exit_reason FROM trades ORDER BY ts, symbol, side").all();
  } finally {
    d.close();
  }
};

describe("agents split across two processes (in-process pieces sharing one bus and one database)", () => {
  test("ingestion,features + prediction,risk,execution,exit give the same trades as one process; each reports only its agents", async () => {
    const files = [join(ROOT, "data", "minute", "SPY.csv"), join(ROOT, "data", "minute", "BAC.csv")];
    const env = { AWET_EXECUTION_DRY_RUN: "false" };
    // one process
    const one = homeWithApproval();
    const single = new Supervisor({ settings: testSettings(one.home, env), runId: "same" });
    await single.init("x");
    await single.runSource(new ReplaySource(files, "max"));
    await single.close();
    // two "processes": separate supervisors (separate stores on one file), one shared bus
    const two = homeWithApproval();
    const bus = new MemoryBus(() => {});
    // b first, so the simulated broker's fill hook sees each bar before the features do, as in one
    // process. (Across real processes the groups are independent; with Alpaca, fills come from the
    // reconciler, not from bars.)
    const b = new Supervisor({ settings: testSettings(two.home, env), agents: ["prediction", "risk", "execution", "exit"], bus, runId: "same" });
    const a = new Supervisor({ settings: testSettings(two.home, env), agents: ["ingestion", "features"], bus, runId: "same" });
    await a.init("x");
    await b.init("x");
    const sa = await a.runSource(new ReplaySource(files, "max"));
    await bus.drain();
    const healthA = (await (await buildApp(a, { version: "t", token: "t".repeat(32) }).handle(new Request("http://localhost/health"))).json()) as any;
    const healthB = (await (await buildApp(b, { version: "t", token: "t".repeat(32) }).handle(new Request("http://localhost/health"))).json()) as any;
    expect(Object.keys(healthA.agents)).toEqual(["DataIngestion", "FeatureEngineering"]);
    expect(Object.keys(healthB.agents)).toEqual(["Prediction", "Risk", "Execution", "Exit"]);
    expect(sa.bars_processed).toBe(sa.bars_read);
    expect(b.stats.orders_submitted).toBeGreaterThan(0);
    expect(a.stats.orders_submitted).toBe(0);
    await expect(b.runSource(new ReplaySource(files, "max"))).rejects.toThrow(/does not run the ingestion agent/);
    await a.close();
    await b.close();
    try {
      const r1 = rows(join(one.home, ".awet", "awet.db"));
      expect(r1.length).toBeGreaterThan(0);
      expect(rows(join(two.home, ".awet", "awet.db"))).toEqual(r1);
    } finally {
      one.cleanup();
      two.cleanup();
    }
  }, 60_000);
});
