import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { computePnl, dailyPnl, type PnlFill } from "../../src/reports/pnl";
import { renderDaily, reportJson } from "../../src/reports/render";
import { toMicros } from "../../src/core/money";

const T = Date.parse("2013-10-07T14:00:00Z");
const M = 60_000;
const f = (symbol: string, side: "buy" | "sell", qty: number, price: number, min: number, trade_id?: number): PnlFill => ({ symbol, side, qty, price, ts: T + min * M, trade_id });

describe("FIFO PnL, hand-worked", () => {
  test("one winning round trip", () => {
    const r = computePnl([f("SPY", "buy", 10, 100, 0), f("SPY", "sell", 10, 101.5, 5)], []);
    expect(r).toMatchObject({ realized_pnl_usd: 15, unrealized_pnl_usd: 0, total_pnl_usd: 15, win_rate: 1, wins: 1, losses: 0, avg_win_usd: 15, num_trades: 2, num_buys: 1, num_sells: 1, volume_usd: 2015 });
  });

  test("partial fills split lots FIFO: 5 of 10 sold, then the rest at a loss", () => {
    // buy 10 @ 100, buy 5 @ 102; sell 12 @ 101 → 10*(+1) + 2*(-1) = +8; 3 left @ 102, marked at 99 → -9
    const r = computePnl([f("IBM", "buy", 10, 100, 0), f("IBM", "buy", 5, 102, 1), f("IBM", "sell", 12, 101, 2)], [{ symbol: "IBM", price: 99, ts: T + 3 * M }]);
    expect(r.realized_pnl_usd).toBe(8);
    expect(r.unrealized_pnl_usd).toBe(-9);
    expect(r.total_pnl_usd).toBe(-1);
    expect(r.round_trips).toEqual([{ symbol: "IBM", qty: 12, entry_price: 100.333333, exit_price: 101, pnl_usd: 8, opened_at: T, closed_at: T + 2 * M, trade_id: undefined }]);
    expect(r.open_lots).toEqual([{ symbol: "IBM", qty: 3, price: 102, ts: T + M }]);
  });

  test("a sell larger than the open lots is reported, not absorbed", () => {
    const r = computePnl([f("BAC", "buy", 5, 14, 0), f("BAC", "sell", 8, 15, 1, 77)], []);
    expect(r.realized_pnl_usd).toBe(5);
    expect(r.errors).toEqual([{ symbol: "BAC", trade_id: 77, ts: T + M, excess_qty: 3, message: "sell of 8 BAC exceeds the open lots by 3; the excess is not matched" }]);
    expect(r.hints.join(" ")).toContain("larger than the open lots");
  });

  test("a losing day with a drawdown, worked by hand", () => {
    // equity path: buy 10@100 (0) → mark 103 (+30, peak) → mark 97 (-30) → sell 10@98 (realized -20)
    // → buy 5@50 AIG (-20) → mark AIG 52 (-10). Peak +30, trough -30: drawdown 60.
    const r = computePnl(
      [f("SPY", "buy", 10, 100, 0), f("SPY", "sell", 10, 98, 3), f("AIG", "buy", 5, 50, 4)],
      [{ symbol: "SPY", price: 103, ts: T + M }, { symbol: "SPY", price: 97, ts: T + 2 * M }, { symbol: "AIG", price: 52, ts: T + 5 * M }],
    );
    expect(r.realized_pnl_usd).toBe(-20);
    expect(r.unrealized_pnl_usd).toBe(10);
    expect(r.total_pnl_usd).toBe(-10);
    expect(r.max_drawdown_usd).toBe(60);
    expect(r.win_rate).toBe(0);
    expect(r.avg_loss_usd).toBe(-20);
    expect([r.best_symbol, r.worst_symbol]).toEqual(["AIG", "SPY"]);
  });

  test("cents stay exact: 0.1 + 0.2 style prices", () => {
    const r = computePnl([f("X", "buy", 3, 0.1, 0), f("X", "buy", 3, 0.2, 1), f("X", "sell", 6, 0.3, 2)], []);
    expect(r.realized_pnl_usd).toBe(0.9); // 3 x 0.2 + 3 x 0.1, exactly
  });

  test("a day report: earlier fills are the opening inventory; only that day's closings are realized", () => {
    const day2 = Date.parse("2013-10-08T04:00:00Z");
    const fills = [f("SPY", "buy", 10, 100, 0), { ...f("SPY", "sell", 4, 105, 0), ts: day2 + 14 * 3600_000 }];
    const r = dailyPnl(fills, [], "2013-10-08", day2, day2 + 86_400_000);
    expect(r.realized_pnl_usd).toBe(20);
    expect(r.num_trades).toBe(1);
    expect(r.unrealized_pnl_usd).toBe(30); // 6 left at 100, last price 105
  });

  test("hints name the cause of a $0 PnL", () => {
    expect(computePnl([], [], { unfilledOrders: 3 }).hints[0]).toContain("no fills yet: 3 order(s)");
    expect(computePnl([f("SPY", "buy", 1, 10, 0)], []).hints).toContain("no round trips: only buys so far, so PnL is unrealized");
    expect(computePnl([], [], { marketClosed: true }).hints.join(" ")).toContain("market closed");
  });
});

