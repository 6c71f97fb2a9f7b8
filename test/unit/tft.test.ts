import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Bar } from "../../src/core/events";
import { FEATURE_NAMES } from "../../src/model/dataset";
import { decide } from "../../src/model/registry";
import { buildPoints, buildSeries, splitPoints, windowOf } from "../../src/model/series";
import { ensureBackend, tf } from "../../src/model/tf";
import { decodeWeights, LoadedTft, type TftModel } from "../../src/model/tft";
import { gather, normalisedSeries, trainTft, type TftTrainOptions } from "../../src/model/tft-train";
import { predictLinear, scoreMulti, trainLinearSet } from "../../src/model/walkforward";
import { ROOT } from "../helpers";

function bars(sym: string, n: number): Bar[] {
  return readFileSync(join(ROOT, "data", "minute", `${sym}.csv`), "utf8").trim().split("\n").slice(1, n + 1).map((l) => {
    const [ts, symbol, o, h, lo, c, v] = l.split(",");
    return { symbol: symbol!, ts: Date.parse(ts!), open: +o!, high: +h!, low: +lo!, close: +c!, volume: +v! };
  });
}

// The tiny configuration: a few hundred points, hidden size 8, two epochs.
const HORIZONS = [5, 10];
const series = buildSeries([...bars("SPY", 400), ...bars("IBM", 300)]);
const points = buildPoints(series, HORIZONS, 12);
const { train, valid } = splitPoints(points);
const OPTS: TftTrainOptions = { lookback: 12, horizons: HORIZONS, hidden: 8, heads: 2, features: [...FEATURE_NAMES], seed: 7, epochs: 2, patience: 2, batch: 32 };

describe("TFT (tiny configuration)", async () => {
  const be = await ensureBackend();
  const a = trainTft(series, train, OPTS);
  const loaded = new LoadedTft(a);

  test("the data: a few hundred time-ordered points, purged walk-forward split", () => {
    expect(be.backend).toBe("wasm"); // the .wasm files load from the checkout
    expect(train.length).toBeGreaterThan(200);
    expect(train.length).toBeLessThan(1000);
    expect(Math.max(...train.map((p) => p.tsOut))).toBeLessThan(Math.min(...valid.map((p) => p.ts)));
  });

  test("shapes: one p10/p50/p90 per horizon per window, a confidence in (0, 1), importances summing to 1", () => {
    const r = loaded.predict(valid.slice(0, 7).map((p) => windowOf(series, p, 12)));
    expect(r.quantiles.length).toBe(7);
    for (const q of r.quantiles) {
      expect(q.length).toBe(HORIZONS.length);
      for (const [p10, p50, p90] of q) {
        expect(p10).toBeLessThanOrEqual(p50);
        expect(p50).toBeLessThanOrEqual(p90);
      }
    }
    for (const c of r.confidence) expect(c > 0 && c < 1).toBe(true);
    expect(r.importances[0]!.length).toBe(FEATURE_NAMES.length);
    expect(r.importances[0]!.reduce((x, y) => x + y, 0)).toBeCloseTo(1, 4);
    expect(Object.keys(a.importances)).toEqual([...FEATURE_NAMES]);
    expect(Object.values(a.importances).reduce((x, y) => x + y, 0)).toBeCloseTo(1, 4);
    expect(a.epochs_run).toBe(2);
    expect(() => loaded.predict([windowOf(series, valid[0]!, 12).slice(1)])).toThrow("window of 11 rows, expected 12");
  });

  test("quantiles stay ordered on every validation window (p10 <= p50 <= p90 after the fix-up)", () => {
    const r = loaded.predict(valid.map((p) => windowOf(series, p, 12)));
    const crossed = r.quantiles.flat().filter(([p10, p50, p90]) => !(p10 <= p50 && p50 <= p90));
    expect(crossed).toEqual([]);
  });

  test("deterministic with a seed on the same backend; another seed gives another model", () => {
    const b = trainTft(series, train, OPTS);
    expect(b.weights).toEqual(a.weights);
    expect(b.val_loss).toBe(a.val_loss);
    const c = trainTft(series, train, { ...OPTS, seed: 8 });
    expect(c.weights).not.toEqual(a.weights);
  });

  test("save/load round trip: the stored JSON gives identical predictions, and the loss training reported", () => {
    const back = JSON.parse(JSON.stringify(a)) as TftModel;
    const l2 = new LoadedTft(back);
    const ws = valid.slice(0, 20).map((p) => windowOf(series, p, 12));
    expect(l2.predict(ws)).toEqual(loaded.predict(ws));
    // the early-stopping loss is recomputable from the stored weights alone
    const sorted = [...train].sort((x, y) => x.ts - y.ts);
    const cut = sorted[Math.floor(sorted.length * 0.85)]!.ts;
    const val = sorted.filter((p) => p.ts >= cut);
    const norm = normalisedSeries(series, back.norm.mean, back.norm.std);
    const buf = gather(norm, val, Int32Array.from(val.keys()), 0, val.length, 12, FEATURE_NAMES.length);
    const r = l2.predictNormalised(buf, val.length);
    let loss = 0;
    val.forEach((p, k) => HORIZONS.forEach((_, h) => {
      const y = p.y[h]! / back.norm.y_scale[h]!;
      r.quantiles[k]![h]!.forEach((q, j) => {
        const e = y - q / back.norm.y_scale[h]!;
        const tau = [0.1, 0.5, 0.9][j]!;
        loss += Math.max(tau * e, (tau - 1) * e);
      });
    }));
    expect(loss / (val.length * HORIZONS.length * 3)).toBeCloseTo(a.val_loss, 4);
    l2.dispose();
  });

  test("corrupt weights are refused at load, naming what is wrong", () => {
    const bad = JSON.parse(JSON.stringify(a)) as TftModel;
    bad.weights[0]!.data = bad.weights[0]!.data.slice(0, 8);
    expect(() => decodeWeights(bad)).toThrow(`tft weights: ${bad.weights[0]!.name} holds`);
    const nan = JSON.parse(JSON.stringify(a)) as TftModel;
    const w = nan.weights.find((x) => x.name === "q_w")!;
    const f = new Float32Array(Buffer.from(w.data, "base64").buffer.slice(0));
    f[0] = NaN;
    w.data = Buffer.from(f.buffer).toString("base64");
    expect(() => new LoadedTft(nan)).toThrow("tft weights: q_w holds a non-finite value");
    expect(() => new LoadedTft({ ...a, weights: a.weights.filter((x) => x.name !== "lstm_wh") })).toThrow("tft weights: lstm_wh is missing");
  });

  test("training leaves no tensors behind", () => {
    const before = tf.memory().numTensors;
    trainTft(series, train, { ...OPTS, epochs: 1 });
    expect(tf.memory().numTensors).toBe(before);
  });

  test("every kind scored on the same points: per-horizon pinball, p10 and p90 coverage", () => {
    const lin = trainLinearSet(series, train, HORIZONS, FEATURE_NAMES, { epochs: 2 });
    const sl = scoreMulti(valid, HORIZONS, predictLinear(lin, series, valid, HORIZONS));
    const st = scoreMulti(valid, HORIZONS, loaded.predict(valid.map((p) => windowOf(series, p, 12))).quantiles);
    for (const s of [sl, st]) {
      expect(Object.keys(s.by_horizon)).toEqual(["5", "10"]);
      for (const m of Object.values(s.by_horizon)) {
        expect(m.n).toBe(valid.length);
        expect(m.coverage_p10).toBeLessThanOrEqual(m.coverage_p90);
        expect(m.coverage_p90 - m.coverage_p10).toBeCloseTo(m.coverage_p10_p90, 9);
      }
    }
  });
});

