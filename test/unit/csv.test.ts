import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseCsv } from "../../src/market/csv";
import { ReplaySource, expandPaths, mergeByTime } from "../../src/market/replay";
import { InputError } from "../../src/core/errors";
import { ROOT, tempHome } from "../helpers";

describe("CSV parsing", () => {
  test("reads the shared minute format", () => {
    const items = parseCsv("ts,symbol,open,high,low,close,volume\n2013-10-04T08:06:00Z,SPY,167.6500,167.6500,167.6500,167.6500,20000\n", "f.csv");
    expect(items).toEqual([
      { kind: "bar", bar: { symbol: "SPY", ts: Date.parse("2013-10-04T08:06:00Z"), open: 167.65, high: 167.65, low: 167.65, close: 167.65, volume: 20000 }, file: "f.csv", line: 2 },
    ]);
  });

  test("reads daily bars, stamped at 09:30 New York (DST-aware)", () => {
    const items = parseCsv("date,symbol,open,high,low,close,volume\n2013-10-04,SPY,1,2,0.5,1.5,10\n2013-12-02,SPY,1,2,0.5,1.5,10\n", "d.csv");
    expect(items.map((i) => (i.kind === "bar" ? new Date(i.bar.ts).toISOString() : i.reason))).toEqual([
      "2013-10-04T13:30:00.000Z",
      "2013-12-02T14:30:00.000Z",
    ]);
  });

  test("a malformed line is a bad item naming file and line; the rest is read", () => {
    const items = parseCsv("ts,symbol,open,high,low,close,volume\n2013-10-04T08:06:00Z,SPY,1,2\nnot-a-time,SPY,1,1,1,1,1\n2013-10-04T08:07:00Z,SPY,1,1,1,1,1\n", "x.csv");
    expect(items.map((i) => i.kind)).toEqual(["bad", "bad", "bar"]);
    expect(items[0]).toMatchObject({ reason: "malformed_row", line: 2 });
    expect((items[0] as { detail: string }).detail).toContain("x.csv:2");
    expect(items[1]).toMatchObject({ reason: "bad_timestamp", line: 3 });
  });

  test("garbage numbers parse to NaN for DataIngestion to reject", () => {
    const [it] = parseCsv("ts,symbol,open,high,low,close,volume\n2013-10-04T08:06:00Z,SPY,abc,2,1,1,1\n", "x.csv");
    expect(it!.kind === "bar" && Number.isNaN(it!.bar.open)).toBe(true);
  });

  test("an unknown header is an error quoting it", () => {
    expect(() => parseCsv("time,sym,o,h,l,c,v\n", "h.csv")).toThrow(/h\.csv: unrecognised CSV header 'time,sym,o,h,l,c,v'/);
  });
});

describe("ReplaySource", () => {
  test("a missing path is an InputError naming it", () => {
    expect(() => expandPaths(["/nonexistent/bars.csv"])).toThrow(InputError);
    expect(() => expandPaths(["/nonexistent/bars.csv"])).toThrow(/input not found: \/nonexistent\/bars\.csv/);
  });

  test("a directory expands to its CSV files and merges them in time order", async () => {
    const src = new ReplaySource([join(ROOT, "data", "minute")], "max");
    let prev = -Infinity;
    let n = 0;
    for await (const it of src.items()) {
      if (it.kind !== "bar") throw new Error("bundled data has a bad row");
      expect(it.bar.ts).toBeGreaterThanOrEqual(prev);
      prev = it.bar.ts;
      n++;
    }
    expect(n).toBe(13_429);
    expect(src.total).toBe(13_429);
  });

  test("merge keeps a file's own order, so a backwards row stays visible", () => {
    const a = parseCsv("ts,symbol,open,high,low,close,volume\n2013-10-04T10:00:00Z,A,1,1,1,1,1\n2013-10-04T09:00:00Z,A,1,1,1,1,1\n", "a");
    const b = parseCsv("ts,symbol,open,high,low,close,volume\n2013-10-04T09:30:00Z,B,1,1,1,1,1\n", "b");
    const merged = mergeByTime([a, b]).map((i) => (i.kind === "bar" ? `${i.bar.symbol}${new Date(i.bar.ts).getUTCHours()}:${new Date(i.bar.ts).getUTCMinutes()}` : "bad"));
    expect(merged).toEqual(["B9:30", "A10:0", "A9:0"]);
  });

  test("with a speed it waits gap/speed between bars, capped at one second", async () => {
    const h = tempHome();
    try {
      const f = join(h.home, "x.csv");
      writeFileSync(f, "ts,symbol,open,high,low,close,volume\n2013-10-04T10:00:00Z,A,1,1,1,1,1\n2013-10-04T10:01:00Z,A,1,1,1,1,1\n2013-10-05T10:01:00Z,A,1,1,1,1,1\n");
      const waits: number[] = [];
      const src = new ReplaySource([f], 60, async (ms) => void waits.push(ms));
      for await (const _ of src.items());
      expect(waits).toEqual([1000, 1000]);
      const waits2: number[] = [];
      const fast = new ReplaySource([f], 600, async (ms) => void waits2.push(ms));
      for await (const _ of fast.items());
      expect(waits2).toEqual([100, 1000]);
    } finally {
      h.cleanup();
    }
  });
});
