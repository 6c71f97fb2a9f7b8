import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { FeatureState, RollingStats, type FeatureBar } from "../../src/features";
import { ROOT } from "../helpers";

/** Straightforward from-scratch recomputation over the whole history up to bar i. */
function reference(bars: FeatureBar[], i: number) {
  const closes = bars.slice(0, i + 1).map((b) => b.close);
  const sma = (n: number) => (closes.length < n ? null : closes.slice(-n).reduce((a, b) => a + b, 0) / n);
  const ema = (n: number) => {
    if (closes.length < n) return null;
    let e = closes.slice(0, n).reduce((a, b) => a + b, 0) / n;
    for (let k = n; k < closes.length; k++) e += (2 / (n + 1)) * (closes[k]! - e);
    return e;
  };
  const rsi = (n: number) => {
    if (closes.length < n + 1) return null;
    let g = 0, l = 0;
    for (let k = 1; k <= n; k++) {
      const d = closes[k]! - closes[k - 1]!;
      g += Math.max(d, 0);
      l += Math.max(-d, 0);
    }
    g /= n;
    l /= n;
    for (let k = n + 1; k < closes.length; k++) {
      const d = closes[k]! - closes[k - 1]!;
      g = (g * (n - 1) + Math.max(d, 0)) / n;
      l = (l * (n - 1) + Math.max(-d, 0)) / n;
    }
    return l === 0 ? (g === 0 ? 50 : 100) : 100 - 100 / (1 + g / l);
  };
  const std = (xs: number[]) => {
    const m = xs.reduce((a, b) => a + b, 0) / xs.length;
    return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
  };
  const logs = closes.slice(1).map((c, k) => Math.log(c / closes[k]!));
  const vol = logs.length < 30 ? null : std(logs.slice(-30));
  const win = bars.slice(Math.max(0, i - 29), i + 1);
  const vsum = win.reduce((a, b) => a + b.volume, 0);
  const vwap = win.length < 30 || vsum === 0 ? null : closes[i]! / (win.reduce((a, b) => a + ((b.high + b.low + b.close) / 3) * b.volume, 0) / vsum) - 1;
  const prevVols = bars.slice(Math.max(0, i - 30), i).map((b) => b.volume);
  let vz: number | null = null;
  if (prevVols.length >= 2) {
    const sd = std(prevVols);
    const m = prevVols.reduce((a, b) => a + b, 0) / prevVols.length;
    vz = sd > 0 ? (bars[i]!.volume - m) / sd : null;
  }
  return { sma_fast: sma(10), sma_slow: sma(30), ema_fast: ema(12), ema_slow: ema(26), rsi: rsi(14), realized_vol: vol, vwap_distance: vwap, volume_z: vz };
}

function closeTo(a: number | null, b: number | null, rel = 1e-9) {
  if (a === null || b === null) return expect([a === null, b === null]).toEqual([true, true]);
  expect(Math.abs(a - b)).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(b)));
}

function randomWalk(n: number): FeatureBar[] {
  let s = 42;
  const rnd = () => ((s = (s * 1664525 + 1013904223) % 4294967296) / 4294967296);
  let p = 150;
  const out: FeatureBar[] = [];
  for (let i = 0; i < n; i++) {
    const o = p;
    p = Math.max(1, p * (1 + (rnd() - 0.5) * 0.004));
    out.push({ ts: i * 60_000, open: o, high: Math.max(o, p) + rnd() * 0.05, low: Math.min(o, p) - rnd() * 0.05, close: p, volume: Math.floor(rnd() * 5000) });
  }
  return out;
}

function realBars(): FeatureBar[] {
  const lines = readFileSync(join(ROOT, "data", "minute", "IBM.csv"), "utf8").trim().split("\n").slice(1, 1501);
  return lines.map((l) => {
    const [ts, , o, h, lo, c, v] = l.split(",");
    return { ts: Date.parse(ts!), open: +o!, high: +h!, low: +lo!, close: +c!, volume: +v! };
  });
}

describe("incremental features match a from-scratch recomputation", () => {
  for (const [name, make, step] of [["random walk", () => randomWalk(2000), 7], ["real IBM bars", realBars, 5]] as const) {
    test(name, () => {
      const bars = make();
      const st = new FeatureState();
      bars.forEach((b, i) => {
        const f = st.update(b);
        if (i % step !== 0 && i > 40) return; // the reference is O(n) per bar; sample it
        const r = reference(bars, i);
        for (const k of Object.keys(r) as (keyof typeof r)[]) closeTo(f[k], r[k], 1e-8);
        expect(f.bars_seen).toBe(i + 1);
      });
    });
  }
});

describe("features: boundaries and known values", () => {
  test("SMA is null at window-1 bars and set at window", () => {
    const st = new FeatureState({ smaFast: 3 });
    const bar = (c: number) => ({ ts: 0, open: c, high: c, low: c, close: c, volume: 1 });
    expect(st.update(bar(1)).sma_fast).toBeNull();
    expect(st.update(bar(2)).sma_fast).toBeNull();
    expect(st.update(bar(3)).sma_fast).toBe(2);
  });

  test("RSI is 100 when every change is a gain and 50 when flat", () => {
    const up = new FeatureState({ rsiPeriod: 3 });
    let f;
    for (let i = 1; i <= 5; i++) f = up.update({ ts: i, open: i, high: i, low: i, close: i, volume: 1 });
    expect(f!.rsi).toBe(100);
    const flat = new FeatureState({ rsiPeriod: 3 });
    for (let i = 1; i <= 5; i++) f = flat.update({ ts: i, open: 5, high: 5, low: 5, close: 5, volume: 1 });
    expect(f!.rsi).toBe(50);
  });

  test("zero volume over the VWAP window gives a null distance, not NaN", () => {
    const st = new FeatureState({ vwapWindow: 2 });
    let f;
    for (let i = 0; i < 3; i++) f = st.update({ ts: i, open: 5, high: 5, low: 5, close: 5, volume: 0 });
    expect(f!.vwap_distance).toBeNull();
  });

  test("a bad config names the field and value", () => {
    expect(() => new FeatureState({ smaFast: 1 })).toThrow("FeatureConfig.smaFast must be an integer >= 2, got 1");
    expect(() => new FeatureState({ volWindow: 2.5 })).toThrow("FeatureConfig.volWindow must be an integer >= 2, got 2.5");
  });

  test("rolling variance stays exact after 100k prices around 150", () => {
    const rs = new RollingStats(30);
    const xs: number[] = [];
    let s = 7;
    for (let i = 0; i < 100_000; i++) {
      s = (s * 1103515245 + 12345) % 2147483648;
      const x = 150 + (s / 2147483648 - 0.5);
      xs.push(x);
      rs.push(x);
    }
    const w = xs.slice(-30);
    const m = w.reduce((a, b) => a + b, 0) / 30;
    const v = w.reduce((a, b) => a + (b - m) ** 2, 0) / 29;
    expect(Math.abs(rs.variance - v) / v).toBeLessThan(1e-9);
    expect(Math.abs(rs.mean - m)).toBeLessThan(1e-9);
  });

  test("200k updates take well under 2 s (O(1) per bar)", () => {
    const bars = randomWalk(200_000);
    const st = new FeatureState();
    const t0 = performance.now();
    for (const b of bars) st.update(b);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});
