import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { HeartbeatWriter, Watchtower, type WatchtowerOptions } from "../../src/agents/watchtower";
import type { Settings } from "../../src/config/load";
import { KafkaBus } from "../../src/bus/kafka";
import { MemoryBus } from "../../src/bus/memory";
import type { EventBus } from "../../src/bus/port";
import { envelope, type Envelope } from "../../src/core/events";
import { LLMClient } from "../../src/llm/client";
import { silentLogger } from "../../src/obs/log";
import { Metrics } from "../../src/obs/metrics";
import { SqliteStore } from "../../src/store/sqlite";
import { FakeOllama } from "../helpers/fake-ollama";
import { MemoryKafka } from "../helpers/memory-kafka";
import { tempHome, testSettings } from "../helpers";

const WALL0 = Date.parse("2026-01-05T15:00:00Z");
const bar = (n: number) => envelope("market.raw", { ts: n, correlation_id: `c${n}`, source: "t", symbol: "SPY", payload: { symbol: "SPY", ts: n, open: 1, high: 1, low: 1, close: 1, volume: 1 } });

/** A handler that holds every event until the test opens the gate. */
function gated() {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  return { open, handler: async () => void (await gate) };
}

async function rig(bus: EventBus, env: Record<string, string>, llm?: (s: Settings, store: SqliteStore) => WatchtowerOptions["llm"]) {
  const h = tempHome();
  const settings = testSettings(h.home, { LLM_ENABLED: "false", AWET_EXPECTED_AGENTS: "watchtower", AWET_MAX_CONSUMER_LAG: "3", AWET_LAG_GRACE_SECONDS: "10", ...env });
  const store = new SqliteStore(join(h.home, "awet.db"));
  await store.migrate();
  const metrics = new Metrics();
  const clock = { t: WALL0 };
  const now = () => clock.t;
  const audit: Envelope[] = [];
  const emit = async (e: Envelope) => {
    audit.push(e);
    await store.appendAudit([e]);
  };
  const beat = new HeartbeatWriter({ store, bus, settings, processId: "p1", agents: ["watchtower"], version: "t", url: null, log: silentLogger, now });
  const w = new Watchtower({ settings, store, bus, metrics, log: silentLogger, processId: "p1", emit, now, llm: llm?.(settings, store) });
  const scrape = async () => metrics.registry.metrics();
  const round = async (advanceMs: number) => {
    clock.t += advanceMs;
    await beat.beat();
    return (await w.tick())!;
  };
  const cleanup = async () => {
    await w.close();
    await store.close();
    h.cleanup();
  };
  return { settings, store, metrics, w, audit, round, scrape, cleanup };
}

