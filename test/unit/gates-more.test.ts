import { nyDayStart } from "../../src/core/time";
import { describe, expect, test } from "bun:test";
import { EXIT_CHAIN, deriveActivity, evaluateExit, lastBusinessDays, runChain, shapeOrder, type Limits, type Snapshot } from "../../src/gates";
import { limitsFrom } from "../../src/portfolio/book";
import { defaultApp } from "../../src/config";
import { intent, T0 } from "../helpers";
import { limits, open } from "../helpers/gates";

const run = (s: Partial<Snapshot>, i = intent(), l: Partial<Limits> = {}, now = T0) => runChain(i, { ...open, ...s }, { ...limits, ...l }, now);
const reason = (r: ReturnType<typeof runChain>) => (r.allow ? "allow" : r.reason);
const MIN = 60_000;

describe("gates beyond the runbook", () => {
  test("max_notional_per_order: at the limit passes, a cent over blocks", () => {
    // default 10,000; 100 shares x $100 = exactly 10,000
    expect(reason(run({}, intent({ qty: 100, reference_price: 100 }), { maxTotalExposureUsd: 1e9, maxSymbolExposureUsd: 1e9 }))).toBe("allow");
    expect(reason(run({}, intent({ qty: 100, reference_price: 100.0001 }), { maxTotalExposureUsd: 1e9, maxSymbolExposureUsd: 1e9 }))).toBe("max_notional_per_order");
  });

  test("qty_bounds: whole shares from 1 to max_order_qty", () => {
    expect(reason(run({}, intent({ qty: 0 })))).toBe("qty_bounds");
    expect(reason(run({}, intent({ qty: 1.5 })))).toBe("qty_bounds");
    expect(reason(run({}, intent({ qty: 1 }), { maxOrderQty: 1 }))).toBe("allow");
    expect(reason(run({}, intent({ qty: 2 }), { maxOrderQty: 1 }))).toBe("qty_bounds");
  });

  test("price_band: exactly at the band passes, beyond blocks; no last price passes", () => {
    expect(reason(run({ lastPrice: 100 }, intent({ reference_price: 105, qty: 1 })))).toBe("allow");
    expect(reason(run({ lastPrice: 100 }, intent({ reference_price: 105.01, qty: 1 })))).toBe("price_band");
    expect(reason(run({ lastPrice: null }, intent({ reference_price: 500, qty: 1 })))).toBe("allow");
  });

  test("stoploss_guard: N stop-loss exits in the lookback lock entries until last + lock", () => {
    const three = [T0 - 50 * MIN, T0 - 30 * MIN, T0 - 10 * MIN];
    expect(reason(run({ stopLossExitTs: three.slice(1) }))).toBe("allow");
    expect(reason(run({ stopLossExitTs: three }))).toBe("stoploss_guard");
    // lock is 120 min after the last exit; lookback 60 min: after the lookback ends, fewer than 3 in it
    expect(reason(run({ stopLossExitTs: three }, intent({ ts: T0 + 11 * MIN }), {}, T0 + 11 * MIN))).toBe("allow");
    // exits are never locked
    expect(reason(run({ stopLossExitTs: three, positionQty: 10 }, intent({ side: "sell" })))).toBe("allow");
    // global scope uses every symbol's exits
    expect(reason(run({ globalStopLossExitTs: three }, intent(), { stoplossGuard: { ...limits.stoplossGuard, scope: "global" } }))).toBe("stoploss_guard");
    expect(reason(run({ globalStopLossExitTs: three }))).toBe("allow");
  });

  test("pattern_day_trader: a 4th day trade under $25k equity is blocked, at $25k it is not", () => {
    const sell = intent({ side: "sell", qty: 10 });
    const s = { positionQty: 10, boughtToday: true, equityUsd: 24_999.99 };
    expect(reason(run({ ...s, dayTradesLast5Days: 2 }, sell))).toBe("allow");
    expect(reason(run({ ...s, dayTradesLast5Days: 3 }, sell))).toBe("pattern_day_trader");
    expect(reason(run({ ...s, dayTradesLast5Days: 3, equityUsd: 25_000 }, sell))).toBe("allow");
    expect(reason(run({ ...s, dayTradesLast5Days: 3, boughtToday: false }, sell))).toBe("allow");
    expect(reason(run({ ...s, dayTradesLast5Days: 3 }, sell, { pdtProtection: false }))).toBe("allow");
  });

  test("max_daily_loss blocks entries at the limit, never sells", () => {
    expect(reason(run({ dayPnlUsd: -1999.99 }))).toBe("allow");
    expect(reason(run({ dayPnlUsd: -2000 }))).toBe("max_daily_loss");
    expect(reason(run({ dayPnlUsd: -5000, positionQty: 10 }, intent({ side: "sell" })))).toBe("allow");
  });

  test("exit chain: safety gates apply, throttles, cooldown and exposure do not", () => {
    const exit = intent({ side: "sell", qty: 10, exit_reason: "stop_loss" });
    const busy = { positionQty: 10, ordersLastMinute: 99, symbolOrdersToday: 99, openOrders: 99, lastSymbolOrderTs: T0 - 1000, totalExposureUsd: 1e9, lastPrice: 50 };
    expect(reason(runChain(exit, { ...open, ...busy }, limits, T0, EXIT_CHAIN))).toBe("allow");
    expect(reason(runChain(exit, { ...open, ...busy, dryRun: true }, limits, T0, EXIT_CHAIN))).toBe("dry_run");
    expect(reason(runChain(exit, { ...open, ...busy, approved: false }, limits, T0, EXIT_CHAIN))).toBe("not_approved");
    expect(reason(runChain(exit, { ...open, ...busy, tradingState: "HALTED" }, limits, T0, EXIT_CHAIN))).toBe("trading_halted");
    expect(reason(runChain(exit, { ...open, ...busy, tradingState: "REDUCING" }, limits, T0, EXIT_CHAIN))).toBe("allow");
  });
});

