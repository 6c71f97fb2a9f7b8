import { describe, expect, test } from "bun:test";
import { spawn } from "bun";
import { join } from "node:path";
import { Supervisor } from "../../src/agents/supervisor";
import { findJob } from "../../src/jobs/jobs";
import { Scheduler, nextEffectiveRun, runJob } from "../../src/jobs/scheduler";
import { buildApp } from "../../src/server/app";
import { silentLogger } from "../../src/obs/log";
import { ReplaySource } from "../../src/market/replay";
import { ROOT, tempHome, testSettings } from "../helpers";

// The night trainer trains the TFT (model_kind: tft) in its tiny configuration here, so the suite stays fast.
const TINY_TFT = { AWET_TFT_LOOKBACK_BARS: "12", AWET_TFT_HIDDEN: "8", AWET_TFT_HEADS: "2", AWET_TFT_EPOCHS: "2", AWET_TFT_TRAIN_STRIDE: "20", AWET_FORECAST_HORIZONS_BARS: "15,30" };

async function awet(home: string, ...args: string[]) {
  const p = spawn({ cmd: [process.execPath, join(ROOT, "src", "main.ts"), ...args, "--home", home], env: { ...process.env, AWET_HOME: "", LLM_ENABLED: "false", ...TINY_TFT }, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { out, err, code };
}

describe("scheduled jobs and the model lifecycle", () => {
  test("night_trainer then morning_deployer leave a promoted or refused candidate with the reason in the run history", async () => {
    const h = tempHome();
    try {
      expect((await awet(h.home, "replay", join(ROOT, "data", "minute"), "--json")).code).toBe(0);
      const t = await awet(h.home, "jobs", "run", "night_trainer");
      expect(t.code).toBe(0);
      expect(t.out).toMatch(/✓ train .* candidate t\d{8}-[0-9a-f]{8} \(tft\) trained in the worker on the wasm backend/);
      expect(t.out).toMatch(/training epoch 2\/2 {2}loss .* val .* ETA/);
      const d = await awet(h.home, "jobs", "run", "morning_deployer");
      expect(d.code).toBe(0);
      const runs = JSON.parse((await awet(h.home, "jobs", "runs", "--json")).out);
      expect(runs.map((r: any) => r.job)).toEqual(["morning_deployer", "night_trainer"]);
      expect(JSON.parse((await awet(h.home, "jobs", "runs", "--job", "night_trainer", "--json")).out).map((r: any) => r.job)).toEqual(["night_trainer"]);
      const promote = runs[0].steps.find((s: any) => s.name === "promote");
      expect(promote.output).toMatch(/^first production model: candidate pinball .* inside \[70%, 90%\]|^refused: candidate (pinball .* is not 1% below the best of random walk .*, rolling vol|coverage .* outside the band)/);
      // the decision and its figures are kept and listed
      const list = JSON.parse((await awet(h.home, "model", "list", "--json")).out);
      expect(list[0].kind).toBe("tft");
      expect(list[0].decision.reason).toBe(promote.output);
      expect(list[0].decision.figures.candidate.pinball_loss).toBeGreaterThan(0);
      expect(list[0].decision.figures.random_walk).toBeGreaterThan(0);
      expect(list[0].decision.figures.coverage_band).toEqual([0.7, 0.9]);
      // the decision must follow the figures: promoted exactly when under the bar and inside the band
      const fg = list[0].decision.figures;
      const follows = fg.candidate.pinball_loss <= fg.bar && fg.candidate.coverage_p10_p90 >= 0.7 && fg.candidate.coverage_p10_p90 <= 0.9;
      expect(list[0].decision.promoted).toBe(follows);
      expect(fg.bar).toBeCloseTo(Math.min(fg.random_walk, fg.rolling_vol) * 0.99, 12); // no production model yet
      expect((await awet(h.home, "model", "list")).out).toContain(promote.output);
      // a linear challenger, then eval: the old shape plus by_horizon and every kind under models
      expect((await awet(h.home, "model", "train", "--kind", "linear", "--epochs", "3")).code).toBe(0);
      const ev = JSON.parse((await awet(h.home, "model", "eval", "--json")).out);
      for (const k of ["pinball_loss", "coverage_p10_p90", "coverage_p10", "coverage_p90", "directional_accuracy"]) {
        expect(ev.model).toHaveProperty(k);
        expect(ev.baselines.random_walk).toHaveProperty(k);
        expect(ev.baselines.rolling_vol).toHaveProperty(k);
        for (const h of ["15", "30"]) for (const m of ["model", "random_walk", "rolling_vol"]) expect(ev.by_horizon[h][m]).toHaveProperty(k);
        expect(ev.models.tft).toHaveProperty(k);
        expect(ev.models.linear).toHaveProperty(k);
      }
      expect(ev.models.tft.n).toBe(ev.models.linear.n); // the same points
      expect(Object.keys(ev.models.tft.by_horizon)).toEqual(["15", "30"]);
      const show = await awet(h.home, "model", "show", list[0].version);
      expect(show.out).toContain("input importances");
      for (const f of ["ret_1", "realized_vol", "volume_z"]) expect(show.out).toContain(f);
      expect((await awet(h.home, "model", "show", "nonesuch")).code).toBe(2);
      expect((await awet(h.home, "model", "train", "--kind", "lstm")).err).toContain("--kind must be tft or linear");
      const dry = await awet(h.home, "jobs", "run", "night_trainer", "--dry-run");
      expect(dry.out).toContain("dry run: would train");
      expect((await awet(h.home, "jobs", "run", "nonesuch")).code).toBe(2);
      // "agents" are the pipeline's: the old subcommands point to `awet jobs`
      const old = await awet(h.home, "agents", "run", "night_trainer");
      expect([old.code, old.err]).toEqual([2, expect.stringContaining("`awet jobs run` now")]);
      const listed = await awet(h.home, "agents");
      expect(listed.code).toBe(0);
      expect(listed.out.split("\n").filter(Boolean).map((l) => l.trim().split(/\s+/)[0])).toEqual(["ingestion", "features", "prediction", "risk", "execution", "exit", "watchtower"]);
    } finally {
      h.cleanup();
    }
  }, 300_000); // several CLI runs, each scoring a (tiny) TFT on ~3,900 validation points

  test("Prediction picks up a promoted model without a restart, and events carry its version", async () => {
    const h = tempHome();
    try {
      const settings = testSettings(h.home, { LLM_ENABLED: "false", AWET_MODEL_KIND: "linear" });
      const sup = new Supervisor({ settings });
      await sup.init("model");
      await sup.runSource(new ReplaySource([join(ROOT, "data", "minute", "SPY.csv"), join(ROOT, "data", "minute", "IBM.csv")], "max"));
      expect(sup.prediction.modelVersion).toBe("baseline-1");
      const run = await runJob(findJob("night_trainer")!, { settings, store: sup.store, trigger: "manual" });
      expect(run.status).toBe("ok");
      const version = (await sup.store.listModels())[0]!.version;
      const { promote } = await import("../../src/ops/model");
      await promote(sup.store, version, Date.now());
      await sup.prediction.reload();
      expect(sup.prediction.modelVersion).toBe(version);
      await sup.close();
    } finally {
      h.cleanup();
    }
  }, 120_000);

  test("trade_watchdog switches to HALTED on exposure over the cap, and says why; REST runs need the token", async () => {
    const h = tempHome();
    try {
      const settings = testSettings(h.home, { LLM_ENABLED: "false" });
      const sup = new Supervisor({ settings });
      await sup.init("wd");
      await sup.store.upsertPosition({ symbol: "SPY", qty: 1000, avg_entry_price: 100, last_price: 100, market_value: 100_000, unrealized_pl: 0, opened_at: 0, updated_at: 0 });
      const app = buildApp(sup, { version: "t", token: "t".repeat(32) });
      const no = await app.handle(new Request("http://localhost/api/jobs/trade_watchdog/run", { method: "POST" }));
      expect(no.status).toBe(401);
      const res = await app.handle(new Request("http://localhost/api/jobs/trade_watchdog/run", { method: "POST", headers: { authorization: `Bearer ${"t".repeat(32)}` } }));
      const run = (await res.json()) as any;
      expect(run.status).toBe("ok");
      expect(run.steps.find((s: any) => s.name === "switch_state").output).toBe("trading state → HALTED");
      expect(await sup.store.getState("trading_state")).toBe("HALTED");
      expect(await sup.store.getState("trading_state_reason")).toContain("over the cap 50000");
      const runs = (await (await app.handle(new Request("http://localhost/api/jobs/runs?job=trade_watchdog"))).json()) as any;
      expect(runs.runs[0].trigger).toBe("api");
      // a missed run while the daemon was down is reported; the watchdog is not re-run
      const sched = new Scheduler({ settings, store: sup.store, log: silentLogger });
      // the next watchdog slot after the run above, and a "now" five minutes past it
      const due = nextEffectiveRun(findJob("trade_watchdog")!, new Date(Date.now() + 1000))!;
      const now = due.getTime() + 5 * 60_000;
      const missed = await sched.missed(now);
      expect(missed.map((m) => [m.job.name, m.due.toISOString()])).toContainEqual(["trade_watchdog", due.toISOString()]);
      const lines = await sched.catchUp(now);
      expect(lines.join("\n")).toContain(`trade_watchdog: the run due ${due.toISOString()} was missed while the daemon was down; not re-run`);
      await sup.close();
    } finally {
      h.cleanup();
    }
  });
});
