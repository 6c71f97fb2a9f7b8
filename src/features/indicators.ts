import { RollingStats, RollingSum } from "./rolling";

export interface FeatureBar {
  ts: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

export interface FeatureConfig {
  smaFast: number;
  smaSlow: number;
  emaFast: number;
  emaSlow: number;
  rsiPeriod: number;
  volWindow: number;
  vwapWindow: number;
  volumeZWindow: number;
}

export const DEFAULT_FEATURE_CONFIG: FeatureConfig = Object.freeze({
  smaFast: 10,
  smaSlow: 30,
  emaFast: 12,
  emaSlow: 26,
  rsiPeriod: 14,
  volWindow: 30,
  vwapWindow: 30,
  volumeZWindow: 30,
});

export interface Features {
  bars_seen: number;
  ret_1: number | null;
  log_ret_1: number | null;
  sma_fast: number | null;
  sma_slow: number | null;
  ema_fast: number | null;
  ema_slow: number | null;
  rsi: number | null;
  realized_vol: number | null; // sample stdev of the last volWindow log returns, not annualised
  vwap_distance: number | null; // close / rolling VWAP - 1
  volume_z: number | null; // this bar's volume against the previous volumeZWindow bars
  warm: boolean;
}

/** EMA seeded with the SMA of its first N values, then alpha = 2 / (N + 1). */
class Ema {
  private seed: number[] = [];
  value: number | null = null;
  private alpha: number;
  constructor(private n: number) {
    this.alpha = 2 / (n + 1);
  }
  push(x: number): void {
    if (this.value === null) {
      this.seed.push(x);
      if (this.seed.length === this.n) {
        this.value = this.seed.reduce((a, b) => a + b, 0) / this.n;
        this.seed = [];
      }
    } else this.value += this.alpha * (x - this.value);
  }
}

/** Wilder's RSI: simple average of the first N gains/losses, then (prev*(N-1) + x) / N. */
class Rsi {
  private count = 0;
  private gain = 0;
  private loss = 0;
  constructor(private n: number) {}
  push(change: number): void {
    const g = change > 0 ? change : 0;
    const l = change < 0 ? -change : 0;
    if (this.count < this.n) {
      this.gain += g;
      this.loss += l;
      this.count++;
      if (this.count === this.n) {
        this.gain /= this.n;
        this.loss /= this.n;
      }
    } else {
      this.gain = (this.gain * (this.n - 1) + g) / this.n;
      this.loss = (this.loss * (this.n - 1) + l) / this.n;
    }
  }
  get value(): number | null {
    if (this.count < this.n) return null;
    if (this.loss === 0) return this.gain === 0 ? 50 : 100;
    return 100 - 100 / (1 + this.gain / this.loss);
  }
}

function validate(cfg: FeatureConfig): void {
  for (const [k, v] of Object.entries(cfg)) {
    if (!Number.isInteger(v) || v < 2) throw new Error(`FeatureConfig.${k} must be an integer >= 2, got ${v}`);
  }
}

/** All indicators of one symbol, updated in O(1) per bar. Pure: no clock, no I/O. */
export class FeatureState {
  readonly cfg: FeatureConfig;
  private n = 0;
  private prevClose: number | null = null;
  private smaF: RollingStats;
  private smaS: RollingStats;
  private emaF: Ema;
  private emaS: Ema;
  private rsi: Rsi;
  private vol: RollingStats;
  private pv: RollingSum;
  private vv: RollingSum;
  private volZ: RollingStats;

  constructor(cfg: Partial<FeatureConfig> = {}) {
    this.cfg = { ...DEFAULT_FEATURE_CONFIG, ...cfg };
    validate(this.cfg);
    const c = this.cfg;
    this.smaF = new RollingStats(c.smaFast);
    this.smaS = new RollingStats(c.smaSlow);
    this.emaF = new Ema(c.emaFast);
    this.emaS = new Ema(c.emaSlow);
    this.rsi = new Rsi(c.rsiPeriod);
    this.vol = new RollingStats(c.volWindow);
    this.pv = new RollingSum(c.vwapWindow);
    this.vv = new RollingSum(c.vwapWindow);
    this.volZ = new RollingStats(c.volumeZWindow);
  }

  update(bar: FeatureBar): Features {
    this.n++;
    const c = bar.close;
    let ret: number | null = null;
    let logRet: number | null = null;
    if (this.prevClose !== null) {
      ret = c / this.prevClose - 1;
      logRet = Math.log(c / this.prevClose);
      this.rsi.push(c - this.prevClose);
      this.vol.push(logRet);
    }
    this.prevClose = c;
    this.smaF.push(c);
    this.smaS.push(c);
    this.emaF.push(c);
    this.emaS.push(c);

    // Volume z-score against the window before this bar, then add the bar.
    let volumeZ: number | null = null;
    if (this.volZ.size >= 2) {
      const sd = this.volZ.std;
      volumeZ = sd > 0 ? (bar.volume - this.volZ.mean) / sd : null;
    }
    this.volZ.push(bar.volume);

    const typical = (bar.high + bar.low + c) / 3;
    this.pv.push(typical * bar.volume);
    this.vv.push(bar.volume);
    const vwapDist = this.pv.full && this.vv.value > 0 ? c / (this.pv.value / this.vv.value) - 1 : null;

    const f: Features = {
      bars_seen: this.n,
      ret_1: ret,
      log_ret_1: logRet,
      sma_fast: this.smaF.full ? this.smaF.mean : null,
      sma_slow: this.smaS.full ? this.smaS.mean : null,
      ema_fast: this.emaF.value,
      ema_slow: this.emaS.value,
      rsi: this.rsi.value,
      realized_vol: this.vol.full ? this.vol.std : null,
      vwap_distance: vwapDist,
      volume_z: volumeZ,
      warm: false,
    };
    f.warm = f.sma_slow !== null && f.ema_slow !== null && f.ema_fast !== null && f.sma_fast !== null && f.rsi !== null && f.realized_vol !== null && this.pv.full;
    return f;
  }
}
