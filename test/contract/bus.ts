import { describe, expect, test } from "bun:test";
import type { EventBus, HandlerErrorSink } from "../../src/bus/port";
import { envelope, type Envelope } from "../../src/core/events";

const bar = (symbol: string, n: number) => ({ symbol, ts: n, open: 1, high: 1, low: 1, close: n, volume: 1 });
const features = { bars_seen: 1, ret_1: null, log_ret_1: null, sma_fast: null, sma_slow: null, ema_fast: null, ema_slow: null, rsi: null, realized_vol: null, vwap_distance: null, volume_z: null, warm: false };
/** Valid events of the real schemas (the Kafka adapters encode them with Avro). */
const ev = (symbol: string, n: number, type: "market.raw" | "market.engineered" = "market.raw") =>
  type === "market.raw"
    ? envelope(type, { ts: n, correlation_id: `${symbol}-${n}`, source: "contract", symbol, payload: bar(symbol, n) })
    : envelope(type, { ts: n, correlation_id: `${symbol}-${n}`, source: "contract", symbol, payload: { bar: bar(symbol, n), features } });

/**
 * The EventBus contract: every adapter passes it unchanged. `make` returns a fresh bus wired to
 * the given error sink (subscribe, then start).
 */
export function busContract(name: string, make: (onError: HandlerErrorSink) => EventBus) {
  describe(`EventBus contract: ${name}`, () => {
    test("events of one symbol are handled in publish order", async () => {
      const bus = make(() => {});
      const seen: string[] = [];
      bus.subscribe("market.raw", "order", async (e) => {
        await Bun.sleep(e.ts % 2 === 0 ? 3 : 0);
        seen.push(`${e.symbol}${e.ts}`);
      });
      await bus.start();
      for (let i = 0; i < 8; i++) await Promise.all([bus.publish(ev("A", i)), bus.publish(ev("B", i))]);
      await bus.drain();
      expect(seen.filter((s) => s.startsWith("A"))).toEqual(Array.from({ length: 8 }, (_, i) => `A${i}`));
      expect(seen.filter((s) => s.startsWith("B"))).toEqual(Array.from({ length: 8 }, (_, i) => `B${i}`));
      await bus.close();
    }, 60_000);

    test("a handler's own publish reaches the next stage", async () => {
      const bus = make(() => {});
      const got: number[] = [];
      bus.subscribe("market.raw", "stage1", (e) => bus.publish(ev(e.symbol, e.ts, "market.engineered")));
      bus.subscribe("market.engineered", "stage2", (e) => void got.push(e.ts));
      await bus.start();
      for (let i = 1; i <= 3; i++) await bus.publish(ev("A", i));
      await bus.drain();
      await bus.drain();
      expect(got).toEqual([1, 2, 3]);
      await bus.close();
    }, 60_000);

    test("a throwing handler is reported with its event; later events and handlers still run", async () => {
      const errors: { handler: string; event: Envelope }[] = [];
      const bus = make((i) => void errors.push(i));
      const ok: number[] = [];
      bus.subscribe("market.raw", "bad", (e) => {
        if (e.ts === 1) throw new Error("boom");
      });
      bus.subscribe("market.raw", "good", (e) => void ok.push(e.ts));
      await bus.start();
      await bus.publish(ev("A", 1));
      await bus.publish(ev("A", 2));
      await bus.drain();
      expect(ok).toEqual([1, 2]);
      expect(errors.map((x) => [x.handler, x.event.ts])).toEqual([["bad", 1]]);
      await bus.close();
    }, 60_000);

    test("a redelivered event (same id) reaches each handler once", async () => {
      const bus = make(() => {});
      let n = 0;
      bus.subscribe("market.raw", "count", () => void n++);
      await bus.start();
      const e = ev("A", 7);
      await bus.publish(e);
      await bus.publish(e);
      await bus.drain();
      expect(n).toBe(1);
      await bus.close();
    }, 60_000);
  });
}
