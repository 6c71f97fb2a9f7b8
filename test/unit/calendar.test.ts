import { describe, expect, test } from "bun:test";
import { eodRunTime, holidayName, isEarlyClose, isMarketOpen, isTradingDay, nextClose, nextOpen, sessionFor } from "../../src/market/calendar";
import { marketIsOpen } from "../../src/market/open-now";

const iso = (t: number | null | undefined) => (t == null ? null : new Date(t).toISOString());

describe("NYSE calendar", () => {
  test("DST: the session opens 13:30Z in summer time and 14:30Z in winter, across both switches", () => {
    expect(iso(sessionFor("2013-03-08")!.open)).toBe("2013-03-08T14:30:00.000Z"); // Friday before the spring switch
    expect(iso(sessionFor("2013-03-11")!.open)).toBe("2013-03-11T13:30:00.000Z"); // Monday after 2013-03-10
    expect(iso(sessionFor("2013-11-01")!.close)).toBe("2013-11-01T20:00:00.000Z");
    expect(iso(sessionFor("2013-11-04")!.close)).toBe("2013-11-04T21:00:00.000Z"); // Monday after 2013-11-03
    expect(sessionFor("2013-03-10")).toBeNull(); // the switch itself is a Sunday
  });

  test("Good Friday (via Easter), Thanksgiving and the early close after it", () => {
    expect(holidayName("2013-03-29")).toBe("Good Friday");
    expect(holidayName("2024-03-29")).toBe("Good Friday");
    expect(holidayName("2013-11-28")).toBe("Thanksgiving Day");
    expect(isTradingDay("2013-11-28")).toBe(false);
    expect(isEarlyClose("2013-11-29")).toBe(true);
    expect(iso(sessionFor("2013-11-29")!.close)).toBe("2013-11-29T18:00:00.000Z"); // 13:00 EST
    expect(holidayName("2024-11-28")).toBe("Thanksgiving Day");
    expect(isEarlyClose("2024-11-29")).toBe(true);
  });

  test("July 3rd and Christmas Eve close at 13:00", () => {
    expect(isEarlyClose("2013-07-03")).toBe(true);
    expect(iso(sessionFor("2013-07-03")!.close)).toBe("2013-07-03T17:00:00.000Z"); // 13:00 EDT
    expect(isEarlyClose("2024-07-03")).toBe(true);
    expect(isEarlyClose("2013-12-24")).toBe(true);
    expect(isEarlyClose("2015-12-24")).toBe(true); // the GOOG file's early close
    expect(isEarlyClose("2013-12-23")).toBe(false);
  });

  test("weekend observance: Saturday New Year is not moved to Friday; Juneteenth 2022 observed Monday", () => {
    expect(isTradingDay("2021-12-31")).toBe(true);
    expect(holidayName("2022-06-20")).toBe("Juneteenth");
    expect(holidayName("2021-06-18")).toBeNull(); // before Juneteenth became an NYSE holiday
    expect(holidayName("2021-07-05")).toBe("Independence Day"); // July 4th 2021 was a Sunday
    expect(holidayName("2022-12-26")).toBe("Christmas Day");
    expect(isTradingDay("2013-10-05")).toBe(false); // Saturday
  });

  test("market open, next open and close", () => {
    expect(isMarketOpen(Date.parse("2013-10-07T13:29:00Z"))).toBe(false);
    expect(isMarketOpen(Date.parse("2013-10-07T13:30:00Z"))).toBe(true);
    expect(isMarketOpen(Date.parse("2013-11-28T15:00:00Z"))).toBe(false); // Thanksgiving
    expect(iso(nextOpen(Date.parse("2013-11-27T22:00:00Z")))).toBe("2013-11-29T14:30:00.000Z");
    expect(iso(nextClose(Date.parse("2013-11-29T15:00:00Z")))).toBe("2013-11-29T18:00:00.000Z");
  });

  test("EOD runs at 16:30, or 30 minutes after an early close", () => {
    expect(iso(eodRunTime("2013-10-07"))).toBe("2013-10-07T20:30:00.000Z");
    expect(iso(eodRunTime("2013-12-24"))).toBe("2013-12-24T18:30:00.000Z");
    expect(eodRunTime("2013-12-25")).toBeNull();
  });

  test("a bad date is an error naming it", () => {
    expect(() => isTradingDay("2013-13-45x")).toThrow("not a YYYY-MM-DD date: '2013-13-45x'");
  });
});

describe("marketIsOpen: the broker's clock when the port offers one, else the calendar", () => {
  const saturday = Date.parse("2026-11-28T16:00:00Z"); // a Saturday, 11:00 New York
  const base = { name: "t", isPaper: true, submit: async () => ({ broker_order_id: "x", status: "new" }), ping: async () => {} };
  test("a broker without a clock: the NYSE calendar answers", async () => {
    expect(await marketIsOpen(base, saturday)).toEqual({ open: false, source: "calendar" });
  });
  test("a broker with a clock is believed over the calendar", async () => {
    const b = { ...base, clock: async () => ({ timestamp: saturday, is_open: true, next_open: null, next_close: null }) };
    expect(await marketIsOpen(b, saturday)).toEqual({ open: true, source: "broker" });
  });
  test("a clock that fails falls back to the calendar", async () => {
    const b = { ...base, clock: async (): Promise<never> => { throw new Error("down"); } };
    expect(await marketIsOpen(b, saturday)).toEqual({ open: false, source: "calendar" });
  });
});
