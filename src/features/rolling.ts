/** Fixed-capacity ring buffer: O(1) push that returns the value it evicted (or undefined). */
export class RollingWindow {
  private buf: Float64Array;
  private i = 0;
  private n = 0;
  constructor(readonly capacity: number) {
    this.buf = new Float64Array(capacity);
  }
  get size(): number {
    return this.n;
  }
  get full(): boolean {
    return this.n === this.capacity;
  }
  push(x: number): number | undefined {
    let out: number | undefined;
    if (this.n === this.capacity) out = this.buf[this.i];
    else this.n++;
    this.buf[this.i] = x;
    this.i = (this.i + 1) % this.capacity;
    return out;
  }
  /** Values oldest first (for re-summing; O(n), used only once per wrap). */
  forEach(f: (x: number) => void): void {
    const start = this.n === this.capacity ? this.i : 0;
    for (let k = 0; k < this.n; k++) f(this.buf[(start + k) % this.capacity]!);
  }
}

/**
 * Mean and sample variance over the last `capacity` values. Running sums are shifted by the
 * first value seen (so prices around 150 do not cancel catastrophically) and recomputed from the
 * window once per wrap, which keeps rounding drift bounded at amortised O(1).
 */
export class RollingStats {
  private w: RollingWindow;
  private shift: number | null = null;
  private s = 0;
  private q = 0;
  private pushes = 0;
  constructor(readonly capacity: number) {
    this.w = new RollingWindow(capacity);
  }
  get size(): number {
    return this.w.size;
  }
  get full(): boolean {
    return this.w.full;
  }
  push(x: number): void {
    if (this.shift === null) this.shift = x;
    const d = x - this.shift;
    const old = this.w.push(x);
    this.s += d;
    this.q += d * d;
    if (old !== undefined) {
      const od = old - this.shift;
      this.s -= od;
      this.q -= od * od;
    }
    if (++this.pushes % this.capacity === 0) this.resum();
  }
  private resum(): void {
    const k = this.shift!;
    let s = 0;
    let q = 0;
    this.w.forEach((x) => {
      const d = x - k;
      s += d;
      q += d * d;
    });
    this.s = s;
    this.q = q;
  }
  get sum(): number {
    return this.s + (this.shift ?? 0) * this.w.size;
  }
  get mean(): number {
    return this.w.size === 0 ? NaN : (this.shift ?? 0) + this.s / this.w.size;
  }
  /** Sample variance (n - 1), clamped at 0 against rounding. */
  get variance(): number {
    const n = this.w.size;
    if (n < 2) return NaN;
    return Math.max(0, (this.q - (this.s * this.s) / n) / (n - 1));
  }
  get std(): number {
    return Math.sqrt(this.variance);
  }
}

/** Rolling plain sum (for VWAP numerator/denominator), re-summed once per wrap. */
export class RollingSum {
  private w: RollingWindow;
  private s = 0;
  private pushes = 0;
  constructor(readonly capacity: number) {
    this.w = new RollingWindow(capacity);
  }
  push(x: number): void {
    const old = this.w.push(x);
    this.s += x - (old ?? 0);
    if (++this.pushes % this.capacity === 0) {
      let s = 0;
      this.w.forEach((v) => (s += v));
      this.s = s;
    }
  }
  get value(): number {
    return this.s;
  }
  get full(): boolean {
    return this.w.full;
  }
}