describe("Watchtower on the in-process bus", () => {
  test("a slow handler's queue depth is its lag: it rises, stays above the limit past the grace period (unhealthy, audited), then drains (recovered)", async () => {
    const bus = new MemoryBus(() => {});
    const slow = gated();
    bus.subscribe("market.raw", "slow", slow.handler);
    const r = await rig(bus, {});
    try {
      for (let i = 1; i <= 5; i++) void bus.publish(bar(i));
      let v = await r.round(0);
      expect(v.lag_total).toEqual({ "awet.slow": 5 });
      expect(v.healthy).toBe(true); // above the limit, but not yet for longer than lag_grace_seconds
      expect(await r.scrape()).toContain('awet_consumer_lag{group="awet.slow",topic="market.raw",partition="0"} 5');
      expect(await r.scrape()).toContain('awet_consumer_lag_total{group="awet.slow"} 5');
      v = await r.round(11_000);
      expect(v.healthy).toBe(false);
      expect(v.problems.map((p) => p.key)).toEqual(["lag:awet.slow"]);
      expect(v.problems[0]!.message).toContain("lags 5 messages on market.raw[0] (limit 3), above the limit for 11 s");
      expect(await r.scrape()).toContain("awet_deployment_healthy 0");
      slow.open();
      await bus.drain();
      v = await r.round(1_000);
      expect(v.healthy).toBe(true);
      expect(v.lag_total).toEqual({ "awet.slow": 0 });
      expect((await r.store.listLag())[0]).toMatchObject({ group: "awet.slow", committed: 5, end: 5, lag: 0, above_since: null, observed_by: "p1" });
      expect(await r.scrape()).toContain('awet_consumer_lag{group="awet.slow",topic="market.raw",partition="0"} 0');
      expect(await r.scrape()).toContain("awet_deployment_healthy 1");
      // one audit event when it turned bad, one when it recovered, stored with the rest of the audit trail
      expect(r.audit.map((e) => [(e.payload as any).event, (e.payload as any).condition])).toEqual([["watchtower_condition_bad", "lag:awet.slow"], ["watchtower_condition_recovered", "lag:awet.slow"]]);
      const stored = await r.store.auditByCorrelation(r.audit[0]!.correlation_id);
      expect(stored.map((x) => x.source)).toEqual(["Watchtower"]);
      expect(r.w.changes.map((c) => c.state)).toEqual(["bad", "recovered"]);
    } finally {
      await r.cleanup();
    }
  });

  test("with the LLM on, a change gets a one-paragraph summary traced as WatchtowerAgent, asked after the round has finished", async () => {
    const fake = new FakeOllama();
    let release!: () => void;
    fake.next.push({ kind: "held", until: new Promise<void>((res) => (release = res)), text: "The risk agent has no live process; start it." });
    const bus = new MemoryBus(() => {});
    const r = await rig(bus, { LLM_ENABLED: "true", OLLAMA_HOST: fake.url, AWET_EXPECTED_AGENTS: "watchtower,risk" }, (s, store) => ({
      client: new LLMClient(s.llm, { log: silentLogger, sink: store }),
      state: { enabled: true, reachable: true, detail: "ok", checkedAt: Date.now() },
    }));
    try {
      const v = await r.round(0); // the round returns while the LLM call is still held
      expect(v.problems.map((p) => p.key)).toEqual(["missing:risk"]);
      expect(r.w.lastSummary).toBeNull();
      expect(r.audit.map((e) => (e.payload as any).event)).toEqual(["watchtower_condition_bad"]);
      release();
      await r.w.idle();
      expect(r.w.lastSummary!.text).toBe("The risk agent has no live process; start it.");
      const traces = await r.store.listLlmTraces({ agent: "WatchtowerAgent" });
      expect(traces.map((t) => [t.status, t.correlation_id])).toEqual([["ok", r.audit[0]!.correlation_id]]);
      expect(fake.requests[0].messages[1].content).toContain("no process runs the expected agent risk");
      expect(r.audit.map((e) => (e.payload as any).event)).toEqual(["watchtower_condition_bad", "watchtower_summary"]);
      // nothing changed in the next round: no new audit event, no new LLM call
      await r.round(1_000);
      await r.w.idle();
      expect(fake.requests.length).toBe(1);
      expect(r.audit.length).toBe(2);
    } finally {
      await r.cleanup();
      fake.stop();
    }
  });

  test("with the LLM unreachable, the summary is traced as skipped and the audit events still land", async () => {
    const bus = new MemoryBus(() => {});
    const r = await rig(bus, { LLM_ENABLED: "true", OLLAMA_HOST: "http://127.0.0.1:1", AWET_EXPECTED_AGENTS: "watchtower,risk" }, (s, store) => ({
      client: new LLMClient(s.llm, { log: silentLogger, sink: store }),
      state: { enabled: true, reachable: false, detail: "unreachable at http://127.0.0.1:1", checkedAt: Date.now() },
    }));
    try {
      await r.round(0);
      await r.w.idle();
      const traces = await r.store.listLlmTraces({ agent: "WatchtowerAgent" });
      expect(traces.map((t) => t.status)).toEqual(["skipped"]);
      expect(r.audit.map((e) => (e.payload as any).event)).toEqual(["watchtower_condition_bad"]);
    } finally {
      await r.cleanup();
    }
  });
});

