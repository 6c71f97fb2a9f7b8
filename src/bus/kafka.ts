import { SchemaRegistry, SchemaType } from "@kafkajs/confluent-schema-registry";
import { Kafka, logLevel, type Admin, type Consumer, type Producer } from "kafkajs";
import { errorMessage } from "../core/errors";
import { SCHEMA_VERSION, TOPICS, type Envelope, type Topic } from "../core/events";
import type { Logger } from "../obs/log";
import { decodeEvent, encodeEvent, SCHEMA_VERSION_HEADER, schemaText } from "./avro";
import { Deduper } from "./dedupe";
import type { EventBus, Handler, HandlerErrorSink } from "./port";

export interface KafkaBusOptions {
  brokers: string[];
  clientId?: string;
  /** Consumer groups are `<groupPrefix>.<handler>`: one group per agent. */
  groupPrefix?: string;
  /** Topic names are `<topicPrefix><topic>` (tests use a fresh prefix per run). */
  topicPrefix?: string;
  partitions?: number;
  replicationFactor?: number;
  schemaRegistryUrl?: string;
  /** Attempts of a failing handler before its message is parked on `<topic>.dlq`. */
  maxAttempts?: number;
  log?: Logger;
  onError: HandlerErrorSink;
  onTiming?: (topic: Topic, handler: string, seconds: number) => void;
  /** A kafkajs-compatible client; tests pass an in-memory one, production leaves it unset. */
  client?: Pick<Kafka, "admin" | "producer" | "consumer">;
}

interface Sub {
  topic: Topic;
  name: string;
  handler: Handler;
}

/**
 * The EventBus on Kafka (kafkajs). One topic per event type, created at start when missing; key =
 * symbol, so one symbol stays on one partition, in order; an idempotent producer; one consumer
 * group per agent; offsets committed only after the handler succeeded, so a crash re-delivers and
 * the handler (deduplicated on event id) runs once. Events are Avro (schemas/*.avsc) with the
 * schema version in a header, or Schema-Registry framed when SCHEMA_REGISTRY_URL is set. A poison
 * message — undecodable, or a handler that keeps failing — is parked on `<topic>.dlq` with the
 * error and committed, never retried forever.
 */
export class KafkaBus implements EventBus {
  readonly kind = "kafka";
  private kafka: Pick<Kafka, "admin" | "producer" | "consumer">;
  private producer: Producer | null = null;
  private consumers: Consumer[] = [];
  private subs: Sub[] = [];
  private dedupe = new Deduper();
  private registry: SchemaRegistry | null = null;
  private registryIds = new Map<Topic, number>();
  private produced = 0;
  private handled = new Map<string, number>(); // handler -> messages finished (ok or parked)
  private topicsOf = new Map<string, Set<Topic>>();
  private producedPerTopic = new Map<Topic, number>();

  constructor(private o: KafkaBusOptions) {
    this.kafka = o.client ?? new Kafka({ clientId: o.clientId ?? "awet", brokers: o.brokers, logLevel: logLevel.NOTHING });
    if (o.schemaRegistryUrl) this.registry = new SchemaRegistry({ host: o.schemaRegistryUrl });
  }

  name(topic: Topic): string {
    return `${this.o.topicPrefix ?? ""}${topic}`;
  }

  subscribe(topic: Topic, name: string, handler: Handler): void {
    this.subs.push({ topic, name, handler });
    const s = this.topicsOf.get(name) ?? new Set<Topic>();
    s.add(topic);
    this.topicsOf.set(name, s);
  }

