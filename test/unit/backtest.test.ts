import { describe, expect, test } from "bun:test";
import { computeBacktest, dailyReturns, maxDrawdown, sharpeRatio, sortinoRatio, thinCurve, unionLength, type BacktestInput } from "../../src/reports/backtest";
import type { Mark, PnlFill } from "../../src/reports/pnl";

// Five New York trading days, one bar a day at 11:00 New York (15:00 UTC).
const D = (day: number) => Date.parse(`2013-10-${String(6 + day).padStart(2, "0")}T15:00:00Z`); // D(1) = Mon 7 Oct
const A = [100, 110, 105, 120, 126];
const B = [50, 50, 40, 45, 45];
const marks: Mark[] = [1, 2, 3, 4, 5].flatMap((d) => [{ symbol: "A", ts: D(d), price: A[d - 1]! }, { symbol: "B", ts: D(d), price: B[d - 1]! }]);
const fills: PnlFill[] = [
  { symbol: "A", side: "buy", qty: 10, price: 100, ts: D(1) },
  { symbol: "A", side: "sell", qty: 10, price: 110, ts: D(2) }, // +100, held 1 day
  { symbol: "B", side: "buy", qty: 20, price: 50, ts: D(2) },
  { symbol: "B", side: "sell", qty: 20, price: 40, ts: D(3) }, // −200, held 1 day
  { symbol: "A", side: "buy", qty: 10, price: 120, ts: D(4) }, // open at the end: (126 − 120) × 10 = +60
];
const input: BacktestInput = {
  fills, marks, symbols: ["A", "B"], starting_equity_usd: 10_000, period: { from: D(1), to: D(5) },
  costs: { broker: "sim", commission_per_order_usd: 0, slippage_bps: 5 },
};

describe("computeBacktest on a hand-computed case", () => {
  const r = computeBacktest(input);

  test("round trips, win rate, realized PnL in total and per symbol (FIFO)", () => {
    expect(r.trades).toBe(2);
    expect(r.wins).toBe(1);
    expect(r.losses).toBe(1);
    expect(r.win_rate).toBe(0.5);
    expect(r.realized_pnl_usd).toBe(-100); // +100 − 200
    expect(r.unrealized_pnl_usd).toBe(60);
    expect(r.total_pnl_usd).toBe(-40);
    expect(r.by_symbol).toEqual([
      { symbol: "A", trades: 1, wins: 1, realized_pnl_usd: 100, unrealized_pnl_usd: 60, buy_and_hold_return_pct: 26 },
      { symbol: "B", trades: 1, wins: 0, realized_pnl_usd: -200, unrealized_pnl_usd: 0, buy_and_hold_return_pct: -10 },
    ]);
  });

  test("return on the starting equity", () => {
    expect(r.starting_equity_usd).toBe(10_000);
    expect(r.ending_equity_usd).toBe(9_960);
    expect(r.return_pct).toBe(-0.4);
  });

  test("the equity curve is the start plus FIFO PnL at every bar", () => {
    // day closes: 10,000; 10,100 (A sold +100); 9,900 (B sold −200); 9,900 (A bought at the close); 9,960
    expect(r.equity_curve.map((p) => [p.ts, p.equity_usd])).toEqual([[D(1), 10_000], [D(2), 10_100], [D(3), 9_900], [D(4), 9_900], [D(5), 9_960]]);
    // benchmark: 5,000 in each: A 100→110→105→120→126, B 50→50→40→45→45
    expect(r.equity_curve.map((p) => p.benchmark_usd)).toEqual([10_000, 10_500, 9_250, 10_500, 10_800]);
  });

  test("max drawdown: 10,100 on day 2 to 9,900 on day 3, not recovered", () => {
    expect(r.max_drawdown.usd).toBe(200);
    expect(r.max_drawdown.pct).toBeCloseTo((200 / 10_100) * 100, 4); // 1.9802 %
    expect(r.max_drawdown.peak_at).toBe(new Date(D(2)).toISOString());
    expect(r.max_drawdown.trough_at).toBe(new Date(D(3)).toISOString());
    expect(r.max_drawdown.recovered_at).toBeNull();
  });

  test("Sharpe and Sortino on the daily returns, × √252", () => {
    // returns: 0, +1 %, 9,900/10,100 − 1 = −1.980198 %, 0, 9,960/9,900 − 1 = +0.606061 %
    // mean −0.00074827; sample sd 0.01146789 → Sharpe −0.00074827 / 0.01146789 × 15.874508 = −1.0358
    // downside deviation √(0.01980198² / 5) = 0.00885571 → Sortino −1.3413
    expect(r.daily_returns).toBe(5);
    expect(r.sharpe!).toBeCloseTo(-1.0358, 3);
    expect(r.sortino!).toBeCloseTo(-1.3413, 3);
    expect(r.ratio_basis).toContain("√252");
  });

  test("profit factor, average holding time, exposure", () => {
    expect(r.profit_factor).toBe(0.5); // 100 won / 200 lost
    expect(r.avg_holding_minutes).toBe(1_440); // both round trips held one day
    // held D1→D3 and D4→D5: 3 of the 4 days of the period
    expect(r.exposure_pct).toBe(75);
  });

  test("costs assumed: no commission, slippage estimated on the volume", () => {
    expect(r.costs.commission_usd).toBe(0);
    expect(r.costs.slippage_bps).toBe(5);
    expect(r.costs.volume_usd).toBe(5_100); // 1,000 + 1,100 + 1,000 + 800 + 1,200
    expect(r.costs.slippage_usd_est).toBe(2.55); // 5,100 × 0.0005
  });

  test("benchmark: equal-weight buy and hold of the same symbols over the same period", () => {
    expect(r.benchmark.return_pct).toBe(8); // (126/100 + 45/50) / 2 − 1
    expect(r.benchmark.ending_equity_usd).toBe(10_800);
    expect(r.excess_return_pct).toBe(-8.4);
    expect(r.period).toEqual({ from: new Date(D(1)).toISOString(), to: new Date(D(5)).toISOString(), trading_days: 5 });
  });

  test("no fills: flat figures, ratios null, a hint", () => {
    const z = computeBacktest({ ...input, fills: [] });
    expect([z.trades, z.win_rate, z.return_pct, z.max_drawdown.usd, z.sharpe, z.sortino, z.profit_factor, z.avg_holding_minutes, z.exposure_pct]).toEqual([0, null, 0, 0, null, null, null, null, 0]);
    expect(z.hints.join(" ")).toContain("no fills");
    expect(z.benchmark.return_pct).toBe(8);
  });

  test("a sell larger than the open lots is reported, not matched", () => {
    const z = computeBacktest({ ...input, fills: [{ symbol: "B", side: "sell", qty: 5, price: 50, ts: D(2) }] });
    expect(z.trades).toBe(0);
    expect(z.hints.join(" ")).toContain("exceeds the open lots");
  });
});

