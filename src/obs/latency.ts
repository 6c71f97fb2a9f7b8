/**
 * A fixed-size latency histogram: log-spaced buckets 2% apart from 100 ns to ~100 s, so a run of
 * any length keeps ~1 KB for its latencies (nothing kept per bar) and percentiles are exact to 2%.
 */
export class LatencyHistogram {
  private static readonly MIN_MS = 1e-4;
  private static readonly GROWTH = Math.log(1.02);
  private readonly counts: Uint32Array;
  /** Exact counts at coarse bounds (seconds), for Prometheus. */
  readonly coarse: CoarseHistogram;
  count = 0;
  max = 0;

  constructor(
    private readonly buckets = 1100,
    coarseBoundsS: readonly number[] = [],
  ) {
    this.counts = new Uint32Array(buckets);
    this.coarse = new CoarseHistogram(coarseBoundsS);
  }

  /** Record one sample in milliseconds. */
  record(ms: number): void {
    const x = ms > LatencyHistogram.MIN_MS ? ms : LatencyHistogram.MIN_MS;
    let i = Math.floor(Math.log(x / LatencyHistogram.MIN_MS) / LatencyHistogram.GROWTH);
    if (i >= this.buckets) i = this.buckets - 1;
    this.counts[i]!++;
    this.count++;
    if (ms > this.max) this.max = ms;
    this.coarse.record(ms / 1000);
  }

  /** The p-th percentile (0..100) in ms: the upper edge of the bucket that holds it (0 when empty). */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < this.buckets; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(this.max, LatencyHistogram.MIN_MS * Math.exp((i + 1) * LatencyHistogram.GROWTH));
    }
    return this.max;
  }
}

/** Exact counts per upper bound (ascending; the last slot is beyond the last bound), their sum and count: a Prometheus histogram's state. */
export class CoarseHistogram {
  private readonly counts: Float64Array;
  count = 0;
  sum = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  record(v: number): void {
    const b = this.bounds;
    let j = 0;
    while (j < b.length && v > b[j]!) j++;
    this.counts[j]!++;
    this.count++;
    this.sum += v;
  }

  /** Samples ≤ each bound, then the total (Prometheus's cumulative buckets, +Inf last). */
  cumulative(): number[] {
    const out: number[] = [];
    let acc = 0;
    for (let j = 0; j < this.counts.length; j++) out.push((acc += this.counts[j]!));
    return out;
  }
}
