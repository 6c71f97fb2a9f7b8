import type { Admin } from "kafkajs";
import { errorMessage } from "../core/errors";
import { partitionLag, type LagRow } from "../obs/lag";
import type { MemoryBus } from "./memory";

export interface ConsumerGroup {
  group: string;
  topics: string[];
}

/**
 * Consumer lag on Kafka through kafkajs' admin client: each topic's end offsets once
 * (`fetchTopicOffsets`), each group's committed offsets on its topics (`fetchOffsets`). A topic or
 * group that cannot be read is reported in `errors` and the rest is still measured.
 */
export async function kafkaLag(admin: Pick<Admin, "fetchOffsets" | "fetchTopicOffsets">, groups: readonly ConsumerGroup[]): Promise<{ rows: LagRow[]; errors: string[] }> {
  const errors: string[] = [];
  const ends = new Map<string, Awaited<ReturnType<Admin["fetchTopicOffsets"]>>>();
  for (const topic of new Set(groups.flatMap((g) => g.topics))) {
    try {
      ends.set(topic, await admin.fetchTopicOffsets(topic));
    } catch (e) {
      errors.push(`end offsets of ${topic}: ${errorMessage(e)}`);
    }
  }
  const rows: LagRow[] = [];
  for (const g of groups) {
    const topics = g.topics.filter((t) => ends.has(t));
    if (topics.length === 0) continue;
    try {
      const committed = await admin.fetchOffsets({ groupId: g.group, topics });
      for (const t of topics) rows.push(...partitionLag(g.group, t, committed.find((c) => c.topic === t)?.partitions ?? [], ends.get(t)!));
    } catch (e) {
      errors.push(`committed offsets of ${g.group}: ${errorMessage(e)}`);
    }
  }
  return { rows, errors };
}

/** Consumer lag on the in-process bus: each handler's queue depth, as partition 0 of its topic. */
export function memoryLag(offsets: ReturnType<MemoryBus["offsets"]>): LagRow[] {
  return offsets.flatMap((o) => partitionLag(o.group, o.topic, [{ partition: 0, offset: o.committed }], [{ partition: 0, high: o.end, low: 0 }]));
}
