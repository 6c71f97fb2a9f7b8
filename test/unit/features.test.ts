import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { DEFAULT_FEATURE_CONFIG, FeatureState, RollingStats, RollingSum, RollingWindow } from "../../src/features";
import type { FeatureBar, FeatureConfig, Features } from "../../src/features";

// ---- data -------------------------------------------------------------------------------------

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
}

/** Seeded walk with a zero-volume stretch and a flat-price stretch, so the null paths are hit too. */
function randomWalk(n: number, seed = 42): FeatureBar[] {
  const rnd = lcg(seed);
  const out: FeatureBar[] = [];
  let p = 150;
  for (let i = 0; i < n; i++) {
    const o = p;
    const flat = i >= 1200 && i < 1260;
    if (!flat) p = Math.max(1, p * (1 + (rnd() - 0.5) * 0.004));
    const zeroVol = i >= 700 && i < 760;
    const volume = zeroVol ? 0 : Math.floor(rnd() * 5000) + (i % 97 === 0 ? 50_000 : 0);
    out.push({ ts: i * 60_000, open: o, high: Math.max(o, p) + rnd() * 0.05, low: Math.min(o, p) - rnd() * 0.05, close: p, volume });
  }
  return out;
}

function ibmBars(rows: number): FeatureBar[] {
  const bundled = new URL("../../data/minute/IBM.csv", import.meta.url);
  const text = readFileSync(existsSync(bundled) ? bundled : "/work/shared/data/minute/IBM.csv", "utf8");
  const [header, ...lines] = text.trim().split(/\r?\n/);
  if (header !== "ts,symbol,open,high,low,close,volume") throw new Error(`unexpected IBM.csv header ${header}`);
  return lines.slice(0, rows).map((l) => {
    const [ts, , o, h, lo, c, v] = l.split(",");
    return { ts: Date.parse(ts!), open: Number(o), high: Number(h), low: Number(lo), close: Number(c), volume: Number(v) };
  });
}

// ---- from-scratch reference: every value recomputed from the full history up to bar i ----------

const closesTo = (bars: FeatureBar[], i: number) => bars.slice(0, i + 1).map((b) => b.close);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sampleStd = (xs: number[]) => {
  if (xs.every((x) => x === xs[0])) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
};

function refEma(closes: number[], n: number): number | null {
  if (closes.length < n) return null;
  let e = mean(closes.slice(0, n));
  for (let k = n; k < closes.length; k++) e += (2 / (n + 1)) * (closes[k]! - e);
  return e;
}

function refRsi(closes: number[], n: number): number | null {
  if (closes.length < n + 1) return null;
  let g = 0;
  let l = 0;
  for (let k = 1; k < closes.length; k++) {
    const d = closes[k]! - closes[k - 1]!;
    const gain = Math.max(d, 0);
    const loss = Math.max(-d, 0);
    if (k <= n) {
      g += gain / n;
      l += loss / n;
    } else {
      g = (g * (n - 1) + gain) / n;
      l = (l * (n - 1) + loss) / n;
    }
  }
  if (l === 0) return g === 0 ? 50 : 100;
  return 100 - 100 / (1 + g / l);
}

type Ref = Omit<Features, "bars_seen" | "warm">;