describe("evaluateExit", () => {
  const pos = { symbol: "SPY", qty: 10, avg_entry_price: 100, opened_at: T0 };
  const cfg = { takeProfitPct: 1, stopLossPct: 0.5, maxHoldingMinutes: 60 };
  const r = (price: number, now = T0 + MIN) => {
    const d = evaluateExit(pos, price, now, cfg);
    return d.exit ? d.reason : "hold";
  };
  test("boundaries of take_profit and stop_loss", () => {
    expect(r(100.99)).toBe("hold");
    expect(r(101)).toBe("take_profit");
    expect(r(99.51)).toBe("hold");
    expect(r(99.5)).toBe("stop_loss");
  });
  test("time_exit at max_holding_minutes, not a minute before", () => {
    expect(r(100, T0 + 59 * MIN)).toBe("hold");
    expect(r(100, T0 + 60 * MIN)).toBe("time_exit");
  });
  test("priority take_profit > stop_loss > time_exit", () => {
    expect(r(102, T0 + 120 * MIN)).toBe("take_profit");
    expect(r(98, T0 + 120 * MIN)).toBe("stop_loss");
    // a config where both thresholds hold at once still picks take_profit
    const d = evaluateExit(pos, 100, T0, { takeProfitPct: -1, stopLossPct: -1, maxHoldingMinutes: 60 });
    expect(d.exit && d.reason).toBe("take_profit");
  });
  test("no position, or a NaN price, never exits", () => {
    expect(evaluateExit({ ...pos, qty: 0 }, 50, T0, cfg).exit).toBe(false);
    expect(evaluateExit(pos, NaN, T0, cfg).exit).toBe(false);
  });
});

