import { describe, expect, test } from "bun:test";
import { eventTimeOr, listingAfter, LISTING_SLACK_MS, nextPageAfter, openedAtFromFills, unfilledTooLong, verdictForMissing, windowStart } from "../../src/agents/reconcile-rules";
import { intentKey, isOurClientOrderId } from "../../src/core/ids";
import { evaluateExit } from "../../src/gates/exit";

const W = 1_790_000_000_000; // wall time
const EVENT_2013 = Date.UTC(2013, 9, 4, 13, 30); // a replay's event time
const row = (submit: number | null, first: number | null = null) => ({ submit_wall_at: submit, first_contact_wall_at: first });

describe("in-flight and unfilled windows are wall time", () => {
  test("a miss inside in_flight_seconds waits; at the window it is unknown", () => {
    expect(verdictForMissing(row(W), W + 12_700, 30_000)).toEqual({ action: "wait", waitedMs: 12_700, leftMs: 17_300 });
    expect(verdictForMissing(row(W), W + 30_000, 30_000)).toEqual({ action: "unknown", waitedMs: 30_000 });
  });

  test("issue 12 case 1: 7.3 days of replayed event time between rows are not a window", () => {
    // the old rule compared the replay clock with the row's event-time updated_at (630,900 s apart)
    const r = { ...row(W), ts: EVENT_2013, updated_at: EVENT_2013 };
    expect(verdictForMissing(r, W + 12_700, 30_000).action).toBe("wait");
  });

  test("issue 12 case 2: a reconcile 1.1 s after the POST waits, whatever the row's event time", () => {
    expect(verdictForMissing(row(W), W + 1_100, 30_000).action).toBe("wait");
  });

  test("a row written before wall times were kept starts its window at the broker's first answer", () => {
    expect(windowStart(row(null, W + 5))).toBe(W + 5);
    expect(verdictForMissing(row(null), W, 30_000)).toEqual({ action: "wait", waitedMs: 0, leftMs: 30_000 });
    expect(verdictForMissing(row(null, W), W + 30_001, 30_000).action).toBe("unknown");
  });

  test("unfilled: measured from the submission attempt in wall time; unknown start never cancels", () => {
    expect(unfilledTooLong(row(W), W + 599_999, 600_000)).toBe(false);
    expect(unfilledTooLong(row(W), W + 600_000, 600_000)).toBe(true);
    expect(unfilledTooLong(row(null), W + 10 ** 9, 600_000)).toBe(false);
  });
});

describe("the order listing window", () => {
  const base = { open: [], revisable: [], wallNow: W, lookbackMs: 24 * 3_600_000 };
  test("first listing reaches back the look-back; later ones start where the last one did", () => {
    expect(listingAfter({ ...base, watermark: null })).toBe(W - 24 * 3_600_000 - LISTING_SLACK_MS);
    expect(listingAfter({ ...base, watermark: W - 60_000 })).toBe(W - 60_000 - LISTING_SLACK_MS);
  });

  test("an open row older than the watermark pulls the listing back to it, however old", () => {
    expect(listingAfter({ ...base, watermark: W - 60_000, open: [row(W - 72 * 3_600_000)] })).toBe(W - 72 * 3_600_000 - LISTING_SLACK_MS);
  });

  test("an unknown row pulls it back only within the look-back", () => {
    expect(listingAfter({ ...base, watermark: W - 60_000, revisable: [row(W - 3_600_000)] })).toBe(W - 3_600_000 - LISTING_SLACK_MS);
    expect(listingAfter({ ...base, watermark: W - 60_000, revisable: [row(W - 48 * 3_600_000)] })).toBe(W - 60_000 - LISTING_SLACK_MS);
  });

  test("paging: a short page ends it; a full one continues 1 ms before its newest order; it always moves forward", () => {
    expect(nextPageAfter([{ created_at: W }], 2, W - 10, 1)).toBeNull();
    expect(nextPageAfter([{ created_at: W - 5 }, { created_at: W }], 2, W - 10, 2)).toBe(W - 1);
    // the page after that starts 1 ms before W: the orders at W come again (skipped as seen), new ones follow
    expect(nextPageAfter([{ created_at: W }, { created_at: W + 3 }], 2, W - 1, 1)).toBe(W + 2);
    // a full page of orders all in one millisecond, nothing new: step past that millisecond
    expect(nextPageAfter([{ created_at: W }, { created_at: W }], 2, W - 1, 0)).toBe(W);
    expect(nextPageAfter([{ created_at: W }, { created_at: W }], 2, W, 0)).toBeNull();
    expect(nextPageAfter([{ created_at: null }, { created_at: null }], 2, W, 2)).toBeNull();
  });
});

describe("inherited positions", () => {
  test("opened_at is the buy that takes the held quantity back to zero, walking fills newest first", () => {
    const fills = [
      { side: "buy" as const, qty: 10, at: W - 5_000 },
      { side: "sell" as const, qty: 10, at: W - 4_000 }, // closed
      { side: "buy" as const, qty: 4, at: W - 3_000 }, // reopened here
      { side: "buy" as const, qty: 6, at: W - 2_000 },
    ];
    expect(openedAtFromFills(10, fills)).toBe(W - 3_000);
    expect(openedAtFromFills(6, fills)).toBe(W - 2_000);
  });

  test("fills that do not account for the quantity give null (the caller uses wall time, flagged inherited)", () => {
    expect(openedAtFromFills(10, [{ side: "buy", qty: 4, at: W }])).toBeNull();
    expect(openedAtFromFills(10, [])).toBeNull();
    expect(openedAtFromFills(0, [{ side: "buy", qty: 4, at: W }])).toBeNull();
  });

  test("issue 12 case 3: an inherited position opened at wall time is not time-exited by a replay clock at 0 or in 2013", () => {
    const p = { symbol: "SPY", qty: 5, avg_entry_price: 168, opened_at: W };
    const cfg = { takeProfitPct: 1, stopLossPct: 1, maxHoldingMinutes: 60 };
    expect(evaluateExit(p, 168.2, 0, cfg)).toEqual({ exit: false });
    expect(evaluateExit(p, 168.2, EVENT_2013, cfg)).toEqual({ exit: false });
    expect(evaluateExit(p, 168.2, W + 59 * 60_000, cfg)).toEqual({ exit: false });
    expect(evaluateExit(p, 168.2, W + 60 * 60_000, cfg)).toMatchObject({ exit: true, reason: "time_exit" });
    // what the old code stored for it: opened_at 0 — a time exit on the first bar
    expect(evaluateExit({ ...p, opened_at: 0 }, 168.2, EVENT_2013, cfg)).toMatchObject({ exit: true, reason: "time_exit" });
  });

  test("event time for the reconciler's columns: the pipeline clock once it runs, the wall clock before", () => {
    expect(eventTimeOr(0, W)).toBe(W);
    expect(eventTimeOr(EVENT_2013, W)).toBe(EVENT_2013);
  });
});

describe("our client_order_id shape", () => {
  test("every key intentKey makes is ours; others are not", () => {
    for (const k of [intentKey("0a1b2c3d", "SPY", EVENT_2013, "buy"), intentKey("live", "BRK.B", EVENT_2013, "sell", "x")]) expect(isOurClientOrderId(k)).toBe(true);
    for (const k of ["e1", "manual-order-1", "3f2c1a9e-8b7d-4c6e-9f0a-1b2c3d4e5f60", "0a1b2c3d-SPY-20131004T133000-Be-tp1"]) expect(isOurClientOrderId(k)).toBe(false);
  });
});
