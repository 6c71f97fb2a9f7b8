/**
 * A fixed-size latency histogram: log-spaced buckets 2% apart from 100 ns to ~100 s, so a run of
 * any length keeps ~1 KB for its latencies (nothing kept per bar) and percentiles are exact to 2%.
 */
export class LatencyHistogram {
  private static readonly MIN_MS = 1e-4;
  private static readonly GROWTH = Math.log(1.02);
  private readonly counts: Uint32Array;
  /** Exact counts per coarse upper bound (`coarseMs`, ascending; the last slot is +Inf), for Prometheus. */
  private readonly coarse: Float64Array;
  count = 0;
  max = 0;
  /** Sum of all samples in ms. */
  sum = 0;

  constructor(
    private readonly buckets = 1100,
    readonly coarseMs: readonly number[] = [],
  ) {
    this.counts = new Uint32Array(buckets);
    this.coarse = new Float64Array(coarseMs.length + 1);
  }

  /** Record one sample in milliseconds. */
  record(ms: number): void {
    const x = ms > LatencyHistogram.MIN_MS ? ms : LatencyHistogram.MIN_MS;
    let i = Math.floor(Math.log(x / LatencyHistogram.MIN_MS) / LatencyHistogram.GROWTH);
    if (i >= this.buckets) i = this.buckets - 1;
    this.counts[i]!++;
    this.count++;
    this.sum += ms;
    if (ms > this.max) this.max = ms;
    const c = this.coarseMs;
    let j = 0;
    while (j < c.length && ms > c[j]!) j++;
    this.coarse[j]!++;
  }

  /** Cumulative counts at each coarse bound (samples ≤ bound), then the total: a Prometheus histogram's buckets. */
  cumulative(): number[] {
    const out: number[] = [];
    let acc = 0;
    for (let j = 0; j < this.coarse.length; j++) out.push((acc += this.coarse[j]!));
    return out;
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
