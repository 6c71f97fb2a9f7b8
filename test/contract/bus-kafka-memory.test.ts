import { describe, expect, test } from "bun:test";
import { KafkaBus } from "../../src/bus/kafka";
import { envelope, TOPICS } from "../../src/core/events";
import { MemoryKafka } from "../helpers/memory-kafka";
import { busContract } from "./bus";

// KafkaBus's own logic (Avro framing, key = symbol, commit after success, DLQ, dedupe) over an
// in-memory kafkajs stand-in; the real-broker run is bus-kafka.test.ts.
busContract("kafka logic on an in-memory kafkajs", (onError) => new KafkaBus({ brokers: [], client: new MemoryKafka() as any, onError, maxAttempts: 2 }));

const ev = (n: number) => envelope("market.raw", { ts: n, correlation_id: `c${n}`, source: "t", symbol: "SPY", payload: { symbol: "SPY", ts: n, open: 1, high: 1, low: 1, close: 1, volume: 1 } });

describe("KafkaBus delivery semantics", () => {
  test("a poison message is parked on <topic>.dlq with the error and committed, not retried forever", async () => {
    const k = new MemoryKafka();
    const errors: string[] = [];
    const bus = new KafkaBus({ brokers: [], client: k as any, onError: (i) => void errors.push(i.handler), maxAttempts: 2 });
    let calls = 0;
    bus.subscribe("market.raw", "h", () => {
      calls++;
      throw new Error("always fails");
    });
    await bus.start();
    await bus.publish(ev(1));
    await bus.drain(5_000);
    expect(calls).toBe(2);
    expect(errors).toEqual(["h"]);
    const dlq = k.topics.get("market.raw.dlq")!.flat();
    expect(dlq.length).toBe(1);
    expect(dlq[0]!.headers["awet-error"]).toBe("always fails");
    // an undecodable message goes to the DLQ too
    await (k.producer() as any).send({ topic: "market.raw", messages: [{ key: "SPY", value: Buffer.from("not avro") }] });
    await Bun.sleep(50);
    expect(k.topics.get("market.raw.dlq")!.flat().length).toBe(2);
    await bus.close();
  });

  test("offsets are committed only after the handler succeeded: a crash before the commit re-delivers, and the handler's effect happens once", async () => {
    const k = new MemoryKafka(1);
    const effects = new Map<string, number>(); // an idempotent side effect keyed by event id, like trades.idempotency_key
    const mk = () => {
      const bus = new KafkaBus({ brokers: [], client: k as any, groupPrefix: "g", onError: () => {} });
      bus.subscribe("market.raw", "writer", (e) => void effects.set(e.id, (effects.get(e.id) ?? 0) + (effects.has(e.id) ? 0 : 1)));
      return bus;
    };
    const a = mk();
    await a.start();
    k.consumers[0]!.crashNext = true; // process dies after handling, before committing
    await a.publish(ev(1));
    await Bun.sleep(50);
    expect(k.committed.get("g.writer|market.raw|0") ?? 0).toBe(0);
    const b = mk(); // the restarted process: same group, fresh memory
    await b.start();
    await Bun.sleep(50);
    expect(k.committed.get("g.writer|market.raw|0")).toBe(1); // re-delivered, handled, committed
    expect([...effects.values()]).toEqual([1]);
    await a.close();
    await b.close();
  });
});

describe("KafkaBus with a Schema Registry (fake registry over HTTP on loopback)", () => {
  test("schemas are registered per topic and messages are registry-framed, round-tripping through a consumer", async () => {
    const schemas: string[] = [];
    const subjects: string[] = [];
    const reg = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(req) {
        const u = new URL(req.url);
        const m = /^\/subjects\/([^/]+)\/versions$/.exec(u.pathname);
        if (req.method === "POST" && m) {
          const body = (await req.json()) as { schema: string };
          subjects.push(decodeURIComponent(m[1]!));
          let id = schemas.indexOf(body.schema) + 1;
          if (id === 0) id = schemas.push(body.schema);
          return Response.json({ id }, { headers: { "content-type": "application/vnd.schemaregistry.v1+json" } });
        }
        if (u.pathname.startsWith("/config")) {
          const body = req.method === "PUT" ? ((await req.json()) as { compatibility: string }) : { compatibility: "BACKWARD" };
          return Response.json({ compatibility: body.compatibility, compatibilityLevel: body.compatibility }, { headers: { "content-type": "application/vnd.schemaregistry.v1+json" } });
        }
        const s = /^\/schemas\/ids\/(\d+)$/.exec(u.pathname);
        if (req.method === "GET" && s) return Response.json({ schema: schemas[Number(s[1]) - 1] }, { headers: { "content-type": "application/vnd.schemaregistry.v1+json" } });
        return Response.json({ error_code: 40401, message: "not found" }, { status: 404 });
      },
    });
    try {
      const k = new MemoryKafka(1);
      const bus = new KafkaBus({ brokers: [], client: k as any, schemaRegistryUrl: `http://127.0.0.1:${reg.port}`, onError: () => {} });
      const got: number[] = [];
      bus.subscribe("market.raw", "h", (e) => void got.push(e.ts));
      await bus.start();
      expect(subjects).toContain("market.raw-value");
      expect([...subjects].sort()).toEqual(TOPICS.map((t) => `${t}-value`).sort()); // one subject per topic
      await bus.publish(ev(42));
      await bus.drain(5_000);
      expect(got).toEqual([42]);
      const raw = k.topics.get("market.raw")!.flat()[0]!.value;
      expect(raw[0]).toBe(0); // Confluent wire format: magic byte, then the schema id
      await bus.close();
    } finally {
      reg.stop(true);
    }
  });
});
