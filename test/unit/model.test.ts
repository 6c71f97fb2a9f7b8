import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildSamples, FEATURE_NAMES } from "../../src/model/dataset";
import { evaluate, score, splitWalkForward } from "../../src/model/evaluate";
import { pinball, predictQuantiles, trainQuantile } from "../../src/model/quantile";
import type { Bar } from "../../src/core/events";
import { ROOT } from "../helpers";

function bars(sym: string): Bar[] {
  return readFileSync(join(ROOT, "data", "minute", `${sym}.csv`), "utf8").trim().split("\n").slice(1).map((l) => {
    const [ts, symbol, o, h, lo, c, v] = l.split(",");
    return { symbol: symbol!, ts: Date.parse(ts!), open: +o!, high: +h!, low: +lo!, close: +c!, volume: +v! };
  });
}

describe("quantile forecaster", () => {
  const samples = buildSamples([...bars("SPY"), ...bars("IBM")], 15);
  const { train, valid } = splitWalkForward(samples);

  test("walk-forward split never validates on the past", () => {
    expect(Math.max(...train.map((s) => s.ts))).toBeLessThan(Math.min(...valid.map((s) => s.ts)));
    expect(samples[0]!.x.length).toBe(FEATURE_NAMES.length);
  });

  test("deterministic given a seed; a different seed gives a different model", () => {
    const a = trainQuantile(train, { horizon: 15, features: FEATURE_NAMES, seed: 7, epochs: 5 });
    const b = trainQuantile(train, { horizon: 15, features: FEATURE_NAMES, seed: 7, epochs: 5 });
    const c = trainQuantile(train, { horizon: 15, features: FEATURE_NAMES, seed: 8, epochs: 5 });
    expect(b).toEqual(a);
    expect(c.weights).not.toEqual(a.weights);
  });

  // Minute returns are close to unpredictable: the honest bar is "no worse than a random walk by
  // more than a few percent, with calibrated intervals" (`awet model eval` prints the real figures).
  test("on real bars it stays within 5% of the random walk's pinball loss, with calibrated, ordered quantiles", () => {
    const m = trainQuantile(train, { horizon: 15, features: FEATURE_NAMES, seed: 42, epochs: 30 });
    const ev = evaluate(m, train, valid);
    expect(ev.model.pinball_loss).toBeLessThan(ev.baselines.random_walk.pinball_loss * 1.05);
    expect(ev.model.pinball_loss).toBeLessThan(ev.baselines.rolling_vol.pinball_loss);
    expect(ev.model.coverage_p10_p90).toBeGreaterThan(0.6);
    expect(ev.model.coverage_p10_p90).toBeLessThan(0.95);
    for (const s of valid.slice(0, 200)) {
      const [p10, p50, p90] = predictQuantiles(m, s.x);
      expect(p10).toBeLessThanOrEqual(p50);
      expect(p50).toBeLessThanOrEqual(p90);
    }
  });

  test("metrics: pinball loss and coverage on a hand case", () => {
    expect(pinball(0.1, 1, 0)).toBeCloseTo(0.1);
    expect(pinball(0.9, -1, 0)).toBeCloseTo(0.1);
    const s = [{ symbol: "X", ts: 0, x: [], y: 0.5, close: 1 }, { symbol: "X", ts: 1, x: [], y: -2, close: 1 }];
    const r = score(s, () => [-1, 0, 1]);
    expect(r.coverage_p10_p90).toBe(0.5);
    expect(r.directional_accuracy).toBe(0.5); // p50 = 0 counts half
  });

  test("too few samples is a clear error", () => {
    expect(() => trainQuantile(train.slice(0, 10), { horizon: 15, features: FEATURE_NAMES })).toThrow("need at least 100 samples to train, got 10");
  });
});
