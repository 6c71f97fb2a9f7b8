import { RollingStats, RollingSum } from "./rolling";

export interface FeatureBar {
  ts: number; // epoch ms; not used by any indicator
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
  rsiPeriod: number; // Wilder smoothing
  volWindow: number; // log returns in the realized-vol window
  vwapWindow: number; // bars in the rolling VWAP
  volumeZWindow: number; // previous bars the volume z-score compares against
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
  ret_1: number | null; // close / prevClose - 1
  log_ret_1: number | null;
  sma_fast: number | null;
  sma_slow: number | null;
  ema_fast: number | null;
  ema_slow: number | null;
  rsi: number | null;
  realized_vol: number | null; // sample stdev of the last volWindow log returns, not annualised
  vwap_distance: number | null; // close / VWAP(last vwapWindow bars) - 1; null until full or on zero volume
  volume_z: number | null; // this volume vs the previous volumeZWindow volumes
  warm: boolean;
}

/** EMA seeded with the SMA of its first n values, then alpha = 2 / (n + 1). */
class Ema {
  value: number | null = null;
  private seen = 0;
  private seedSum = 0;
  private readonly alpha: number;

  constructor(private readonly n: number) {
    this.alpha = 2 / (n + 1);
  }

  push(x: number): void {
    if (this.value !== null) {
      this.value += this.alpha * (x - this.value);
      return;
    }
    this.seedSum += x;
    if (++this.seen === this.n) this.value = this.seedSum / this.n;
  }
}

/** Wilder's RSI: simple mean of the first n gains and losses, then avg = (avg * (n - 1) + x) / n. */
class Rsi {
  private seen = 0;
  private gain = 0;
  private loss = 0;

  constructor(private readonly n: number) {}

  push(change: number): void {
    const g = change > 0 ? change : 0;
    const l = change < 0 ? -change : 0;
    const n = this.n;
    if (this.seen >= n) {
      this.gain = (this.gain * (n - 1) + g) / n;
      this.loss = (this.loss * (n - 1) + l) / n;
      return;
    }
    this.gain += g;
    this.loss += l;
    if (++this.seen === n) {
      this.gain /= n;
      this.loss /= n;
    }
  }

  get value(): number | null {
    if (this.seen < this.n) return null;
    if (this.loss === 0) return this.gain === 0 ? 50 : 100;
    return 100 - 100 / (1 + this.gain / this.loss);
  }
}

const KEYS = Object.keys(DEFAULT_FEATURE_CONFIG) as (keyof FeatureConfig)[];

function resolveConfig(over: Partial<FeatureConfig>): Readonly<FeatureConfig> {
  for (const k of Object.keys(over)) {
    if (!(KEYS as string[]).includes(k)) throw new Error(`FeatureConfig has no field ${k} (known: ${KEYS.join(", ")})`);
  }
  const cfg = { ...DEFAULT_FEATURE_CONFIG };
  for (const k of KEYS) {
    const v: unknown = over[k] ?? cfg[k];
    if (typeof v !== "number" || !Number.isInteger(v) || v < 2) {
      throw new Error(`FeatureConfig.${k} must be an integer >= 2, got ${typeof v === "string" ? JSON.stringify(v) : String(v)}`);
    }
    cfg[k] = v;
  }
  return Object.freeze(cfg);
}

/**
 * All indicators of one symbol, O(1) per bar. Pure: no clock, no I/O, no randomness.
 * Bars must be valid (the ingestion validator guarantees it): one NaN would stay in the running
 * sums for good, so a bad bar throws before any state changes.
 */
export class FeatureState {
  readonly cfg: Readonly<FeatureConfig>;
  private n = 0;
  private prevClose: number | null = null;
  private readonly smaFast: RollingStats;
  private readonly smaSlow: RollingStats;
  private readonly emaFast: Ema;
  private readonly emaSlow: Ema;
  private readonly rsi: Rsi;
  private readonly logRets: RollingStats;
  private readonly pv: RollingSum;
  private readonly vol: RollingSum;
  private positiveVolBars = 0; // exact zero-volume test; a float sum could leave a residue
  private readonly volZ: RollingStats;

  constructor(cfg: Partial<FeatureConfig> = {}) {
    const c = (this.cfg = resolveConfig(cfg));
    this.smaFast = new RollingStats(c.smaFast);
    this.smaSlow = new RollingStats(c.smaSlow);
    this.emaFast = new Ema(c.emaFast);
    this.emaSlow = new Ema(c.emaSlow);
    this.rsi = new Rsi(c.rsiPeriod);
    this.logRets = new RollingStats(c.volWindow);
    this.pv = new RollingSum(c.vwapWindow);
    this.vol = new RollingSum(c.vwapWindow);
    this.volZ = new RollingStats(c.volumeZWindow);
  }

  update(bar: FeatureBar): Features {
    const { high, low, close, volume } = bar;
    if (!(close > 0 && high > 0 && low > 0 && close < Infinity && high < Infinity && low < Infinity)) {
      throw new RangeError(`FeatureState.update: prices must be finite and > 0, got high ${high} low ${low} close ${close}`);
    }
    if (!(volume >= 0 && volume < Infinity)) throw new RangeError(`FeatureState.update: volume must be finite and >= 0, got ${volume}`);

    this.n++;
    let ret: number | null = null;
    let logRet: number | null = null;
    const prev = this.prevClose;
    if (prev !== null) {
      ret = close / prev - 1;
      logRet = Math.log(close / prev);
      this.rsi.push(close - prev);
      this.logRets.push(logRet);
    }
    this.prevClose = close;
    this.smaFast.push(close);
    this.smaSlow.push(close);
    this.emaFast.push(close);
    this.emaSlow.push(close);

    // The z-score compares against the window before this bar, so read it before pushing.
    const z = this.volZ;
    const volZReady = z.size >= 2;
    let volumeZ: number | null = null;
    if (volZReady) {
      const sd = z.std;
      if (sd > 0) volumeZ = (volume - z.mean) / sd;
    }
    z.push(volume);

    this.pv.push(((high + low + close) / 3) * volume);
    const evicted = this.vol.push(volume);
    if (volume > 0) this.positiveVolBars++;
    if (evicted !== undefined && evicted > 0) this.positiveVolBars--;
    const vwapReady = this.vol.full;
    const vwapDistance = vwapReady && this.positiveVolBars > 0 ? close / (this.pv.value / this.vol.value) - 1 : null;

    const f: Features = {
      bars_seen: this.n,
      ret_1: ret,
      log_ret_1: logRet,
      sma_fast: this.smaFast.full ? this.smaFast.mean : null,
      sma_slow: this.smaSlow.full ? this.smaSlow.mean : null,
      ema_fast: this.emaFast.value,
      ema_slow: this.emaSlow.value,
      rsi: this.rsi.value,
      realized_vol: this.logRets.full ? this.logRets.std : null,
      vwap_distance: vwapDistance,
      volume_z: volumeZ,
      warm: false,
    };
    f.warm =
      f.ret_1 !== null && f.sma_fast !== null && f.sma_slow !== null && f.ema_fast !== null && f.ema_slow !== null &&
      f.rsi !== null && f.realized_vol !== null && vwapReady && volZReady;
    return f;
  }
}
