import { describe, expect, test } from "bun:test";
import { Deduper } from "../../src/bus/dedupe";
import { barCorrelations, timeId } from "../../src/core/ids";

describe("Deduper (bounded, O(1))", () => {
  test("a repeat is refused while held, and the oldest id leaves first at capacity", () => {
    const d = new Deduper(3);
    expect(["a", "b", "c"].map((x) => d.first("h", x))).toEqual([true, true, true]);
    expect(d.first("h", "a")).toBe(false);
    expect(d.first("h", "d")).toBe(true); // evicts a (oldest)
    expect(d.size("h")).toBe(3);
    expect(d.first("h", "b")).toBe(false); // still held
    expect(d.first("h", "a")).toBe(true); // a was evicted, so it is new again (evicts b)
    expect(d.first("h", "b")).toBe(true); // b was evicted by a (evicts c)
    expect(d.first("h", "c")).toBe(true);
    expect(d.first("h", "d")).toBe(true);
  });

  test("handlers are separate; forget makes an id new again without corrupting the ring", () => {
    const d = new Deduper(2);
    expect(d.first("h1", "x")).toBe(true);
    expect(d.first("h2", "x")).toBe(true);
    d.forget("h1", "x");
    expect(d.size("h1")).toBe(0);
    expect(d.first("h1", "x")).toBe(true); // re-added into the next slot
    expect(d.first("h1", "y")).toBe(true); // the ring wraps onto x's old slot: x stays (its home moved)
    expect(d.first("h1", "x")).toBe(false);
    expect(d.first("h1", "z")).toBe(true); // evicts x (the oldest live id)
    expect(d.first("h1", "x")).toBe(true);
    expect(d.size("h1")).toBe(2);
  });

  test("a run past capacity keeps exactly the last `capacity` ids", () => {
    const cap = 1000;
    const d = new Deduper(cap);
    const n = 25_000;
    for (let i = 0; i < n; i++) expect(d.first("h", `e${i}`)).toBe(true);
    expect(d.size("h")).toBe(cap);
    for (let i = n - cap; i < n; i++) expect(d.first("h", `e${i}`)).toBe(false);
    expect(d.first("h", `e${n - cap - 1}`)).toBe(true);
  });
});

describe("timeId", () => {
  test("deterministic, UUIDv7-shaped, distinct per name, ordered by time", () => {
    const a = timeId(1_380_000_000_000, "x");
    expect(timeId(1_380_000_000_000, "x")).toBe(a);
    expect(timeId(1_380_000_000_000, "y")).not.toBe(a);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // the first 48 bits carry the time
    expect(parseInt(a.slice(0, 8) + a.slice(9, 13), 16)).toBe(1_380_000_000_000);
    const ids = [5, 60_000, 3_600_000, 1_380_000_000_000].map((t, i) => timeId(t, `n${9 - i}`));
    expect([...ids].sort()).toEqual(ids);
  });

  test("bar correlations: one id per run, symbol and bar time, time-ordered", () => {
    const c = barCorrelations("run1");
    const a = c("SPY", 1_380_000_000_000);
    expect(barCorrelations("run1")("SPY", 1_380_000_000_000)).toBe(a); // a replay of the same run tag: the same ids
    expect(c("SPY", 1_380_000_000_000)).toBe(a);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(a.slice(0, 8) + a.slice(9, 13), 16)).toBe(1_380_000_000_000);
    expect(c("SPY", 1_380_000_060_000)).not.toBe(a);
    expect(c("AIG", 1_380_000_000_000)).not.toBe(a);
    expect(barCorrelations("run2")("SPY", 1_380_000_000_000)).not.toBe(a);
    const ids = new Set<string>();
    for (const sym of ["SPY", "AIG", "BAC", "IBM"]) for (let i = 0; i < 10_000; i++) ids.add(c(sym, 1_380_000_000_000 + i * 60_000));
    expect(ids.size).toBe(40_000);
    const spy = [0, 1, 2, 3].map((i) => c("SPY", 1_380_000_000_000 + i * 60_000));
    expect([...spy].sort()).toEqual(spy);
  });

  test("no collisions over many names at one instant", () => {
    const s = new Set<string>();
    for (let i = 0; i < 100_000; i++) s.add(timeId(1_000, `corr|${i}`));
    expect(s.size).toBe(100_000);
  });
});