function reference(bars: FeatureBar[], i: number, cfg: FeatureConfig): Ref {
  const closes = closesTo(bars, i);
  const logRets = closes.slice(1).map((c, k) => Math.log(c / closes[k]!));
  const prev = i > 0 ? bars[i - 1]!.close : null;
  const sma = (n: number) => (closes.length < n ? null : mean(closes.slice(-n)));

  let vwapDistance: number | null = null;
  if (i + 1 >= cfg.vwapWindow) {
    const win = bars.slice(i + 1 - cfg.vwapWindow, i + 1);
    const vol = win.reduce((a, b) => a + b.volume, 0);
    const pv = win.reduce((a, b) => a + ((b.high + b.low + b.close) / 3) * b.volume, 0);
    if (vol > 0) vwapDistance = bars[i]!.close / (pv / vol) - 1;
  }

  let volumeZ: number | null = null;
  const prior = bars.slice(Math.max(0, i - cfg.volumeZWindow), i).map((b) => b.volume);
  if (prior.length >= 2) {
    const sd = sampleStd(prior);
    if (sd > 0) volumeZ = (bars[i]!.volume - mean(prior)) / sd;
  }

  return {
    ret_1: prev === null ? null : bars[i]!.close / prev - 1,
    log_ret_1: prev === null ? null : Math.log(bars[i]!.close / prev),
    sma_fast: sma(cfg.smaFast),
    sma_slow: sma(cfg.smaSlow),
    ema_fast: refEma(closes, cfg.emaFast),
    ema_slow: refEma(closes, cfg.emaSlow),
    rsi: refRsi(closes, cfg.rsiPeriod),
    realized_vol: logRets.length < cfg.volWindow ? null : sampleStd(logRets.slice(-cfg.volWindow)),
    vwap_distance: vwapDistance,
    volume_z: volumeZ,
  };
}

/** Bar index (0-based) at which every window has filled. */
function warmIndex(cfg: FeatureConfig): number {
  return Math.max(cfg.smaFast, cfg.smaSlow, cfg.emaFast, cfg.emaSlow, cfg.rsiPeriod + 1, cfg.volWindow + 1, cfg.vwapWindow, 3) - 1;
}

function agrees(a: number | null, b: number | null): boolean {
  if (a === null || b === null) return a === b;
  return Math.abs(a - b) <= 1e-9 * Math.abs(b) + 1e-12;
}

// ---- incremental vs reference, bar by bar --------------------------------------------------------

const SHORT: FeatureConfig = { smaFast: 2, smaSlow: 5, emaFast: 2, emaSlow: 7, rsiPeriod: 3, volWindow: 4, vwapWindow: 3, volumeZWindow: 5 };

const datasets: [string, () => FeatureBar[], FeatureConfig][] = [
  ["seeded random walk, 2,000 bars, default config", () => randomWalk(2000), DEFAULT_FEATURE_CONFIG],
  ["seeded random walk, 2,000 bars, short windows", () => randomWalk(2000, 7), SHORT],
  ["IBM.csv, first 1,500 bars, default config", () => ibmBars(1500), DEFAULT_FEATURE_CONFIG],
];

const INDICATORS = ["ret_1", "log_ret_1", "sma_fast", "sma_slow", "ema_fast", "ema_slow", "rsi", "realized_vol", "vwap_distance", "volume_z"] as const;

for (const [name, load, cfg] of datasets) {
  describe(`incremental = from-scratch: ${name}`, () => {
    let run: { bars: FeatureBar[]; got: Features[]; want: Ref[] } | undefined;
    const data = () => {
      if (!run) {
        const bars = load();
        const st = new FeatureState(cfg);
        run = { bars, got: bars.map((b) => st.update(b)), want: bars.map((_, i) => reference(bars, i, cfg)) };
      }
      return run;
    };

    for (const key of INDICATORS) {
      test(key, () => {
        const { got, want } = data();
        const bad = got.flatMap((f, i) => (agrees(f[key], want[i]![key]) ? [] : [{ bar: i, got: f[key], want: want[i]![key] }]));
        expect(bad.slice(0, 5)).toEqual([]);
        expect(want.some((r) => r[key] !== null)).toBe(true);
      });
    }

    test("bars_seen and warm", () => {
      const { got } = data();
      const w = warmIndex(cfg);
      expect(got.map((f) => f.bars_seen)).toEqual(got.map((_, i) => i + 1));
      expect(got.findIndex((f) => f.warm)).toBe(w);
      expect(got.slice(w).every((f) => f.warm)).toBe(true);
    });
  });
}

test("the random walk reaches the zero-volume and flat-price paths after warm-up", () => {
  const bars = randomWalk(2000);
  const st = new FeatureState();
  const fs = bars.map((b) => st.update(b));
  expect(fs[759]!.warm && fs[759]!.vwap_distance === null && fs[759]!.volume_z === null).toBe(true);
  expect(fs[1259]!.realized_vol).toBe(0);
});

// ---- boundaries and known values -----------------------------------------------------------------