describe("the pieces", () => {
  test("maxDrawdown finds the largest fall and the recovery", () => {
    const c = [100, 120, 90, 130, 110, 125, 131].map((v, i) => ({ ts: i, v }));
    expect(maxDrawdown(c)).toEqual({ usd: 30, pct: 0.25, peakAt: 1, troughAt: 2, recoveredAt: 3 });
    expect(maxDrawdown([{ ts: 0, v: 5 }, { ts: 1, v: 6 }])).toEqual({ usd: 0, pct: 0, peakAt: null, troughAt: null, recoveredAt: null });
  });

  test("dailyReturns takes each New York day's last value", () => {
    const t = Date.parse("2013-10-07T14:00:00Z");
    // 23:00 New York on the 7th is still the 7th; 04:00 UTC on the 8th is 00:00 New York on the 8th
    const c = [{ ts: t, v: 110 }, { ts: t + 9 * 3_600_000, v: 105 }, { ts: t + 14 * 3_600_000, v: 126 }];
    const d = dailyReturns(c, 100);
    expect(d.length).toBe(2);
    expect(d[0]!).toBeCloseTo(0.05, 12); // 105 / 100 − 1
    expect(d[1]!).toBeCloseTo(0.2, 12); // 126 / 105 − 1
  });

  test("sharpe and sortino need two days and some variation", () => {
    expect(sharpeRatio([0.01])).toBeNull();
    expect(sharpeRatio([0.01, 0.01])).toBeNull();
    expect(sortinoRatio([0.01, 0.02])).toBeNull(); // no down day
    expect(sharpeRatio([0.01, -0.01, 0.03], 1)).toBeCloseTo(0.01 / 0.02, 10);
    expect(sortinoRatio([0.02, -0.02], 4)).toBeCloseTo((0 / Math.sqrt(0.0002)) * 2, 10);
    expect(sortinoRatio([0.04, -0.02], 1)).toBeCloseTo(0.01 / Math.sqrt(0.0004 / 2), 10);
  });

  test("unionLength merges overlapping intervals", () => {
    expect(unionLength([[0, 10], [5, 15], [20, 25], [24, 24]])).toBe(20);
    expect(unionLength([])).toBe(0);
  });

  test("thinCurve keeps the first point, the last, and every bucket's low", () => {
    const pts = Array.from({ length: 1000 }, (_, i) => ({ ts: i, equity_usd: i === 500 ? 1 : 100 + i }));
    const t = thinCurve(pts, 100);
    expect(t.length).toBeLessThanOrEqual(101);
    expect(t[0]).toBe(pts[0]!);
    expect(t[t.length - 1]).toBe(pts[999]!);
    expect(t.some((p) => p.equity_usd === 1)).toBe(true);
    expect(t.every((p, i) => i === 0 || p.ts > t[i - 1]!.ts)).toBe(true);
  });

});