describe("order shaping", () => {
  const l = { ...limits, useBracketOrders: true, takeProfitPct: 1, stopLossPct: 0.5 };
  test("a BUY becomes a bracket with legs rounded to the tick", () => {
    const s = shapeOrder(intent({ reference_price: 168.37 }), { ...open, lastPrice: 168.37 }, l);
    expect(s).toEqual({ type: "bracket", take_profit_price: 170.06, stop_loss_price: 167.52 });
  });
  test("no reliable price falls back to a market order with the reason", () => {
    const s = shapeOrder(intent(), { ...open, lastPrice: null }, l);
    expect(s.type).toBe("market");
    expect(s.type === "market" && s.note).toContain("bracket_fallback");
  });
  test("SELLs and use_bracket_orders=false stay market", () => {
    expect(shapeOrder(intent({ side: "sell" }), open, l).type).toBe("market");
    expect(shapeOrder(intent(), open, limitsFrom(defaultApp())).type).toBe("market");
  });
});

describe("deriveActivity", () => {
  const fill = (symbol: string, side: "buy" | "sell", iso: string, exit_reason: string | null = null) => ({
    ts: Date.parse(iso), symbol, side, status: "filled", filled_at: Date.parse(iso), exit_reason,
  });
  test("the 5-day window depends on the New York date alone (it is kept per date), DST Mondays included", () => {
    for (const [monday, want] of [
      ["2013-03-11", ["2013-03-11", "2013-03-08", "2013-03-07", "2013-03-06", "2013-03-05"]], // after spring forward
      ["2013-11-04", ["2013-11-04", "2013-11-01", "2013-10-31", "2013-10-30", "2013-10-29"]], // after fall back
    ] as const) {
      const start = nyDayStart(Date.parse(`${monday}T12:00:00Z`));
      for (let m = 0; m < 24 * 60; m += 30) expect(lastBusinessDays(start + m * 60_000, 5)).toEqual([...want]);
    }
    // the kept window moves with the date: a day trade 5 business days back drops out on the 6th
    const trade = [fill("SPY", "buy", "2013-10-07T14:00:00Z"), fill("SPY", "sell", "2013-10-07T15:00:00Z")];
    expect(deriveActivity(trade, "SPY", Date.parse("2013-10-11T15:00:00Z")).dayTradesLast5Days).toBe(1); // Friday: Mon..Fri
    expect(deriveActivity(trade, "SPY", Date.parse("2013-10-14T15:00:00Z")).dayTradesLast5Days).toBe(0); // next Monday
    expect(deriveActivity(trade, "SPY", Date.parse("2013-10-11T19:59:00Z")).dayTradesLast5Days).toBe(1); // Friday again
  });
  test("day trades: a same-day buy then sell, counted over 5 business days", () => {
    const now = Date.parse("2013-10-11T18:00:00Z"); // Friday
    expect(lastBusinessDays(now, 5)).toEqual(["2013-10-11", "2013-10-10", "2013-10-09", "2013-10-08", "2013-10-07"]);
    const orders = [
      fill("SPY", "buy", "2013-10-04T14:00:00Z"), fill("SPY", "sell", "2013-10-04T15:00:00Z"), // outside the window
      fill("SPY", "buy", "2013-10-07T14:00:00Z"), fill("SPY", "sell", "2013-10-07T15:00:00Z"),
      fill("IBM", "buy", "2013-10-08T14:00:00Z"), fill("IBM", "sell", "2013-10-09T15:00:00Z"), // overnight: not a day trade
      fill("BAC", "buy", "2013-10-11T14:00:00Z"), fill("BAC", "sell", "2013-10-11T15:00:00Z", "stop_loss"),
      fill("BAC", "buy", "2013-10-11T16:00:00Z"),
    ];
    const a = deriveActivity(orders, "BAC", now);
    expect(a.dayTradesLast5Days).toBe(2);
    expect(a.boughtToday).toBe(true);
    expect(a.stopLossExitTs).toEqual([Date.parse("2013-10-11T15:00:00Z")]);
    expect(deriveActivity(orders, "IBM", now).boughtToday).toBe(false);
  });
});

describe("a reference price that is not a positive number", () => {
  test("is blocked as invalid_price (not as a price band or notional breach)", () => {
    for (const p of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(reason(run({}, intent({ reference_price: p, qty: 1 })))).toBe("invalid_price");
    }
  });
});