const bar = (close: number, volume = 1, spread = 0): FeatureBar => ({ ts: 0, open: close, high: close + spread, low: close - spread, close, volume });

function feed(cfg: Partial<FeatureConfig>, bars: FeatureBar[]): Features[] {
  const st = new FeatureState(cfg);
  return bars.map((b) => st.update(b));
}

describe("null before warm, exactly at the boundary", () => {
  const closes = [1, 2, 3, 5, 4, 6, 7];

  test("SMA: null at window-1 bars, the mean at window", () => {
    const f = feed({ smaFast: 3, smaSlow: 4 }, closes.map((c) => bar(c)));
    expect(f.map((x) => x.sma_fast)).toEqual([null, null, 2, 10 / 3, 4, 5, 17 / 3]);
    expect(f[2]!.sma_slow).toBeNull();
    expect(f[3]!.sma_slow).toBe(11 / 4);
  });

  test("EMA: null at N-1 bars, the SMA seed at N, then alpha = 2/(N+1)", () => {
    const f = feed({ emaFast: 3 }, closes.map((c) => bar(c)));
    expect(f[1]!.ema_fast).toBeNull();
    expect(f[2]!.ema_fast).toBe(2);
    expect(f[3]!.ema_fast).toBe(2 + 0.5 * (5 - 2));
  });

  test("RSI: null at rsiPeriod bars (rsiPeriod-1 returns), set at rsiPeriod+1", () => {
    const f = feed({ rsiPeriod: 3 }, closes.map((c) => bar(c)));
    expect(f[2]!.rsi).toBeNull();
    expect(f[3]!.rsi).toBe(100); // +1 +1 +2
    // Wilder: gain (4/3*2 + 0)/3 = 8/9, loss (0*2 + 1)/3 = 1/3, RS = 8/3
    expect(f[4]!.rsi).toBeCloseTo(100 - 100 / (1 + 8 / 3), 12);
  });

  test("realized vol: null until volWindow log returns", () => {
    const f = feed({ volWindow: 3 }, closes.map((c) => bar(c)));
    expect(f[2]!.realized_vol).toBeNull();
    const r = [Math.log(2), Math.log(3 / 2), Math.log(5 / 3)];
    const m = (r[0]! + r[1]! + r[2]!) / 3;
    expect(f[3]!.realized_vol).toBeCloseTo(Math.sqrt(r.reduce((a, x) => a + (x - m) ** 2, 0) / 2), 14);
    expect(f[0]!.ret_1).toBeNull();
    expect(f[1]!.ret_1).toBe(1);
    expect(f[1]!.log_ret_1).toBe(Math.log(2));
  });

  test("VWAP distance: null at window-1 bars, set at window", () => {
    const f = feed({ vwapWindow: 2 }, [bar(10, 1, 1), bar(20, 3, 1)]);
    expect(f[0]!.vwap_distance).toBeNull();
    expect(f[1]!.vwap_distance).toBeCloseTo(20 / ((10 * 1 + 20 * 3) / 4) - 1, 14);
  });

  test("volume z: null with fewer than 2 prior bars, then against the previous N volumes only", () => {
    const f = feed({ volumeZWindow: 3 }, [1, 2, 3, 4, 100].map((v) => bar(10, v)));
    expect(f[0]!.volume_z).toBeNull();
    expect(f[1]!.volume_z).toBeNull();
    expect(f[2]!.volume_z).toBeCloseTo((3 - 1.5) / Math.SQRT1_2, 14);
    expect(f[3]!.volume_z).toBe(2); // prior [1,2,3]: mean 2, sd 1
    expect(f[4]!.volume_z).toBe(97); // prior [2,3,4], not 1
  });

  test("warm: false one bar before every window is full, true at that bar", () => {
    const cfg = { smaFast: 2, smaSlow: 4, emaFast: 2, emaSlow: 5, rsiPeriod: 3, volWindow: 3, vwapWindow: 2, volumeZWindow: 2 };
    const f = feed(cfg, closes.map((c) => bar(c)));
    expect(f.map((x) => x.warm)).toEqual([false, false, false, false, true, true, true]);
    const g = feed({ ...cfg, emaSlow: 6 }, closes.map((c) => bar(c)));
    expect(g[4]!.warm).toBe(false);
    expect(g[5]!.warm).toBe(true);
  });
});