const fillSeq = fc
  .array(fc.record({ s: fc.constantFrom("A", "B"), buy: fc.boolean(), q: fc.integer({ min: 1, max: 50 }), c: fc.integer({ min: 100, max: 50_000 }) }), { minLength: 1, maxLength: 40 })
  .map((xs) => {
    // only valid sequences: never sell more than held
    const held: Record<string, number> = { A: 0, B: 0 };
    const out: PnlFill[] = [];
    xs.forEach((x, i) => {
      const q = x.buy ? x.q : Math.min(x.q, held[x.s]!);
      if (q === 0) return;
      held[x.s]! += x.buy ? q : -q;
      out.push({ symbol: x.s, side: x.buy ? "buy" : "sell", qty: q, price: x.c / 100, ts: T + i * M });
    });
    return out;
  });

describe("PnL properties (fast-check)", () => {
  test("realized + unrealized equals the mark-to-market change of cash + positions", () => {
    fc.assert(
      fc.property(fillSeq, fc.integer({ min: 100, max: 50_000 }), fc.integer({ min: 100, max: 50_000 }), (fills, ma, mb) => {
        const marks = [{ symbol: "A", price: ma / 100, ts: T + 1000 * M }, { symbol: "B", price: mb / 100, ts: T + 1000 * M }];
        const r = computePnl(fills, marks);
        let cash = 0;
        const pos: Record<string, number> = { A: 0, B: 0 };
        for (const x of fills) {
          cash += (x.side === "buy" ? -1 : 1) * toMicros(x.price) * x.qty;
          pos[x.symbol]! += x.side === "buy" ? x.qty : -x.qty;
        }
        const mtm = cash + pos.A! * toMicros(ma / 100) + pos.B! * toMicros(mb / 100);
        expect(toMicros(r.realized_pnl_usd) + toMicros(r.unrealized_pnl_usd)).toBe(mtm);
        expect(r.errors).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });

  test("splitting a fill in two changes nothing", () => {
    fc.assert(
      fc.property(fillSeq, fc.nat(), (fills, k) => {
        if (fills.length === 0) return;
        const i = k % fills.length;
        const x = fills[i]!;
        if (x.qty < 2) return;
        const a = Math.floor(x.qty / 2);
        const split = [...fills.slice(0, i), { ...x, qty: a }, { ...x, qty: x.qty - a }, ...fills.slice(i + 1)];
        const r1 = computePnl(fills, []);
        const r2 = computePnl(split, []);
        expect([r2.realized_pnl_usd, r2.unrealized_pnl_usd, r2.max_drawdown_usd, r2.volume_usd]).toEqual([r1.realized_pnl_usd, r1.unrealized_pnl_usd, r1.max_drawdown_usd, r1.volume_usd]);
      }),
      { numRuns: 500 },
    );
  });
});

describe("PnL rendering", () => {
  test("the daily text report has the runbook's layout; the JSON has the daily_pnl_summary columns", () => {
    const r = computePnl([f("SPY", "buy", 10, 100, 0), f("SPY", "sell", 10, 101.5, 5)], [], { reportDate: "2013-10-07" });
    const text = renderDaily(r);
    for (const s of ["📊 Daily PnL Report: 2013-10-07", "💰 P&L Summary", "Realized PnL:    +$15.00", "Unrealized PnL:  +$0.00", "Total Trades:    2", "Win Rate:        100.0%", "Best:            SPY (+$15.00)"])
      expect(text).toContain(s);
    const j = reportJson(r);
    for (const k of ["report_date", "realized_pnl_usd", "unrealized_pnl_usd", "total_pnl_usd", "win_rate", "num_trades", "best_symbol", "worst_symbol", "max_drawdown_usd"]) expect(j).toHaveProperty(k);
  });
});
