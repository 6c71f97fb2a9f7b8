import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Supervisor } from "../../src/agents/supervisor";
import type { Envelope, Forecast } from "../../src/core/events";
import { ReplaySource } from "../../src/market/replay";
import { promote, trainCandidate } from "../../src/ops/model";
import { ROOT, tempHome, testSettings } from "../helpers";

const TINY = { LLM_ENABLED: "false", AWET_TFT_LOOKBACK_BARS: "12", AWET_TFT_HIDDEN: "8", AWET_TFT_HEADS: "2", AWET_TFT_EPOCHS: "2", AWET_TFT_TRAIN_STRIDE: "10", AWET_FORECAST_HORIZONS_BARS: "15,30" };
const csv = (s: string) => join(ROOT, "data", "minute", `${s}.csv`);

describe("Prediction with a TFT in production", () => {
  test("events carry model, version, every horizon and the confidence; a TFT that fails falls back to the previous model, /health says so, no bar is lost", async () => {
    const h = tempHome();
    try {
      const settings = testSettings(h.home, TINY);
      const sup = new Supervisor({ settings });
      await sup.init("tft");
      const seen: Forecast[] = [];
      const predTs: number[] = [];
      sup.bus.subscribe("predictions", "test", async (e) => void (seen.push((e as Envelope<Forecast>).payload), e.symbol === "AIG" && predTs.push(e.ts)));
      await sup.runSource(new ReplaySource([csv("SPY"), csv("IBM")], "max"));
      const lin = await trainCandidate(sup.store, settings, Date.now(), { kind: "linear", epochs: 2 });
      await promote(sup.store, lin.version, Date.now());
      await sup.prediction.reload();
      const tft = await trainCandidate(sup.store, settings, Date.now(), { kind: "tft" });
      await promote(sup.store, tft.version, Date.now());
      await sup.prediction.reload();
      expect(sup.prediction.modelVersion).toBe(tft.version);

      // inference that throws: the previous production model (linear) answers, every bar still gets a forecast
      const active = (sup.prediction as unknown as { active: { predict: () => never } }).active;
      active.predict = () => {
        throw new Error("boom");
      };
      seen.length = 0;
      const engineered: number[] = [];
      sup.bus.subscribe("market.engineered", "test", async (e) => void (e.symbol === "AIG" && engineered.push(e.ts)));
      await sup.runSource(new ReplaySource([csv("AIG")], "max"));
      const aig = seen.filter((f) => f.close > 0);
      expect(aig.length).toBeGreaterThan(2000);
      const byModel = new Set(aig.map((f) => f.model_version));
      expect(byModel.has(lin.version)).toBe(true);
      expect(byModel.has(tft.version)).toBe(false);
      let hh = (await sup.health()).agents.Prediction as { model: { degraded: string | null; fallback: string | null } };
      expect(hh.model.degraded).toContain(`model ${tft.version} failed at inference: boom; predicting with linear ${lin.version}`);
      expect(sup.prediction.modelVersion).toBe(lin.version); // what /metrics exports: the model answering
      const fromLinear = aig.find((f) => f.model_version === lin.version)!;
      expect(fromLinear.horizons.map((x) => x.horizon_bars)).toEqual([15, 30]);
      expect(fromLinear.confidence).toBeNull();
      // no bar lost: from the first forecast on, one forecast per engineered bar
      expect(predTs.length).toBe(aig.length);
      expect(predTs).toEqual(engineered.filter((t) => t >= predTs[0]!));
      expect(engineered.length - predTs.length).toBeLessThan(settings.app.forecast_window_bars + 2);

      // corrupt weights on a newly promoted TFT: refused at load, the last good TFT answers (with its confidence)
      const rows = await sup.store.listModels();
      const good = rows.find((r) => r.version === tft.version)!;
      const params = JSON.parse(JSON.stringify(good.params));
      params.weights[3].data = "AAAA";
      await sup.store.saveModel({ ...good, version: "tcorrupt", status: "candidate", promoted_at: null, params });
      await promote(sup.store, "tcorrupt", Date.now());
      await sup.prediction.reload();
      hh = (await sup.health()).agents.Prediction as typeof hh;
      expect(hh.model.degraded).toMatch(/^model tcorrupt could not be loaded: tft weights: \w+ holds 3 bytes, expected \d+; predicting with tft t/);
      expect(hh.model.fallback).toBe(tft.version);
      seen.length = 0;
      await sup.runSource(new ReplaySource([csv("BAC")], "max"));
      const fromTft = seen.filter((f) => f.model_version === tft.version);
      expect(fromTft.length).toBeGreaterThan(3000);
      expect(seen.filter((f) => f.model_version === "tcorrupt")).toEqual([]);
      const f = fromTft[0]!;
      expect(f.model).toBe("tft");
      expect(f.horizons.map((x) => x.horizon_bars)).toEqual([15, 30]);
      expect([f.horizons[0]!.p10, f.horizons[0]!.p50, f.horizons[0]!.p90]).toEqual([f.p10, f.p50, f.p90]);
      for (const x of fromTft) for (const q of x.horizons) expect(q.p10 <= q.p50 && q.p50 <= q.p90).toBe(true);
      expect(f.confidence! > 0 && f.confidence! < 1).toBe(true);
      await sup.close();
    } finally {
      h.cleanup();
    }
  }, 240_000);
});
