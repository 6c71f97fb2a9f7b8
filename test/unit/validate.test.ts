import { describe, expect, test } from "bun:test";
import { validateBar } from "../../src/market/validate";

const good = { symbol: "SPY", ts: 1000, open: 10, high: 11, low: 9, close: 10.5, volume: 100 };
const syms = new Set(["SPY"]);

describe("validateBar", () => {
  const cases: [string, Partial<typeof good>, number | undefined, string | null][] = [
    ["a good bar passes", {}, 500, null],
    ["first bar of a symbol passes", {}, undefined, null],
    ["unknown symbol", { symbol: "XYZ" }, undefined, "unknown_symbol"],
    ["NaN price", { close: NaN }, undefined, "non_finite_price"],
    ["infinite price", { high: Infinity }, undefined, "non_finite_price"],
    ["zero price", { low: 0 }, undefined, "non_positive_price"],
    ["negative price", { open: -1 }, undefined, "non_positive_price"],
    ["NaN volume", { volume: NaN }, undefined, "non_finite_volume"],
    ["negative volume", { volume: -1 }, undefined, "negative_volume"],
    ["zero volume is fine", { volume: 0 }, undefined, null],
    ["high below low", { high: 8, low: 9, open: 8.5, close: 8.5 }, undefined, "high_below_low"],
    ["close above high", { close: 12 }, undefined, "ohlc_inconsistent"],
    ["open below low", { open: 8 }, undefined, "ohlc_inconsistent"],
    ["same time twice", {}, 1000, "duplicate_bar"],
    ["time going backwards", {}, 2000, "out_of_order"],
    ["an absurd range inside one bar (AAPL 2014-06-09 08:00)", { open: 645.57, high: 645.57, low: 92.23, close: 92.42 }, undefined, "implausible_range"],
  ];
  for (const [name, over, last, reason] of cases)
    test(name, () => {
      const r = validateBar({ ...good, ...over }, last, syms);
      expect(r?.reason ?? null).toBe(reason);
      if (r) expect(r.detail.length).toBeGreaterThan(0);
    });
});
