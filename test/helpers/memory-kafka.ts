/**
 * A small in-memory stand-in for the parts of kafkajs that KafkaBus uses: topics with partitions
 * (key-hashed), consumer groups with committed offsets, and delivery that resumes from the last
 * committed offset — so a consumer that "crashes" before committing gets the message again.
 * It exercises KafkaBus's own logic without a broker; the real-broker run is the contract suite
 * with AWET_TEST_KAFKA_BROKERS.
 */
type Msg = { key: string | null; value: Buffer; headers: Record<string, string>; offset: string };

export class MemoryKafka {
  topics = new Map<string, Msg[][]>();
  committed = new Map<string, number>(); // group|topic|partition -> next offset
  low = new Map<string, number>(); // topic|partition -> low watermark (retention), default 0
  consumers: MemConsumer[] = [];
  constructor(private partitions = 3) {}

  admin() {
    return {
      connect: async () => {},
      disconnect: async () => {},
      listTopics: async () => [...this.topics.keys()],
      createTopics: async ({ topics }: { topics: { topic: string; numPartitions?: number }[] }) => {
        for (const t of topics) if (!this.topics.has(t.topic)) this.topics.set(t.topic, Array.from({ length: t.numPartitions ?? this.partitions }, () => []));
        return true;
      },
      // As kafkajs: each partition's end offset (high = offset, the next message's) and low watermark.
      fetchTopicOffsets: async (topic: string) => {
        const parts = this.topics.get(topic);
        if (!parts) throw new Error(`This server does not host this topic-partition (${topic})`);
        return parts.map((p, partition) => ({ partition, offset: String(p.length), high: String(p.length), low: String(this.low.get(`${topic}|${partition}`) ?? 0) }));
      },
      // As kafkajs: the group's committed offset per partition of each topic asked for, "-1" when none.
      fetchOffsets: async ({ groupId, topics }: { groupId: string; topics?: string[] }) =>
        (topics ?? []).map((topic) => ({
          topic,
          partitions: (this.topics.get(topic) ?? []).map((_, partition) => ({ partition, offset: String(this.committed.get(`${groupId}|${topic}|${partition}`) ?? -1), metadata: null })),
        })),
    } as any;
  }

  producer() {
    return {
      connect: async () => {},
      disconnect: async () => {},
      send: async ({ topic, messages }: { topic: string; messages: { key: string | null; value: Buffer; headers?: Record<string, string> }[] }) => {
        const parts = this.topics.get(topic);
        if (!parts) throw new Error(`unknown topic ${topic}`);
        for (const m of messages) {
          let h = 0;
          for (const c of m.key ?? "") h = (h * 31 + c.charCodeAt(0)) >>> 0;
          const p = parts[h % parts.length]!;
          p.push({ key: m.key, value: m.value, headers: m.headers ?? {}, offset: String(p.length) });
        }
        return [];
      },
    } as any;
  }

  consumer({ groupId }: { groupId: string }) {
    const c = new MemConsumer(this, groupId);
    this.consumers.push(c);
    return c as any;
  }
}

export class MemConsumer {
  private topics: string[] = [];
  private stopped = false;
  crashNext = false; // stop before the next commit, as a crash would
  constructor(private k: MemoryKafka, readonly groupId: string) {}
  async connect() {}
  async disconnect() {
    this.stopped = true;
  }
  async subscribe({ topics }: { topics: string[] }) {
    this.topics.push(...topics);
  }
  async commitOffsets(offs: { topic: string; partition: number; offset: string }[]) {
    if (this.crashNext) {
      this.stopped = true;
      throw new Error("consumer crashed before commit");
    }
    for (const o of offs) this.k.committed.set(`${this.groupId}|${o.topic}|${o.partition}`, Number(o.offset));
  }
  async run({ eachMessage }: { eachMessage: (p: { topic: string; partition: number; message: Msg }) => Promise<void> }) {
    const loop = async () => {
      while (!this.stopped) {
        let did = false;
        for (const t of this.topics) {
          const parts = this.k.topics.get(t) ?? [];
          for (let p = 0; p < parts.length; p++) {
            const key = `${this.groupId}|${t}|${p}`;
            const next = this.k.committed.get(key) ?? 0;
            const m = parts[p]![next];
            if (!m || this.stopped) continue;
            did = true;
            try {
              await eachMessage({ topic: t, partition: p, message: m });
            } catch {
              this.stopped = true; // an exception out of eachMessage kills this consumer
            }
          }
        }
        if (!did) await new Promise((r) => setTimeout(r, 2));
      }
    };
    void loop();
  }
}
