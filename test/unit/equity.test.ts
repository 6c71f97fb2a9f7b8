import { describe, expect, test } from "bun:test";
import { equityCurve } from "../../src/reports/equity";
import { computePnl, type Mark, type PnlFill } from "../../src/reports/pnl";
import { T0 } from "../helpers";

const M = 60_000;
const fills: PnlFill[] = [
  { symbol: "SPY", side: "buy", qty: 10, price: 100, ts: T0 + 1 * M },
  { symbol: "SPY", side: "sell", qty: 10, price: 103, ts: T0 + 5 * M },
  { symbol: "IBM", side: "buy", qty: 2, price: 50, ts: T0 + 6 * M },
];
const marks: Mark[] = [];
for (let i = 0; i < 10; i++) {
  marks.push({ symbol: "SPY", price: 100 + i, ts: T0 + i * M });
  marks.push({ symbol: "IBM", price: 50 - i, ts: T0 + i * M });
  marks.push({ symbol: "BAC", price: 10 + i, ts: T0 + i * M }); // never traded: cannot move the curve
}

describe("equityCurve", () => {
  test("each point is the FIFO report at that time, and the last one is the period's total", () => {
    const c = equityCurve(fills, marks, T0, T0 + 9 * M);
    for (const p of c) {
      const r = computePnl(fills, marks, { from: T0, to: p.ts });
      expect(p.total_pnl_usd).toBe(r.total_pnl_usd);
      expect(p.realized_pnl_usd).toBe(r.realized_pnl_usd);
    }
    const last = c[c.length - 1]!;
    expect(last.ts).toBe(T0 + 9 * M);
    const full = computePnl(fills, marks, { from: T0, to: T0 + 9 * M });
    expect(last.total_pnl_usd).toBe(full.total_pnl_usd);
    // realized appears with the sell: 10 × (103 − 100)
    expect(c.find((p) => p.ts === T0 + 5 * M)!.realized_pnl_usd).toBe(30);
    expect(c.find((p) => p.ts === T0 + 4 * M)!.realized_pnl_usd).toBe(0);
    // IBM bought at 50 and marked at 41 at the end: unrealized 2 × (41 − 50)
    expect(last.unrealized_pnl_usd).toBe(-18);
  });

  test("no fills: no curve; the number of points is capped but keeps every fill time", () => {
    expect(equityCurve([], marks, T0, T0 + 9 * M)).toEqual([]);
    const c = equityCurve(fills, marks, T0, T0 + 9 * M, 4);
    expect(c.length).toBeLessThanOrEqual(5);
    for (const f of fills) expect(c.some((p) => p.ts === f.ts)).toBe(true);
    expect(c.map((p) => p.ts)).toEqual([...c.map((p) => p.ts)].sort((a, b) => a - b));
  });
});
