/**
 * Consumer lag, pure: offsets in, lag out. The same arithmetic serves Kafka (a group's committed
 * offsets against each partition's end offset, from kafkajs' admin client) and the in-process bus
 * (a handler's handled count against what was queued for it, as one partition).
 */

/** A committed offset as kafkajs' `admin.fetchOffsets` reports it: "-1" (or missing) = none. */
export interface CommittedOffset {
  partition: number;
  offset: string | number;
}

/** A partition's offsets as kafkajs' `admin.fetchTopicOffsets` reports them. */
export interface PartitionEnds {
  partition: number;
  /** The end offset: the next message's offset. */
  high: string | number;
  /** The earliest offset still stored (retention may have deleted older ones). */
  low: string | number;
}

export interface LagRow {
  group: string;
  topic: string;
  partition: number;
  /** The group's next offset to read, or null when it has committed none on this partition. */
  committed: number | null;
  end: number;
  lag: number;
}

/**
 * Lag of one group on one topic, one row per partition that exists (from `ends`). A partition with
 * no committed offset is read from where the group would start: `earliest` (our consumers
 * subscribe fromBeginning) counts everything still stored, `latest` counts nothing. A committed
 * offset below the low watermark (retention removed those messages) counts from the low mark.
 * Lag is never negative.
 */
export function partitionLag(group: string, topic: string, committed: readonly CommittedOffset[], ends: readonly PartitionEnds[], reset: "earliest" | "latest" = "earliest"): LagRow[] {
  const byPartition = new Map<number, number>();
  for (const c of committed) {
    const n = Number(c.offset);
    if (Number.isFinite(n) && n >= 0) byPartition.set(c.partition, n);
  }
  return [...ends]
    .sort((a, b) => a.partition - b.partition)
    .map((e) => {
      const high = Number(e.high);
      const low = Math.min(Number(e.low), high);
      const c = byPartition.get(e.partition) ?? null;
      const from = c === null ? (reset === "earliest" ? low : high) : Math.max(c, low);
      return { group, topic, partition: e.partition, committed: c, end: high, lag: Math.max(0, high - from) };
    });
}

/** Total lag per group (the sum over its topics and partitions). */
export function lagByGroup(rows: readonly LagRow[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rows) out[r.group] = (out[r.group] ?? 0) + r.lag;
  return out;
}

/** A lag row as stored: when its lag went above the limit (null while within it), and by whom. */
export interface LagRecord extends LagRow {
  above_since: number | null;
  observed_at: number;
  observed_by: string;
}

/**
 * When did each partition's lag go above `max` and stay there? The first observation above the
 * limit starts the clock; any observation at or below it resets it. Pure: the previous records and
 * the time are passed in.
 */
export function trackLag(prev: readonly LagRecord[], rows: readonly LagRow[], max: number, now: number, observer: string): LagRecord[] {
  const key = (r: { group: string; topic: string; partition: number }) => `${r.group}\u0000${r.topic}\u0000${r.partition}`;
  const before = new Map(prev.map((p) => [key(p), p.above_since]));
  return rows.map((r) => ({ ...r, above_since: r.lag > max ? (before.get(key(r)) ?? now) : null, observed_at: now, observed_by: observer }));
}
