import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { ENTRY_CHAIN, EXIT_CHAIN, runChain, type Limits, type Snapshot } from "../../src/gates";
import { limits, open } from "../helpers/gates";
import { intent, T0 } from "../helpers";

const run = (s: Partial<Snapshot>, i = intent(), l: Partial<Limits> = {}, now = T0) => runChain(i, { ...open, ...s }, { ...limits, ...l }, now);
const reason = (r: ReturnType<typeof runChain>) => (r.allow ? "allow" : r.reason);

describe("gate chain", () => {
  test("everything open: allowed", () => expect(reason(run({}))).toBe("allow"));

  test("safety: paper, dry run, approval, halted, reducing", () => {
    expect(reason(run({ brokerIsPaper: false }))).toBe("not_paper");
    expect(reason(run({ dryRun: true }))).toBe("dry_run");
    expect(reason(run({ approved: false }))).toBe("not_approved");
    expect(reason(run({ tradingState: "HALTED" }))).toBe("trading_halted");
    expect(reason(run({ tradingState: "REDUCING" }))).toBe("reducing_only");
    expect(reason(run({ tradingState: "REDUCING", positionQty: 5 }, intent({ side: "sell", qty: 5 })))).toBe("allow");
  });

  test("the runbook's table: only dry_run=false AND approval file trades", () => {
    expect(reason(run({ dryRun: true, approved: true }))).toBe("dry_run");
    expect(reason(run({ dryRun: true, approved: false }))).toBe("dry_run");
    expect(reason(run({ dryRun: false, approved: false }))).toBe("not_approved");
    expect(reason(run({ dryRun: false, approved: true }))).toBe("allow");
  });

  test("boundaries: at the limit blocks, one under passes", () => {
    expect(reason(run({ ordersLastMinute: 4 }))).toBe("allow");
    expect(reason(run({ ordersLastMinute: 5 }))).toBe("rate_limit");
    expect(reason(run({ symbolOrdersToday: 2 }))).toBe("allow");
    expect(reason(run({ symbolOrdersToday: 3 }))).toBe("max_symbol_orders");
    expect(reason(run({ openOrders: 19 }))).toBe("allow");
    expect(reason(run({ openOrders: 20 }))).toBe("max_open_orders");
    expect(reason(run({ lastSymbolOrderTs: T0 - 899_999 }))).toBe("cooldown");
    expect(reason(run({ lastSymbolOrderTs: T0 - 900_000 }))).toBe("allow");
  });

  test("exposure caps for BUY: exactly at the cap passes, one cent over blocks", () => {
    // 10 shares at $100 = $1,000
    expect(reason(run({ totalExposureUsd: 49_000 }))).toBe("allow");
    expect(reason(run({ totalExposureUsd: 49_000.01 }))).toBe("exposure_cap");
    expect(reason(run({ symbolExposureUsd: 9_000 }, intent(), { allowAddToPosition: true }))).toBe("allow");
    expect(reason(run({ symbolExposureUsd: 9_000.01 }, intent(), { allowAddToPosition: true }))).toBe("symbol_exposure_cap");
  });

  test("SELL skips exposure caps, needs a position, and is capped to what is held", () => {
    const sell = intent({ side: "sell", qty: 10 });
    expect(reason(run({ totalExposureUsd: 1e9, positionQty: 10 }, sell))).toBe("allow");
    expect(reason(run({ positionQty: 0 }, sell))).toBe("no_position");
    expect(reason(run({ positionQty: 4, openSellQty: 4 }, sell))).toBe("no_position");
    const r = run({ positionQty: 6, openSellQty: 2 }, sell);
    expect(r.allow && r.intent.qty).toBe(4);
  });

  test("a BUY on a held symbol is blocked unless allow_add_to_position", () => {
    expect(reason(run({ positionQty: 3, symbolExposureUsd: 300 }))).toBe("position_exists");
    expect(reason(run({ positionQty: 3, symbolExposureUsd: 300 }, intent(), { allowAddToPosition: true }))).toBe("allow");
  });

  test("duplicate idempotency key blocks before the throttles", () => {
    expect(reason(run({ duplicate: true, ordersLastMinute: 99 }))).toBe("duplicate_idempotency_key");
  });

  test("chain order follows ARCHITECTURE.md §5", () => {
    expect(ENTRY_CHAIN.map(([n]) => n)).toEqual([
      "paper", "dry_run", "approval", "trading_state", "max_daily_loss", "duplicate", "rate_limit", "max_symbol_orders",
      "max_open_orders", "cooldown", "stoploss_guard", "pattern_day_trader", "qty_bounds", "max_notional", "price_band",
      "exposure", "add_to_position", "sell_check",
    ]);
    expect(EXIT_CHAIN.map(([n]) => n)).toEqual(["paper", "dry_run", "approval", "trading_state", "duplicate", "pattern_day_trader", "qty_bounds", "sell_check"]);
    // When every gate would block, the first one decides.
    const all = run({ brokerIsPaper: false, dryRun: true, approved: false, tradingState: "HALTED", duplicate: true, ordersLastMinute: 99 });
    expect(reason(all)).toBe("not_paper");
  });

  test("property: dry run or a missing approval file or a non-paper broker never allows", () => {
    fc.assert(
      fc.property(
        fc.record({ dryRun: fc.boolean(), approved: fc.boolean(), brokerIsPaper: fc.boolean(), ordersLastMinute: fc.nat(10), positionQty: fc.nat(50) }),
        fc.constantFrom("buy" as const, "sell" as const),
        (s, side) => {
          const r = run(s, intent({ side }));
          if (s.dryRun || !s.approved || !s.brokerIsPaper) expect(r.allow).toBe(false);
        },
      ),
    );
  });

  test("property: an allowed BUY never takes exposure over either cap", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 60_000, noNaN: true }),
        fc.double({ min: 0, max: 12_000, noNaN: true }),
        fc.integer({ min: 1, max: 500 }),
        fc.double({ min: 0.5, max: 500, noNaN: true }),
        (total, sym, qty, price) => {
          const r = run({ totalExposureUsd: total, symbolExposureUsd: Math.min(sym, total) }, intent({ qty, reference_price: price }), { allowAddToPosition: true });
          if (r.allow) {
            expect(total + qty * price).toBeLessThanOrEqual(limits.maxTotalExposureUsd + 1e-6);
            expect(Math.min(sym, total) + qty * price).toBeLessThanOrEqual(limits.maxSymbolExposureUsd + 1e-6);
          }
        },
      ),
    );
  });
});
