import { describe, expect, test } from "bun:test";
import { SQLITE, codecs, postgresDialect, rowEncoder } from "../../src/store/codec";
import { Where } from "../../src/store/db";
import type { Position, TradeRow } from "../../src/store/port";
import { MAX_TS } from "../../src/store/bounds";
import { T0, newTrade } from "../helpers";

const json = (v: unknown) => ({ json: v });
const lite = codecs(SQLITE);
const pg = codecs(postgresDialect(json));

describe("row codecs derived from tables.ts", () => {
  test("SQLite: times as ISO text, booleans 0/1, money to 6 decimals, absent optional fields as NULL", () => {
    const t = lite<TradeRow>("trades");
    const v = t.values(newTrade({ price: 0.1 + 0.2, filled_at: null, dry_run: false }));
    const at = (c: string) => v[t.insertColumns.indexOf(c)];
    expect(t.insertColumns).not.toContain("id"); // serial: the database assigns it
    expect(at("ts")).toBe(new Date(T0).toISOString());
    expect(at("price")).toBe(0.3);
    expect(at("paper_trade")).toBe(1);
    expect(at("dry_run")).toBe(0);
    expect(at("filled_at")).toBeNull();
    expect(at("submit_wall_at")).toBeNull(); // optional in NewTrade: undefined is written as NULL
  });

  test("the written-out row encoder equals the loop over names: conversions, order, `common` for absent fields", () => {
    const encs = [(v: unknown) => `t:${String(v)}`, (v: unknown) => (v === null || v === undefined ? null : Number(v) * 2), (v: unknown) => v ?? "none"];
    const written = rowEncoder(["a", "b", "c_d"], encs);
    const looped = rowEncoder(["a", "b", "c-d"], encs); // not an identifier: the loop
    for (const [row, common] of [
      [{ a: 1, b: 2, c_d: "x", "c-d": "x" }, undefined],
      [{ a: "s" }, { b: 5, c_d: "from common", "c-d": "from common" }],
      [{ a: 0, b: null, c_d: undefined }, { b: 7, c_d: "y", "c-d": "y" }], // null is a value, undefined is absent
      [{}, undefined],
    ] as const) expect(written(row, common as never)).toEqual(looped({ ...row, "c-d": (row as any).c_d }, common as never));
    expect(written({ a: 1, b: 2, c_d: "x" })).toEqual(["t:1", 4, "x"]);
    expect(written({ a: 1 }, { b: 3, c_d: "z" })).toEqual(["t:1", 6, "z"]);
    expect(written({ a: 1, b: null })).toEqual(["t:1", null, "none"]);
  });

  test("SQLite and PostgreSQL rows decode to the same row type", () => {
    const base = { symbol: "SPY", qty: 5, last_price: null, opened_at: null, inherited: undefined } as const;
    const fromLite = lite<Position>("positions").decode({ ...base, avg_entry_price: 168.1234567, market_value: 840.5, unrealized_pl: -1, updated_at: new Date(T0).toISOString(), inherited: 1 });
    const fromPg = pg<Position>("positions").decode({ ...base, qty: "5.000000", avg_entry_price: "168.123457", market_value: "840.500000", unrealized_pl: "-1.000000", updated_at: new Date(T0), inherited: true });
    const want = { symbol: "SPY", qty: 5, avg_entry_price: 168.123457, last_price: null, market_value: 840.5, unrealized_pl: -1, opened_at: null, updated_at: T0, inherited: true };
    expect(fromLite).toEqual(want);
    expect(fromPg).toEqual(want);
  });

  test("renamed fields, JSON and dates on each dialect", () => {
    const beat = { process_id: "p", host: "h", pid: 1, agents: ["risk"], groups: [{ group: "g", topics: ["t"] }], version: "1", bus: "memory", store: "sqlite", url: null, started_at: T0, last_beat: T0 };
    const c = lite("process_heartbeats");
    const v = c.values(beat);
    expect(v[c.insertColumns.indexOf("consumer_groups")]).toBe('[{"group":"g","topics":["t"]}]');
    expect(c.decode(Object.fromEntries(c.insertColumns.map((k, i) => [k, v[i]])))).toEqual(beat);
    expect(pg("process_heartbeats").values(beat)[c.insertColumns.indexOf("agents")]).toEqual({ json: ["risk"] });
    expect(pg("daily_pnl_summary").read("report_date", new Date("2013-10-07T00:00:00Z"))).toBe("2013-10-07");
    expect(() => lite("trades").value("nope", 1)).toThrow("trades has no column nope");
  });

  test("PostgreSQL column-array elements: ISO times, money to 6 decimals, JSON text", () => {
    const a = pg("audit_events");
    expect(a.insertColumns).toEqual(["event_id", "ts", "correlation_id", "event_type", "source", "symbol", "payload"]); // no seq
    expect(a.elements({ event_id: "e", ts: T0, correlation_id: "c", event_type: "audit", source: "s", symbol: "SPY", payload: { x: 1 } })).toEqual(
      ["e", new Date(T0).toISOString(), "c", "audit", "s", "SPY", '{"x":1}'],
    );
    expect(a.arrayTypes).toEqual(["text[]", "timestamptz[]", "text[]", "text[]", "text[]", "text[]", "jsonb[]"]);
    expect(pg("market_bars").elements({ symbol: "SPY", ts: T0, open: 1.1234567, high: 2, low: 1, close: 1.5, volume: 10 }, { source: "replay" })).toEqual(
      ["SPY", new Date(T0).toISOString(), 1.123457, 2, 1, 1.5, 10, "replay"],
    );
  });

  test("Where: absent filters add nothing; time bounds are encoded and clamped to year 9999", () => {
    expect(String(new Where(lite("trades")).eq("status", undefined).eq("symbol", "").cmp("ts", ">=", undefined))).toBe("");
    const w = new Where(lite("trades")).eq("symbol", "SPY").cmp("ts", ">=", Date.parse("+010000-01-01T00:00:00Z")).when(true, "adopted_at IS NOT NULL");
    expect(String(w)).toBe("WHERE symbol = ? AND ts >= ? AND adopted_at IS NOT NULL");
    expect(w.params).toEqual(["SPY", new Date(MAX_TS).toISOString()]);
    expect(new Where(pg("trades")).cmp("ts", "<", T0).params).toEqual([new Date(T0)]);
  });
});