describe("scoring and the promotion rule on constructed figures", () => {
  test("coverage of p10 and p90 separately, on a hand case", () => {
    const pts = [0.5, -2, 0.05, 3].map((y, k) => ({ s: 0, i: k, ts: k, tsOut: k, y: [y] }));
    const r = scoreMulti(pts, [1], pts.map(() => [[-1, 0, 1]]));
    expect(r.by_horizon["1"]!.coverage_p10).toBe(0.25); // -2 below p10
    expect(r.by_horizon["1"]!.coverage_p90).toBe(0.75); // 3 above p90
    expect(r.by_horizon["1"]!.coverage_p10_p90).toBe(0.5);
  });

  const fig = (c: number, cov: number, prod: number | null) => ({
    horizons: [30], candidate: { version: "t1", kind: "tft" as const, pinball_loss: c, coverage_p10_p90: cov, coverage_p10: 0.1, coverage_p90: 0.1 + cov },
    production: prod === null ? null : { version: "q0", kind: "linear" as const, pinball_loss: prod }, random_walk: 1.0, rolling_vol: 1.1,
    margin_pct: 1, coverage_band: [0.7, 0.9] as [number, number], validation_n: 100,
  });

  test("promotes only 1% below the best of production and both baselines, with coverage in the band", () => {
    expect(decide(fig(0.99, 0.8, 0.995)).promote).toBe(false); // beats production, but by < 1%
    expect(decide(fig(0.99, 0.8, 0.995)).reason).toContain("is not 1% below the best");
    expect(decide(fig(0.99, 0.8, 0.995)).bar).toBeCloseTo(0.995 * 0.99, 12);
    expect(decide(fig(0.985, 0.8, 0.995)).promote).toBe(true); // 1% below: 0.98505 is the bar
    expect(decide(fig(0.985, 0.8, 1.2)).promote).toBe(true); // production worse than the random walk: the walk sets the bar (0.99)
    expect(decide(fig(0.991, 0.8, 1.2)).promote).toBe(false);
    expect(decide(fig(0.9, 0.8, 0.95)).promote).toBe(true);
    expect(decide(fig(0.9, 0.8, null)).reason).toMatch(/^first production model/);
    const wide = decide(fig(0.9, 0.95, 0.95));
    expect(wide.promote).toBe(false);
    expect(wide.reason).toContain("outside the band [70%, 90%]");
    expect(decide(fig(0.9, 0.65, 0.95)).promote).toBe(false);
    expect(decide(fig(Number.NaN, 0.8, 0.95)).promote).toBe(false);
  });
});
