import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { FEATURE_NAMES } from "../../src/model/dataset";
import { pinball, predictQuantiles, trainQuantile } from "../../src/model/quantile";
import { asSamples, buildPoints, buildSeries, splitPoints } from "../../src/model/series";
import { asLinearSet, predictLinear, randomWalk, rollingVol, scoreMulti, trainLinearSet } from "../../src/model/walkforward";
import type { Bar } from "../../src/core/events";
import { ROOT } from "../helpers";

function bars(sym: string): Bar[] {
  return readFileSync(join(ROOT, "data", "minute", `${sym}.csv`), "utf8").trim().split("\n").slice(1).map((l) => {
    const [ts, symbol, o, h, lo, c, v] = l.split(",");
    return { symbol: symbol!, ts: Date.parse(ts!), open: +o!, high: +h!, low: +lo!, close: +c!, volume: +v! };
  });
}

describe("linear quantile forecaster", () => {
  const series = buildSeries([...bars("SPY"), ...bars("IBM")]);
  const points = buildPoints(series, [15], 30);
  const { train, valid } = splitPoints(points);
  const samples = asSamples(series, train, 0);

  test("walk-forward split never validates on the past, nor trains on an outcome inside the validation period", () => {
    expect(Math.max(...train.map((s) => s.ts))).toBeLessThan(Math.min(...valid.map((s) => s.ts)));
    expect(Math.max(...train.map((s) => s.tsOut))).toBeLessThan(Math.min(...valid.map((s) => s.ts)));
    expect(samples[0]!.x.length).toBe(FEATURE_NAMES.length);
    const p = points[100]!;
    expect(p.y[0]).toBeCloseTo(Math.log(series[p.s]!.close[p.i + 15]! / series[p.s]!.close[p.i]!), 12);
  });

  test("deterministic given a seed; a different seed gives a different model", () => {
    const a = trainQuantile(samples, { horizon: 15, features: FEATURE_NAMES, seed: 7, epochs: 5 });
    const b = trainQuantile(samples, { horizon: 15, features: FEATURE_NAMES, seed: 7, epochs: 5 });
    const c = trainQuantile(samples, { horizon: 15, features: FEATURE_NAMES, seed: 8, epochs: 5 });
    expect(b).toEqual(a);
    expect(c.weights).not.toEqual(a.weights);
  });

  // Minute returns are close to unpredictable: the honest bar is "no worse than a random walk by
  // more than a few percent, with calibrated intervals" (`awet model eval` prints the real figures).
  test("on real bars it stays within 5% of the random walk's pinball loss, with calibrated, ordered quantiles", () => {
    const m = trainLinearSet(series, train, [15], FEATURE_NAMES, { seed: 42, epochs: 30 });
    const ev = scoreMulti(valid, [15], predictLinear(m, series, valid, [15])).overall;
    const rw = scoreMulti(valid, [15], randomWalk(train, valid, [15])).overall;
    const rv = scoreMulti(valid, [15], rollingVol(series, valid, [15])).overall;
    expect(ev.pinball_loss).toBeLessThan(rw.pinball_loss * 1.05);
    expect(ev.pinball_loss).toBeLessThan(rv.pinball_loss);
    expect(ev.coverage_p10_p90).toBeGreaterThan(0.6);
    expect(ev.coverage_p10_p90).toBeLessThan(0.95);
    for (const s of valid.slice(0, 200)) {
      const [p10, p50, p90] = predictQuantiles(m.heads[0]!, series[s.s]!.x[s.i]!);
      expect(p10).toBeLessThanOrEqual(p50);
      expect(p50).toBeLessThanOrEqual(p90);
    }
    expect(() => predictLinear(m, series, valid, [30])).toThrow("the linear model has no head for horizon 30 (it has 15)");
  });

  test("an old single-horizon row loads as a one-head set", () => {
    const v1 = trainQuantile(samples, { horizon: 15, features: FEATURE_NAMES, epochs: 1 });
    expect(asLinearSet(v1)).toEqual({ kind: "linear-quantile-v2", horizons: [15], heads: [v1] });
    expect(() => asLinearSet({ kind: "nope" })).toThrow("not a linear quantile model (kind nope)");
  });

  test("metrics: pinball loss and coverage on a hand case", () => {
    expect(pinball(0.1, 1, 0)).toBeCloseTo(0.1);
    expect(pinball(0.9, -1, 0)).toBeCloseTo(0.1);
    const pts = [0.5, -2].map((y, k) => ({ s: 0, i: k, ts: k, tsOut: k, y: [y] }));
    const r = scoreMulti(pts, [1], pts.map(() => [[-1, 0, 1]])).overall;
    expect(r.coverage_p10_p90).toBe(0.5);
    expect(r.directional_accuracy).toBe(0.5); // p50 = 0 counts half
  });

  test("too few samples is a clear error", () => {
    expect(() => trainQuantile(samples.slice(0, 10), { horizon: 15, features: FEATURE_NAMES })).toThrow("need at least 100 samples to train, got 10");
  });
});
