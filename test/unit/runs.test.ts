import { describe, expect, test } from "bun:test";
import { parseDateFlag, canonicalJson, replayHints } from "../../src/ops/backtest";
import { compareRuns } from "../../src/reports/runs";
import { niceTicks, timeTicks, equitySvg } from "../../src/reports/equity-svg";
import { computeBacktest } from "../../src/reports/backtest";
import type { BacktestRunRow } from "../../src/store/port";

describe("backtest inputs and run comparison", () => {
  test("--from / --to dates are New York days; ISO times are instants; bad ones are named", () => {
    expect(new Date(parseDateFlag("from", "2013-10-07")).toISOString()).toBe("2013-10-07T04:00:00.000Z"); // EDT
    expect(new Date(parseDateFlag("to", "2013-10-07")).toISOString()).toBe("2013-10-08T03:59:59.999Z");
    expect(new Date(parseDateFlag("from", "2014-01-06")).toISOString()).toBe("2014-01-06T05:00:00.000Z"); // EST
    expect(parseDateFlag("from", "2013-10-07T13:30:00Z")).toBe(Date.parse("2013-10-07T13:30:00Z"));
    expect(() => parseDateFlag("to", "2013-02-30")).toThrow("--to must be a date YYYY-MM-DD (New York) or an ISO time like 2013-10-07T13:30:00Z; got '2013-02-30'");
    expect(() => parseDateFlag("from", "yesterday")).toThrow("got 'yesterday'");
  });

  test("canonicalJson ignores key order", () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } })).toBe(canonicalJson({ a: { c: null, d: [1, { x: 1, y: 2 }] }, b: 1 }));
  });

  test("replay hints: unknown symbols say how to include them; dry run says why nothing filled", () => {
    const h = replayHints({ rejected_by_reason: { unknown_symbol: 1200 }, blocked_by_reason: { dry_run: 3 }, fills: 0 }, { leftOut: ["BAC"], symbolsFlag: "SPY", symbols: ["SPY"] }, "/h");
    expect(h).toEqual([
      "1,200 bars of BAC rejected as unknown_symbol: not in --symbols SPY; add them (--symbols SPY,BAC) or leave --symbols out to trade every symbol in the files",
      "every order was blocked by execution_dry_run (the default), so the results are flat: `awet paper on --home /h` lets the simulated paper broker fill them",
    ]);
    expect(replayHints({ rejected_by_reason: {}, blocked_by_reason: {}, fills: 4 }, { leftOut: [], symbolsFlag: null, symbols: ["SPY"] }, "/h")).toEqual([]);
  });

  const results = (ret: number) => ({ ...computeBacktest({ fills: [], marks: [{ symbol: "A", ts: 0, price: 1 }, { symbol: "A", ts: 86_400_000, price: 2 }], symbols: ["A"], starting_equity_usd: 100, period: { from: 0, to: 86_400_000 }, costs: { broker: "sim", commission_per_order_usd: 0, slippage_bps: 5 } }), return_pct: ret });
  const row = (id: string, app: Record<string, unknown>, ret: number, sha = "aa"): BacktestRunRow => ({
    id, label: null, started_at: 0, finished_at: 1, symbols: ["A"], range_from: null, range_to: null, data_files: [{ path: `/d/${sha}.csv`, sha256: sha, bytes: 1 }],
    config: { app, llm: { model: "m" } }, config_hash: id, code_version: "0.1.0", summary: {}, results: results(ret) as unknown as Record<string, unknown>,
  });

  test("compareRuns: only the keys that differ, the results side by side", () => {
    const c = compareRuns(row("a", { take_profit_pct: 1, stop_loss_pct: 0.5 }, 1.5), row("b", { take_profit_pct: 2, stop_loss_pct: 0.5 }, -0.25, "bb"));
    expect(c.config_differences).toEqual([{ key: "app.take_profit_pct", a: 1, b: 2 }]);
    expect(c.data_same).toBe(false);
    expect(c.data_differences).toEqual({ a: ["/d/aa.csv"], b: ["/d/bb.csv"] });
    expect(c.results.find((r) => r.figure === "return_pct")).toEqual({ figure: "return_pct", a: 1.5, b: -0.25, diff: -1.75 });
    expect(c.results.find((r) => r.figure === "benchmark_return_pct")).toEqual({ figure: "benchmark_return_pct", a: 100, b: 100, diff: 0 });
  });

  test("chart ticks are round numbers and calendar days", () => {
    expect(niceTicks(99_120, 101_730, 5)).toEqual([99_500, 100_000, 100_500, 101_000, 101_500]);
    const d = (s: string) => Date.parse(s);
    expect(timeTicks(d("2013-10-04T08:00:00Z"), d("2013-10-11T23:59:00Z"), 8).map((t) => t.label)).toEqual(["10-05", "10-06", "10-07", "10-08", "10-09", "10-10", "10-11"]);
    expect(timeTicks(d("2015-01-02T14:30:00Z"), d("2020-12-31T14:30:00Z"), 8).map((t) => t.label)).toEqual(["2016", "2017", "2018", "2019", "2020"]);
  });

  test("the SVG names the run and the figures and draws both curves", () => {
    const svg = equitySvg(results(1.5) as ReturnType<typeof computeBacktest>, "Equity — run a <b>");
    expect(svg).toContain("Equity — run a &lt;b&gt;");
    expect(svg).toContain("+1.50%");
    expect(svg.match(/<path d="M/g)!.length).toBe(3); // area, benchmark, strategy
  });
});