import { LatencyHistogram } from "../../src/obs/latency";
describe("LatencyHistogram", () => {
  test("percentiles within 2% of the exact ones, in constant memory", () => {
    const h = new LatencyHistogram();
    const xs: number[] = [];
    for (let i = 1; i <= 10_000; i++) {
      const v = (i % 997) * 0.013 + 0.001;
      xs.push(v);
      h.record(v);
    }
    xs.sort((a, b) => a - b);
    for (const p of [50, 90, 99]) {
      const exact = xs[Math.ceil((p / 100) * xs.length) - 1]!;
      expect(Math.abs(h.percentile(p) - exact) / exact).toBeLessThan(0.021);
    }
    expect(h.percentile(100)).toBe(xs[xs.length - 1]!);
    expect(new LatencyHistogram().percentile(50)).toBe(0);
  });
});

import { EventLog } from "../../src/bus/dedupe";
import { MemoryBus } from "../../src/bus/memory";
import { envelope } from "../../src/core/events";
describe("EventLog and the in-process bus's redelivery guard", () => {
  test("a repeat of the same event runs only the handlers that failed on it; once they succeed, nobody again", () => {
    const log = new EventLog<object>();
    const a = {}, b = {};
    expect(log.offer(a)).toBeNull();
    expect([...log.offer(a)!]).toEqual([]);
    log.failedOn(a, "h2");
    expect([...log.offer(a)!]).toEqual(["h2"]);
    log.succeededOn(a, "h2");
    expect([...log.offer(a)!]).toEqual([]);
    expect(log.offer(b)).toBeNull(); // another event
  });

  test("each log knows its own events: one event on two logs, a frozen event, a copy, and the mark stays invisible", () => {
    const l1 = new EventLog<object>(), l2 = new EventLog<object>();
    const e = envelope("market.raw", { ts: 1, correlation_id: "c", source: "t", symbol: "A", payload: { x: 1 } });
    expect(l1.offer(e)).toBeNull();
    expect(l2.offer(e)).toBeNull(); // first time on this log
    expect([...l1.offer(e)!]).toEqual([]);
    expect([...l2.offer(e)!]).toEqual([]);
    l2.failedOn(e, "h");
    expect([...l2.offer(e)!]).toEqual(["h"]);
    expect([...l1.offer(e)!]).toEqual([]);
    const frozen = Object.freeze({ ...e });
    expect(l1.offer(frozen)).toBeNull();
    expect([...l1.offer(frozen)!]).toEqual([]);
    const copy = { ...e, payload: { x: 2 } }; // a new event made from an offered one
    expect(l1.offer(copy)).toBeNull();
    expect(Object.keys(JSON.parse(JSON.stringify(e))).sort()).toEqual(["correlation_id", "id", "idempotency_key", "payload", "schema_version", "source", "symbol", "ts", "type"]);
    expect(e).toEqual(envelope("market.raw", { ts: 1, correlation_id: "c", source: "t", symbol: "A", payload: { x: 1 } }));
  });

  test("MemoryBus: after a handler fails, republishing the event re-runs that handler only", async () => {
    const errors: string[] = [];
    const bus = new MemoryBus((i) => void errors.push(i.handler));
    const runs: string[] = [];
    let fail = true;
    bus.subscribe("market.raw", "ok", () => void runs.push("ok"));
    bus.subscribe("market.raw", "flaky", () => {
      runs.push("flaky");
      if (fail) throw new Error("boom");
    });
    bus.subscribe("market.raw", "async", async () => void runs.push("async"));
    const e = envelope("market.raw", { ts: 1, correlation_id: "c", source: "t", symbol: "A", payload: {} });
    await bus.publish(e);
    expect(runs).toEqual(["ok", "flaky", "async"]);
    expect(errors).toEqual(["flaky"]);
    fail = false;
    await bus.publish(e);
    expect(runs).toEqual(["ok", "flaky", "async", "flaky"]);
    await bus.publish(e);
    expect(runs.length).toBe(4); // everybody has it now
  });
});
