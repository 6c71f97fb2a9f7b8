import { describe, expect, test } from "bun:test";
import { intentKey, uuidFrom } from "../../src/core/ids";
import { inRegularSession, nyDate, nyDayStart, nyParts } from "../../src/core/time";
import { notional, round6, roundToTick } from "../../src/core/money";
import { ReplayClock } from "../../src/core/clock";

describe("core", () => {
  test("uuidFrom is deterministic and UUID-shaped", () => {
    expect(uuidFrom("a")).toBe(uuidFrom("a"));
    expect(uuidFrom("a")).not.toBe(uuidFrom("b"));
    expect(uuidFrom("a")).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  test("intent keys fit Alpaca's 48-character client_order_id", () => {
    const k = intentKey("abcdefgh", "BRK.B", Date.parse("2013-10-04T13:30:00Z"), "buy");
    expect(k).toBe("abcdefgh-BRK.B-20131004T133000-Be");
    expect(k.length).toBeLessThanOrEqual(48);
  });

  test("New York time across the DST switch (2013-11-03)", () => {
    expect(nyParts(Date.parse("2013-10-04T13:30:00Z")).minutesOfDay).toBe(9 * 60 + 30); // EDT
    expect(nyParts(Date.parse("2013-11-04T14:30:00Z")).minutesOfDay).toBe(9 * 60 + 30); // EST
    expect(nyDate(Date.parse("2013-10-05T03:59:00Z"))).toBe("2013-10-04");
    expect(nyDate(Date.parse("2013-10-05T04:00:00Z"))).toBe("2013-10-05");
    expect(new Date(nyDayStart(Date.parse("2013-10-04T18:00:00Z"))).toISOString()).toBe("2013-10-04T04:00:00.000Z");
    expect(new Date(nyDayStart(Date.parse("2013-11-03T18:00:00Z"))).toISOString()).toBe("2013-11-03T04:00:00.000Z");
    expect(new Date(nyDayStart(Date.parse("2013-11-04T18:00:00Z"))).toISOString()).toBe("2013-11-04T05:00:00.000Z");
  });

  test("regular session 09:30-16:00 New York, weekdays", () => {
    expect(inRegularSession(Date.parse("2013-10-04T13:29:00Z"))).toBe(false);
    expect(inRegularSession(Date.parse("2013-10-04T13:30:00Z"))).toBe(true);
    expect(inRegularSession(Date.parse("2013-10-04T19:59:00Z"))).toBe(true);
    expect(inRegularSession(Date.parse("2013-10-04T20:00:00Z"))).toBe(false);
    expect(inRegularSession(Date.parse("2013-10-05T15:00:00Z"))).toBe(false); // Saturday
  });

  test("money: 6-decimal rounding, exact notional, ticks", () => {
    expect(round6(0.1 + 0.2)).toBe(0.3);
    expect(notional(0.1, 3)).toBe(0.3);
    expect(notional(168.12, 11)).toBe(1849.32);
    expect(roundToTick(168.123)).toBe(168.12);
    expect(roundToTick(168.121, "up")).toBe(168.13);
    expect(roundToTick(0.12345, "down")).toBe(0.1234);
  });

  test("ReplayClock never goes backwards", () => {
    const c = new ReplayClock();
    c.advanceTo(10);
    c.advanceTo(5);
    expect(c.now()).toBe(10);
  });
});