describe("known values", () => {
  test("RSI is 100 when every change is a gain, 0 when every change is a loss, 50 when flat", () => {
    const up = feed({ rsiPeriod: 3 }, [1, 2, 3, 4, 5, 6].map((c) => bar(c)));
    expect(up.map((f) => f.rsi)).toEqual([null, null, null, 100, 100, 100]);
    const down = feed({ rsiPeriod: 3 }, [6, 5, 4, 3, 2].map((c) => bar(c)));
    expect(down.at(-1)!.rsi).toBe(0);
    const flat = feed({ rsiPeriod: 3 }, [5, 5, 5, 5, 5].map((c) => bar(c)));
    expect(flat.map((f) => f.rsi)).toEqual([null, null, null, 50, 50]);
  });

  test("zero volume over the whole VWAP window gives null, not NaN; one traded bar brings it back", () => {
    const f = feed({ vwapWindow: 2 }, [bar(5, 7), bar(5, 0), bar(6, 0), bar(8, 2, 1), bar(9, 0)]);
    expect(f.map((x) => x.vwap_distance)).toEqual([null, 0, null, 0, 9 / 8 - 1]);
  });

  test("a constant volume window has no z-score (stdev 0), even after a volatile stretch", () => {
    const vols = [5, 900_000, 3, 77_777, 1, 10, 10, 10, 10, 10, 12];
    const f = feed({ volumeZWindow: 4 }, vols.map((v) => bar(10, v)));
    expect(f[8]!.volume_z).not.toBeNull();
    expect(f[9]!.volume_z).toBeNull();
    expect(f[10]!.volume_z).toBeNull();
  });
});

describe("config validation", () => {
  test("every period must be an integer >= 2; the message names the field and value", () => {
    expect(() => new FeatureState({ smaFast: 1 })).toThrow("FeatureConfig.smaFast must be an integer >= 2, got 1");
    expect(() => new FeatureState({ volWindow: 2.5 })).toThrow("FeatureConfig.volWindow must be an integer >= 2, got 2.5");
    expect(() => new FeatureState({ rsiPeriod: Number.NaN })).toThrow("FeatureConfig.rsiPeriod must be an integer >= 2, got NaN");
    expect(() => new FeatureState({ emaSlow: -3 })).toThrow("FeatureConfig.emaSlow must be an integer >= 2, got -3");
    expect(() => new FeatureState({ vwapWindow: "30" as unknown as number })).toThrow('FeatureConfig.vwapWindow must be an integer >= 2, got "30"');
    expect(() => new FeatureState({ smafast: 5 } as unknown as Partial<FeatureConfig>)).toThrow("FeatureConfig has no field smafast");
  });

  test("omitted or undefined fields take the defaults, and the defaults cannot be mutated", () => {
    expect(new FeatureState({ smaFast: undefined, volWindow: 5 }).cfg).toEqual({ ...DEFAULT_FEATURE_CONFIG, volWindow: 5 });
    expect(DEFAULT_FEATURE_CONFIG).toEqual({ smaFast: 10, smaSlow: 30, emaFast: 12, emaSlow: 26, rsiPeriod: 14, volWindow: 30, vwapWindow: 30, volumeZWindow: 30 });
    expect(Object.isFrozen(DEFAULT_FEATURE_CONFIG)).toBe(true);
  });

  test("a bad bar throws before any state changes", () => {
    const st = new FeatureState({ smaFast: 2 });
    st.update(bar(10));
    expect(() => st.update(bar(Number.NaN))).toThrow(RangeError);
    expect(() => st.update(bar(10, -1))).toThrow(RangeError);
    expect(() => st.update(bar(0))).toThrow(RangeError);
    const f = st.update(bar(12));
    expect(f.bars_seen).toBe(2);
    expect(f.sma_fast).toBe(11);
  });
});

// ---- building blocks -----------------------------------------------------------------------------