  async start(): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const existing = new Set(await admin.listTopics());
      const want = TOPICS.flatMap((t) => [this.name(t), `${this.name(t)}.dlq`]).filter((t) => !existing.has(t));
      if (want.length)
        await admin.createTopics({
          waitForLeaders: true,
          topics: want.map((topic) => ({ topic, numPartitions: this.o.partitions ?? 3, replicationFactor: this.o.replicationFactor ?? 1 })),
        });
    } finally {
      await admin.disconnect();
    }
    if (this.registry)
      for (const t of TOPICS) {
        const { id } = await this.registry.register({ type: SchemaType.AVRO, schema: schemaText(t) }, { subject: `${this.name(t)}-value` });
        this.registryIds.set(t, id);
      }
    this.producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    await this.producer.connect();
    for (const [name, topics] of this.topicsOf) {
      const consumer = this.kafka.consumer({ groupId: `${this.o.groupPrefix ?? "awet"}.${name}`, allowAutoTopicCreation: false });
      await consumer.connect();
      await consumer.subscribe({ topics: [...topics].map((t) => this.name(t)), fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachMessage: async ({ topic, partition, message }) => {
          const t = topic.slice((this.o.topicPrefix ?? "").length) as Topic;
          await this.consume(name, t, message.value ?? Buffer.alloc(0), message.headers ?? {});
          await consumer.commitOffsets([{ topic, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
          this.handled.set(name, (this.handled.get(name) ?? 0) + 1);
        },
      });
      this.consumers.push(consumer);
    }
  }

  /** This process's consumer groups and the Kafka topics each reads (Watchtower polls their lag). */
  groups(): { group: string; topics: string[] }[] {
    return [...this.topicsOf].map(([name, ts]) => ({ group: `${this.o.groupPrefix ?? "awet"}.${name}`, topics: [...ts].map((t) => this.name(t)) }));
  }

  /** An admin client on this bus's connection settings (not connected yet). */
  admin(): Admin {
    return this.kafka.admin();
  }

  private async decode(topic: Topic, value: Buffer): Promise<Envelope> {
    if (this.registry) {
      const v = await this.registry.decode(value);
      return topic === "audit" ? { ...v, payload: JSON.parse(v.payload.data) } : v;
    }
    return decodeEvent(topic, value);
  }

  /** Deliver one message to one handler: dedupe, retry a few times, then park on the DLQ. */
  private async consume(name: string, topic: Topic, value: Buffer, headers: Record<string, unknown>): Promise<void> {
    let e: Envelope;
    try {
      e = await this.decode(topic, value);
    } catch (err) {
      return this.park(topic, name, value, `undecodable message (schema version ${String(headers[SCHEMA_VERSION_HEADER] ?? "?")}): ${errorMessage(err)}`, null);
    }
    if (!this.dedupe.first(name, e.id)) return;
    const sub = this.subs.filter((s) => s.name === name && s.topic === topic);
    const attempts = this.o.maxAttempts ?? 3;
    for (const s of sub) {
      for (let a = 1; ; a++) {
        const t0 = performance.now();
        try {
          await s.handler(e);
          this.o.onTiming?.(topic, name, (performance.now() - t0) / 1000);
          break;
        } catch (err) {
          if (a < attempts) {
            await new Promise((r) => setTimeout(r, 100 * a));
            continue;
          }
          await this.o.onError({ topic, handler: name, event: e, error: err });
          await this.park(topic, name, value, errorMessage(err), e);
          break;
        }
      }
    }
  }

  private async park(topic: Topic, handler: string, value: Buffer, error: string, e: Envelope | null): Promise<void> {
    this.o.log?.error({ topic, handler, event_id: e?.id, err: error }, "message parked on the DLQ");
    await this.producer!.send({
      topic: `${this.name(topic)}.dlq`,
      messages: [{ key: e?.symbol ?? null, value, headers: { "awet-error": error.slice(0, 1000), "awet-handler": handler, "awet-event-id": e?.id ?? "" } }],
    });
  }

  async publish(e: Envelope): Promise<void> {
    if (!this.producer) throw new Error("KafkaBus.publish before start()");
    const id = this.registryIds.get(e.type);
    const value = id !== undefined ? await this.registry!.encode(id, e.type === "audit" ? { ...e, payload: { event: String((e.payload as any)?.event ?? "audit"), data: JSON.stringify(e.payload) } } : e) : encodeEvent(e);
    await this.producer.send({
      topic: this.name(e.type),
      messages: [{ key: e.symbol, value, headers: { [SCHEMA_VERSION_HEADER]: String(e.schema_version ?? SCHEMA_VERSION), "awet-event-id": e.id } }],
    });
    this.produced++;
    this.producedPerTopic.set(e.type, (this.producedPerTopic.get(e.type) ?? 0) + 1);
  }

  /** Wait until the local consumers have finished what this process produced (bounded). */
  async drain(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const behind = () => [...this.topicsOf].some(([name, ts]) => (this.handled.get(name) ?? 0) < [...ts].reduce((n, t) => n + (this.producedPerTopic.get(t) ?? 0), 0));
    while (behind() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }

  async close(): Promise<void> {
    for (const c of this.consumers) await c.disconnect().catch(() => undefined);
    await this.producer?.disconnect().catch(() => undefined);
  }
}
