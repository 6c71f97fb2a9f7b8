import { describe, expect, test } from "bun:test";
import { MemoryBus } from "../../src/bus/memory";
import { envelope, type Envelope } from "../../src/core/events";

const ev = (symbol: string, n: number, type: "market.raw" | "market.engineered" = "market.raw") =>
  envelope(type, { ts: n, correlation_id: `${symbol}-${n}`, source: "t", symbol, payload: { n } });

describe("MemoryBus", () => {
  test("events of one symbol are handled in publish order even when handlers take different times", async () => {
    const bus = new MemoryBus(() => {});
    const seen: string[] = [];
    bus.subscribe("market.raw", "h", async (e) => {
      const n = (e.payload as { n: number }).n;
      await Bun.sleep(n % 2 === 0 ? 5 : 0);
      seen.push(`${e.symbol}${n}`);
    });
    const ps = [];
    for (let i = 0; i < 6; i++) ps.push(bus.publish(ev("A", i)), bus.publish(ev("B", i)));
    await Promise.all(ps);
    expect(seen.filter((s) => s.startsWith("A"))).toEqual(["A0", "A1", "A2", "A3", "A4", "A5"]);
    expect(seen.filter((s) => s.startsWith("B"))).toEqual(["B0", "B1", "B2", "B3", "B4", "B5"]);
  });

  test("a publish from inside a handler is delivered depth-first, without deadlock", async () => {
    const bus = new MemoryBus(() => {});
    const seen: string[] = [];
    bus.subscribe("market.raw", "stage1", async (e) => {
      seen.push(`raw${e.ts}`);
      await bus.publish(ev(e.symbol, e.ts, "market.engineered"));
      seen.push(`raw${e.ts}-done`);
    });
    bus.subscribe("market.engineered", "stage2", (e) => void seen.push(`eng${e.ts}`));
    await bus.publish(ev("A", 1));
    await bus.publish(ev("A", 2));
    expect(seen).toEqual(["raw1", "eng1", "raw1-done", "raw2", "eng2", "raw2-done"]);
  });

  test("a throwing handler is reported with the event, and later handlers and events still run", async () => {
    const errors: { handler: string; event: Envelope; error: unknown }[] = [];
    const bus = new MemoryBus((i) => void errors.push(i));
    const seen: number[] = [];
    bus.subscribe("market.raw", "bad", (e) => {
      if (e.ts === 1) throw new Error("boom");
    });
    bus.subscribe("market.raw", "good", (e) => void seen.push(e.ts));
    await bus.publish(ev("A", 1));
    await bus.publish(ev("A", 2));
    expect(seen).toEqual([1, 2]);
    expect(errors.length).toBe(1);
    expect(errors[0]!.handler).toBe("bad");
    expect(errors[0]!.event.ts).toBe(1);
    expect((errors[0]!.error as Error).message).toBe("boom");
  });

  test("drain waits for everything queued", async () => {
    const bus = new MemoryBus(() => {});
    let done = 0;
    bus.subscribe("market.raw", "slow", async () => {
      await Bun.sleep(2);
      done++;
    });
    for (let i = 0; i < 5; i++) void bus.publish(ev("A", i));
    await bus.drain();
    expect(done).toBe(5);
  });
});
