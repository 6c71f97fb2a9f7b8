import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PriceAdjuster, factorsOn, parseFactorFile } from "../../src/market/factors";
import { ReplaySource } from "../../src/market/replay";
import { ROOT, tempHome } from "../helpers";

const AAPL = join(ROOT, "data", "minute-split", "AAPL.csv");
const FACTORS = join(ROOT, "data", "factor_files");

function closes(src: ReplaySource) {
  return (src as any).merged.filter((i: any) => i.kind === "bar").map((i: any) => ({ ts: i.bar.ts as number, close: i.bar.close as number, volume: i.bar.volume as number }));
}
function worstMove(bars: { close: number }[]) {
  let worst = 0;
  for (let i = 1; i < bars.length; i++) worst = Math.max(worst, Math.abs(bars[i]!.close / bars[i - 1]!.close - 1));
  return worst;
}

describe("corporate-action factors (LEAN factor files)", () => {
  test("the AAPL file parses and shows the 7-for-1 split between 2014-06-06 and the next row", () => {
    const rows = parseFactorFile(readFileSync(join(FACTORS, "AAPL.csv"), "utf8"), "AAPL.csv");
    expect(factorsOn(rows, 20140606).split / factorsOn(rows, 20140609).split).toBeCloseTo(1 / 7, 6);
    expect(factorsOn(rows, 20600101)).toEqual({ price: 1, split: 1 });
  });

  test("raw AAPL minute bars show a false ~86% crash across the split; adjusted ones do not", () => {
    const raw = closes(new ReplaySource([AAPL], "max"));
    expect(worstMove(raw)).toBeGreaterThan(0.85);
    const adjusted = new ReplaySource([AAPL], "max", undefined, FACTORS);
    expect(adjusted.adjusted).toEqual(["AAPL"]);
    const adj = closes(adjusted);
    expect(worstMove(adj)).toBeLessThan(0.05);
    // the last day (the reference) keeps its traded prices; the day before the split is divided by ~7
    expect(adj[adj.length - 1]!.close).toBe(raw[raw.length - 1]!.close);
    expect(adj[0]!.close / raw[0]!.close).toBeCloseTo((0.9011818 * 0.0357143) / (0.9011818 * 0.25), 4);
    expect(adj[0]!.volume / raw[0]!.volume).toBeCloseTo(7, 3);
  });

  test("a symbol whose factors are all 1 in the window is unchanged", () => {
    const rows = parseFactorFile(readFileSync(join(FACTORS, "GOOG.csv"), "utf8"), "GOOG.csv");
    const a = new PriceAdjuster(new Map([["GOOG", rows]]));
    const bar = { symbol: "GOOG", ts: Date.parse("2015-12-23T15:00:00Z"), open: 750, high: 751, low: 749, close: 750.5, volume: 100 };
    a.setReference("GOOG", Date.parse("2015-12-28T20:00:00Z"));
    expect(a.adjustBar(bar)).toEqual(bar);
  });

  test("a malformed factor line is an error naming the file and line", () => {
    expect(() => parseFactorFile("20140101,1,1,1\n2014-02-01,1,x,1\n", "X.csv")).toThrow("X.csv:2: malformed factor row: the date is not YYYYMMDD");
    const h = tempHome();
    try {
      writeFileSync(join(h.home, "AAPL.csv"), "garbage\n");
      expect(() => new ReplaySource([AAPL], "max", undefined, h.home)).toThrow(/AAPL\.csv:1: malformed factor row/);
    } finally {
      h.cleanup();
    }
  });
});