describe("Watchtower on Kafka (kafkajs admin: fetchOffsets / fetchTopicOffsets on the in-memory stand-in)", () => {
  test("lag per group, topic and partition: a blocked consumer with nothing committed, another process's group with no consumer, retention's low watermark; then the consumer catches up", async () => {
    const k = new MemoryKafka(1);
    const bus = new KafkaBus({ brokers: [], client: k as any, topicPrefix: "t19.", onError: () => {} });
    const slow = gated();
    bus.subscribe("market.raw", "slow", slow.handler);
    await bus.start();
    const r = await rig(bus, { AWET_MAX_CONSUMER_LAG: "100" });
    try {
      // another process of the deployment reports a group of its own; nothing consumes it here
      await r.store.saveHeartbeat({ process_id: "p2", host: "h2", pid: 2, agents: ["risk"], groups: [{ group: "awet.Risk", topics: ["t19.predictions"] }], version: "t", bus: "kafka", store: "sqlite", url: null, started_at: WALL0, last_beat: WALL0 });
      await (k.producer() as any).send({ topic: "t19.predictions", messages: [1, 2, 3].map((i) => ({ key: "SPY", value: Buffer.from(`p${i}`) })) });
      const p = k.topics.get("t19.predictions")!.findIndex((m) => m.length > 0); // key SPY: one partition of three
      k.low.set(`t19.predictions|${p}`, 1); // retention removed the first message
      for (let i = 1; i <= 4; i++) await bus.publish(bar(i));
      let v = await r.round(0);
      const rows = await r.store.listLag();
      expect(rows.length).toBe(6); // every partition of each group's topic, the empty ones with lag 0
      expect(rows.filter((x) => x.end === 0).every((x) => x.lag === 0 && x.committed === null)).toBe(true);
      const lag = rows.filter((x) => x.end > 0).map((x) => [x.group, x.topic, x.partition, x.committed, x.end, x.lag]);
      expect(lag).toEqual([["awet.Risk", "t19.predictions", p, null, 3, 2], ["awet.slow", "t19.market.raw", p, null, 4, 4]]);
      expect(v.lag_total).toEqual({ "awet.Risk": 2, "awet.slow": 4 });
      expect(v.processes.map((p) => [p.process_id, p.lag_total])).toEqual([["p1", 4], ["p2", 2]]);
      const text = await r.scrape();
      expect(text).toContain(`awet_consumer_lag{group="awet.slow",topic="t19.market.raw",partition="${p}"} 4`);
      expect(text).toContain('awet_consumer_lag_total{group="awet.Risk"} 2');
      expect(text).toContain("awet_consumer_lag_max 100");
      slow.open();
      await bus.drain(5_000);
      v = await r.round(30_000);
      expect((await r.store.listLag()).find((x) => x.group === "awet.slow" && x.partition === p)).toMatchObject({ committed: 4, end: 4, lag: 0 });
      expect(v.lag_total["awet.slow"]).toBe(0);
    } finally {
      await bus.close();
      await r.cleanup();
    }
  });

  test("with the Kafka admin unreachable the round still judges the deployment from the heartbeats, reports why, and measures again once it answers", async () => {
    const k = new MemoryKafka(1);
    const bus = new KafkaBus({ brokers: [], client: k as any, topicPrefix: "t19c.", onError: () => {} });
    bus.subscribe("market.raw", "h", () => {});
    await bus.start();
    const r = await rig(bus, {});
    const realAdmin = k.admin.bind(k);
    try {
      k.admin = () => ({ connect: async () => Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:9092")), disconnect: async () => {} }) as any;
      const v = await r.round(0);
      expect(v.healthy).toBe(true); // the watchtower process itself beats
      expect(v.lag_total).toEqual({});
      expect(r.w.lagErrors).toEqual(["kafka admin: connect ECONNREFUSED 127.0.0.1:9092"]);
      expect(r.w.status.lastError).toBe("kafka admin: connect ECONNREFUSED 127.0.0.1:9092");
      k.admin = realAdmin;
      const v2 = await r.round(30_000);
      expect(v2.lag_total).toEqual({ "awet.h": 0 });
      expect(r.w.lagErrors).toEqual([]);
      expect(r.w.status.lastError).toBeNull();
    } finally {
      k.admin = realAdmin;
      await bus.close();
      await r.cleanup();
    }
  });

  test("an unreadable topic is reported and the other groups are still measured", async () => {
    const k = new MemoryKafka(1);
    const bus = new KafkaBus({ brokers: [], client: k as any, topicPrefix: "t19b.", onError: () => {} });
    bus.subscribe("market.raw", "h", () => {});
    await bus.start();
    const r = await rig(bus, {});
    try {
      await r.store.saveHeartbeat({ process_id: "p2", host: "h2", pid: 2, agents: ["risk"], groups: [{ group: "awet.Gone", topics: ["no.such.topic"] }], version: "t", bus: "kafka", store: "sqlite", url: null, started_at: WALL0, last_beat: WALL0 });
      const v = await r.round(0);
      expect(Object.keys(v.lag_total)).toEqual(["awet.h"]);
      expect(r.w.lagErrors).toEqual(["end offsets of no.such.topic: This server does not host this topic-partition (no.such.topic)"]);
    } finally {
      await bus.close();
      await r.cleanup();
    }
  });
});
