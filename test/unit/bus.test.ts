import { describe, expect, test } from "bun:test";
import { MemoryBus } from "../../src/bus/memory";
import { envelope } from "../../src/core/events";

const ev = (symbol: string, n: number, type: "market.raw" | "market.engineered" = "market.raw") =>
  envelope(type, { ts: n, correlation_id: `${symbol}-${n}`, source: "t", symbol, payload: { n } });

describe("MemoryBus (beyond the EventBus contract in test/contract/bus.ts)", () => {
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
