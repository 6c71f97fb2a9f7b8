/** Fixed-capacity ring buffer of numbers. `push` is O(1) and returns the value it evicted. */
export class RollingWindow {
  private readonly buf: Float64Array;
  private head = 0; // next slot to write; once full, also the oldest value
  private n = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`RollingWindow capacity must be an integer >= 1, got ${capacity}`);
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
    if (this.n === this.capacity) out = this.buf[this.head];
    else this.n++;
    this.buf[this.head] = x;
    this.head = this.head + 1 === this.capacity ? 0 : this.head + 1;
    return out;
  }

  /** Oldest first; O(n), for inspection only. */
  toArray(): number[] {
    const start = this.full ? this.head : 0;
    const out: number[] = [];
    for (let k = 0; k < this.n; k++) out.push(this.buf[(start + k) % this.capacity]!);
    return out;
  }
}

/**
 * Running sum held as an unevaluated pair hi + lo (double-double, ~106 bits). Knuth's TwoSum keeps
 * the rounding error of every add, so adding and later removing the same values leaves the sum of
 * what is left; drift is ~1e-32 relative per update instead of ~1e-16.
 */
class Accumulator {
  hi = 0;
  lo = 0;

  add(x: number): void {
    const s = this.hi + x;
    const b = s - this.hi;
    const lo = this.lo + (this.hi - (s - b) + (x - b));
    this.hi = s + lo;
    this.lo = lo - (this.hi - s);
  }

  /** Adds sign * x * x exactly, as the rounded square plus its rounding error. */
  addSquare(x: number, sign: 1 | -1): void {
    const p = x * x;
    this.add(sign * p);
    this.add(sign * twoProductError(x, x, p));
  }

  get value(): number {
    return this.hi + this.lo;
  }
}

/** Sum of the last `capacity` values, O(1) per push. */
export class RollingSum {
  private readonly w: RollingWindow;
  private readonly s = new Accumulator();

  constructor(readonly capacity: number) {
    this.w = new RollingWindow(capacity);
  }

  get size(): number {
    return this.w.size;
  }

  get full(): boolean {
    return this.w.full;
  }

  get value(): number {
    return this.s.value;
  }

  push(x: number): number | undefined {
    const old = this.w.push(x);
    this.s.add(x);
    if (old !== undefined) this.s.add(-old);
    return old;
  }
}

/**
 * Mean and sample variance of the last `capacity` values, O(1) per push, from a running sum and
 * sum of squares. Both are double-double, so n*Q - S^2 keeps its digits even for prices around 150
 * with a spread of 1e-4, and after a volatile stretch the error does not linger into a quiet one.
 * A window of identical values has variance exactly 0 (tracked by run length), so a z-score over
 * a constant window is null rather than noise divided by a rounding residue.
 */
export class RollingStats {
  private readonly w: RollingWindow;
  private readonly s = new Accumulator();
  private readonly q = new Accumulator();
  private last = NaN;
  private run = 0;

  constructor(readonly capacity: number) {
    this.w = new RollingWindow(capacity);
  }

  get size(): number {
    return this.w.size;
  }

  get full(): boolean {
    return this.w.full;
  }

  get sum(): number {
    return this.s.value;
  }

  /** NaN when empty. */
  get mean(): number {
    const n = this.w.size;
    if (n === 0) return NaN;
    if (this.run >= n) return this.last;
    // (hi + lo) / n with one rounding instead of two.
    const { hi, lo } = this.s;
    const q = hi / n;
    return q + (hi - q * n - twoProductError(q, n, q * n) + lo) / n;
  }

  /** Sample variance (n - 1); NaN below 2 values; never negative. */
  get variance(): number {
    const n = this.w.size;
    if (n < 2) return NaN;
    if (this.run >= n) return 0;
    const { hi: sh, lo: sl } = this.s;
    const { hi: qh, lo: ql } = this.q;
    // n*Q - S*S with both products split exactly, differenced before rounding to a double.
    const a = n * qh;
    const aErr = twoProductError(qh, n, a) + n * ql;
    const b = sh * sh;
    const bErr = twoProductError(sh, sh, b) + 2 * sh * sl;
    const d = a - b;
    const bb = d - a;
    const dErr = a - (d - bb) + (-b - bb);
    const m2n = d + (dErr + aErr - bErr);
    return m2n > 0 ? m2n / (n * (n - 1)) : 0;
  }

  get std(): number {
    return Math.sqrt(this.variance);
  }

  push(x: number): number | undefined {
    const old = this.w.push(x);
    this.s.add(x);
    this.q.addSquare(x, 1);
    if (old !== undefined) {
      this.s.add(-old);
      this.q.addSquare(old, -1);
    }
    this.run = x === this.last ? this.run + 1 : 1;
    this.last = x;
    return old;
  }
}

/** Exact rounding error of p = x * y (Dekker's split; JS has no fused multiply-add). */
function twoProductError(x: number, y: number, p: number): number {
  let c = 134217729 * x; // 2^27 + 1
  const xh = c - (c - x);
  const xl = x - xh;
  c = 134217729 * y;
  const yh = c - (c - y);
  const yl = y - yh;
  return xh * yh - p + xh * yl + xl * yh + xl * yl;
}
