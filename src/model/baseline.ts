import type { Forecast } from "../core/events";

export interface BaselineConfig {
  horizon: number; // bars ahead
  window: number; // log returns behind drift and volatility
  threshold: number; // |p50| / (p90 - p10) for a signal
}

const Z90 = 1.2815515655446004; // standard normal 90th percentile

/**
 * The skeleton's honest baseline: drift and volatility of the last `window` one-bar log returns,
 * scaled to the horizon under a random-walk assumption, give normal quantiles of the next-horizon
 * return. Momentum by construction; a trained model replaces it later. O(1) per bar.
 */
export class BaselineForecaster {
  readonly name = "baseline-drift-vol";
  readonly version = "baseline-1";
  private buf: Float64Array;
  private i = 0;
  private n = 0;
  private sum = 0;
  private sumSq = 0;
  private prevClose: number | null = null;

  constructor(private cfg: BaselineConfig) {
    if (!Number.isInteger(cfg.window) || cfg.window < 2) throw new Error(`forecast window must be an integer >= 2, got ${cfg.window}`);
    if (!Number.isInteger(cfg.horizon) || cfg.horizon < 1) throw new Error(`forecast horizon must be an integer >= 1, got ${cfg.horizon}`);
    this.buf = new Float64Array(cfg.window);
  }

  private resum(): void {
    let s = 0;
    let q = 0;
    for (let k = 0; k < this.n; k++) {
      const v = this.buf[k]!;
      s += v;
      q += v * v;
    }
    this.sum = s;
    this.sumSq = q;
  }

  /** Feed one close; returns a forecast once the window is full, else null. */
  update(close: number): Forecast | null {
    const prev = this.prevClose;
    this.prevClose = close;
    if (prev === null) return null;
    const r = Math.log(close / prev);
    if (this.n === this.cfg.window) {
      const old = this.buf[this.i]!;
      this.sum -= old;
      this.sumSq -= old * old;
    } else this.n++;
    this.buf[this.i] = r;
    this.sum += r;
    this.sumSq += r * r;
    this.i = (this.i + 1) % this.cfg.window;
    if (this.i === 0) this.resum(); // amortised O(1): stops rounding drift of the running sums
    if (this.n < this.cfg.window) return null;
    const n = this.n;
    const mean = this.sum / n;
    const variance = Math.max(0, (this.sumSq - n * mean * mean) / (n - 1));
    const h = this.cfg.horizon;
    const p50 = mean * h;
    const half = Z90 * Math.sqrt(variance * h);
    const p10 = p50 - half;
    const p90 = p50 + half;
    const spread = p90 - p10;
    const score = spread > 0 ? p50 / spread : 0;
    const signal = score >= this.cfg.threshold ? "buy" : score <= -this.cfg.threshold ? "sell" : "hold";
    return { model: this.name, model_version: this.version, horizon_bars: h, p10, p50, p90, signal, score, close, horizons: [{ horizon_bars: h, p10, p50, p90 }], confidence: null };
  }
}