describe("rolling building blocks", () => {
  test("RollingWindow returns the evicted value and keeps the last N in order", () => {
    const w = new RollingWindow(3);
    expect([1, 2, 3].map((x) => w.push(x))).toEqual([undefined, undefined, undefined]);
    expect(w.full).toBe(true);
    expect([4, 5].map((x) => w.push(x))).toEqual([1, 2]);
    expect(w.toArray()).toEqual([3, 4, 5]);
    expect(() => new RollingWindow(0)).toThrow("RollingWindow capacity must be an integer >= 1, got 0");
  });

  test("RollingSum and RollingStats track the window", () => {
    const s = new RollingSum(2);
    [1, 2, 3].forEach((x) => s.push(x));
    expect(s.value).toBe(5);
    const r = new RollingStats(3);
    expect(r.mean).toBeNaN();
    r.push(1);
    expect(r.variance).toBeNaN();
    [2, 4, 8].forEach((x) => r.push(x));
    expect(r.mean).toBe(14 / 3);
    expect(r.variance).toBeCloseTo(((2 - 14 / 3) ** 2 + (4 - 14 / 3) ** 2 + (8 - 14 / 3) ** 2) / 2, 12);
  });

  const direct = (xs: number[]) => {
    const m = mean(xs);
    return { mean: m, variance: xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1) };
  };

  const series: [string, (r: () => number, p: number) => number][] = [
    ["a bounded walk between 100 and 200", (r, p) => Math.min(200, Math.max(100, p + (r() - 0.5) * 0.5))],
    ["uniform prices in 100..200", (r) => 100 + 100 * r()],
    ["prices near 150 with a 1e-4 spread", (r) => 150 + (r() - 0.5) * 1e-4],
  ];
  for (const [name, next] of series) {
    test(`RollingStats variance after 100k pushes of ${name} matches a recomputation to 1e-9`, () => {
      const rnd = lcg(11);
      for (const cap of [30, 390]) {
        const rs = new RollingStats(cap);
        const xs: number[] = [];
        let p = 150;
        let worst = 0;
        for (let i = 0; i < 100_000; i++) {
          p = next(rnd, p);
          xs.push(p);
          rs.push(p);
          if (i >= cap && (i % 9973 === 0 || i === 99_999)) {
            const d = direct(xs.slice(-cap));
            worst = Math.max(worst, Math.abs(rs.variance - d.variance) / d.variance, Math.abs(rs.mean - d.mean) / d.mean);
          }
        }
        expect(worst).toBeLessThan(1e-9);
      }
    });
  }

  test("a window of one repeated value has variance exactly 0, not a rounding residue", () => {
    const rnd = lcg(5);
    for (const cap of [3, 30]) {
      const rs = new RollingStats(cap);
      for (let k = 0; k < 200; k++) {
        for (let i = 0; i < 5; i++) rs.push(rnd() * 1e6);
        const v = (rnd() * 300) / 7; // a full 53-bit mantissa, so v * v needs every bit of the sums
        for (let i = 0; i < cap; i++) rs.push(v);
        expect(rs.variance).toBe(0);
        expect(rs.mean).toBe(v);
      }
    }
  });

  test("a volatile stretch leaves no residue in the variance of a quiet one", () => {
    const rnd = lcg(3);
    const rs = new RollingStats(30);
    for (let i = 0; i < 50_000; i++) rs.push(rnd() * 1e7);
    const quiet: number[] = [];
    for (let i = 0; i < 30; i++) quiet.push(100 + rnd() * 1e-3);
    quiet.forEach((x) => rs.push(x));
    const d = direct(quiet);
    expect(Math.abs(rs.variance - d.variance) / d.variance).toBeLessThan(1e-9);
  });
});

test("200k updates run well under 2 s (O(1) per bar)", () => {
  const bars = randomWalk(200_000);
  const st = new FeatureState();
  const t0 = performance.now();
  let warm = 0;
  for (const b of bars) if (st.update(b).warm) warm++;
  const ms = performance.now() - t0;
  expect(warm).toBe(200_000 - warmIndex(DEFAULT_FEATURE_CONFIG));
  expect(ms).toBeLessThan(2000);
});
