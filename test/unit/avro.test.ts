import { describe, expect, test } from "bun:test";
import avro from "avsc";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Supervisor } from "../../src/agents/supervisor";
import { avroType, decodeEvent, encodeEvent, schemaText } from "../../src/bus/avro";
import { TOPICS, type Envelope } from "../../src/core/events";
import { ReplaySource } from "../../src/market/replay";
import { ROOT, tempHome, testSettings } from "../helpers";

/** Real events of every topic, from a short replay with execution on and a bad row. */
async function realEvents(): Promise<Envelope[]> {
  const h = tempHome();
  try {
    mkdirSync(join(h.home, ".tmp"), { recursive: true });
    writeFileSync(join(h.home, ".tmp", "APPROVE_EXECUTION"), "");
    const f = join(h.home, "bad.csv");
    writeFileSync(f, "ts,symbol,open,high,low,close,volume\n2013-10-07T13:30:00Z,SPY,1,2\n");
    const sup = new Supervisor({ settings: testSettings(h.home, { AWET_EXECUTION_DRY_RUN: "false" }) });
    await sup.init("avro");
    const seen: Envelope[] = [];
    const emit = sup.emit.bind(sup);
    (sup as any).emit = async (e: Envelope) => {
      seen.push(e);
      await emit(e);
    };
    (sup.ctx as any).emit = (sup as any).emit;
    await sup.runSource(new ReplaySource([join(ROOT, "data", "minute", "SPY.csv"), f], "max"));
    await sup.close();
    return seen;
  } finally {
    h.cleanup();
  }
}

describe("Avro encoding of events (schemas/*.avsc)", () => {
  test("every topic has a schema that parses", () => {
    for (const t of TOPICS) expect(avroType(t).name).toMatch(/^awet\./);
  });

  test("real pipeline events of every topic round-trip exactly", async () => {
    const events = await realEvents();
    const byTopic = new Map<string, Envelope[]>();
    for (const e of events) byTopic.set(e.type, [...(byTopic.get(e.type) ?? []), e]);
    for (const t of ["market.raw", "market.engineered", "predictions", "risk.approved", "risk.rejected", "execution.completed", "execution.blocked", "market.rejected", "audit"])
      expect([t, (byTopic.get(t) ?? []).length > 0]).toEqual([t, true]);
    for (const e of events) {
      const back = decodeEvent(e.type, encodeEvent(e));
      // undefined optional fields come back as null; compare through JSON with that mapping
      const norm = (x: unknown) => JSON.parse(JSON.stringify(x, (_k, v) => (v === undefined ? null : v)));
      if (e.type === "audit") expect(back).toEqual(e);
      else expect(norm(back)).toMatchObject(norm(e) as object);
    }
  }, 60_000);

  test("an event that does not match its schema is refused, naming the field", () => {
    const e = { id: "x", type: "market.raw", ts: 1, correlation_id: "c", idempotency_key: "k", source: "s", symbol: "SPY", schema_version: 1, payload: { symbol: "SPY", ts: 1, open: "NaN?", high: 1, low: 1, close: 1, volume: 1 } } as unknown as Envelope;
    expect(() => encodeEvent(e)).toThrow(/payload\.open/);
  });

  test("schema evolution: a v2 writer with a new optional field is read by v1, and v1 data by a v2 reader", () => {
    const v1 = avroType("risk.rejected");
    const s2 = JSON.parse(schemaText("risk.rejected"));
    s2.fields.find((f: any) => f.name === "payload").type.fields.push({ name: "gate", type: ["null", "string"], default: null });
    const v2 = avro.Type.forSchema(s2);
    const ev = { id: "i", type: "risk.rejected", ts: 5, correlation_id: "c", idempotency_key: "k", source: "Risk", symbol: "SPY", schema_version: 2, payload: { symbol: "SPY", side: "buy", reason: "no_position", detail: "d", gate: "sell_check" } };
    const fromV2 = decodeEvent("risk.rejected", v2.toBuffer(ev), v2);
    expect(fromV2.payload).toEqual({ symbol: "SPY", side: "buy", reason: "no_position", detail: "d" });
    const old = v1.toBuffer({ ...ev, schema_version: 1, payload: { symbol: "SPY", side: "buy", reason: "r", detail: "d" } });
    const readByV2 = v2.fromBuffer(old, v2.createResolver(v1)) as any;
    expect(readByV2.payload.gate).toBeNull();
  });
});
