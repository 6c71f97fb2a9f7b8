import { envelope, type Bar, type Envelope, type Forecast } from "../core/events";
import type { Features } from "../features";
import { BaselineForecaster } from "../model/baseline";
import { featureVector } from "../model/dataset";
import { loadRunner, type Runner } from "../model/runner";
import { AgentStatus, type AgentContext } from "./context";

/** The Prediction agent's status, with the model it runs (and why it is degraded) in /health. */
class PredictionStatus extends AgentStatus {
  model: { version: string; kind: string; degraded: string | null; fallback: string | null } = { version: "baseline-1", kind: "baseline", degraded: null, fallback: null };
  override toJSON() {
    return { ...super.toJSON(), model: this.model };
  }
}

interface Item {
  e: Envelope<{ bar: Bar; features: Features }>;
  x: number[] | null;
  window: number[][]; // the symbol's recent feature rows up to this bar (oldest first)
  base: Forecast | null;
  done: (err?: unknown) => void;
}

/**
 * Prediction: p10/p50/p90 of the return over each configured horizon, a confidence (TFT) and a
 * signal from the first horizon, published on `predictions`. Runs the production model from the
 * registry, of either kind (reloaded without a restart when a promotion changes it), else the
 * drift/volatility baseline. Inference for all symbols of one bar time runs as one batch: events
 * are gathered per bar time and flushed when every configured symbol has arrived, or on the next
 * turn of the event loop (with the in-process bus, where one bar's chain runs at a time: at once,
 * on the synchronous path). If the production model cannot be loaded or its inference throws, the
 * previous production model (else the baseline) answers instead, /health says so, and no bar is lost.
 */
export class PredictionAgent {
  readonly status = new PredictionStatus("Prediction");
  private baselines = new Map<string, BaselineForecaster>();
  private windows = new Map<string, number[][]>();
  private active: Runner | null = null;
  private fallback: Runner | null = null;
  private sinceCheck = 0;
  private failedVersion: string | null = null; // not retried until another version is promoted
  private pending = new Map<number, Item[]>();
  private scheduled = new Set<number>();
  /** Timings of flushed batches (ms per batch, symbols per batch), for the bench. */
  batchStats: { ms: number; size: number }[] | null = null;

  constructor(private ctx: AgentContext) {
    ctx.bus.subscribe("market.engineered", this.status.name, (e) => this.onFeatures(e as Envelope<{ bar: Bar; features: Features }>));
    this.status.state = "running";
  }

  /** The version answering now: the production model, else (degraded) its fallback, else the baseline. */
  get modelVersion(): string {
    return this.active?.version ?? this.fallback?.version ?? "baseline-1";
  }

  /** Load the production model: the models row whose status is production (cheap when unchanged). */
  async reload(): Promise<void> {
    const v = await this.ctx.store.productionModelVersion();
    if (!v || v === this.active?.version || v === this.failedVersion) return;
    const models = await this.ctx.store.listModels();
    const row = models.find((m) => m.version === v && m.status === "production");
    if (!row) return;
    const prev = this.active;
    try {
      this.active = await loadRunner(row);
    } catch (e) {
      // The new production model cannot run: keep (or find) the one before it.
      const reason = `model ${v} could not be loaded: ${(e as Error).message}`;
      let fb = prev;
      if (!fb) {
        for (const r of models.filter((m) => m.status === "retired" && m.promoted_at !== null).sort((a, b) => b.promoted_at! - a.promoted_at!)) {
          try {
            fb = await loadRunner(r);
            break;
          } catch {
            /* try the one before */
          }
        }
      }
      this.failedVersion = v;
      this.degrade(reason, fb);
      this.active = null;
      return;
    }
    if (prev && prev !== this.fallback) this.fallback?.dispose();
    this.fallback = prev;
    this.failedVersion = null;
    this.status.model = { version: this.active.version, kind: this.active.kind, degraded: null, fallback: this.fallback?.version ?? null };
    this.ctx.log.info({ model_version: v, kind: this.active.kind }, "production model loaded");
  }

  private degrade(reason: string, fb: Runner | null): void {
    this.fallback = fb;
    this.status.model = { version: fb?.version ?? "baseline-1", kind: fb?.kind ?? "baseline", degraded: `${reason}; predicting with ${fb ? `${fb.kind} ${fb.version}` : "the baseline"}`, fallback: fb?.version ?? null };
    this.status.lastError = this.status.model.degraded;
    this.ctx.log.error({ reason, fallback: fb?.version ?? "baseline-1" }, "Prediction degraded: production model unusable, falling back");
  }

  private checking: Promise<void> | null = null;

  private onFeatures(e: Envelope<{ bar: Bar; features: Features }>): Promise<void> | void {
    if (++this.sinceCheck >= 500) {
      this.sinceCheck = 0;
      // Every 500 bars: is another model in production now? Asked beside the stream, not in front
      // of it (on PostgreSQL a round trip per check held the bar); a newly promoted model answers
      // from the bar after the answer arrives.
      if (!this.checking)
        this.checking = this.reload()
          .catch((err) => this.ctx.log.warn({ err: (err as Error).message }, "production model check failed; predicting with the current model"))
          .finally(() => (this.checking = null));
    }
    return this.handle(e);
  }

  /** Resolves when no production-model check is running (the supervisor waits for it before closing the store). */
  async idle(): Promise<void> {
    await this.checking;
  }

  private handle(e: Envelope<{ bar: Bar; features: Features }>): Promise<void> | void {
    const { bar, features } = e.payload;
    const app = this.ctx.settings.app;
    let b = this.baselines.get(bar.symbol);
    if (!b) this.baselines.set(bar.symbol, (b = new BaselineForecaster({ horizon: app.forecast_horizon_bars, window: app.forecast_window_bars, threshold: app.signal_threshold })));
    const base = b.update(bar.close); // kept warm either way, so a rollback has a ready baseline
    this.status.seen(e.ts);
    const x = featureVector(features, bar.close);
    let w = this.windows.get(bar.symbol);
    if (!w) this.windows.set(bar.symbol, (w = []));
    if (x) {
      w.push(x);
      if (w.length > app.tft_lookback_bars) w.shift();
    } else w.length = 0; // a window is only consecutive warm rows
    // In-process bus: ingestion waits for each bar's chain, so no other symbol can join this bar's
    // batch: run it now, a batch of one, on the synchronous path.
    if (this.ctx.bus.kind === "memory") {
      // no model loaded: the baseline's forecast is the answer (no batch built)
      const f = this.active || this.fallback ? this.forecastBatch([{ e, x, window: w, base, done: () => {} }])[0] : base;
      if (!f) return;
      this.ctx.stats.predictions++;
      return this.ctx.emit(envelope<Forecast>("predictions", { ts: e.ts, correlation_id: e.correlation_id, source: this.status.name, symbol: bar.symbol, payload: f }));
    }
    // Across processes (Kafka) other symbols' events of this bar time arrive as I/O: gather them,
    // flushing when every configured symbol is in or after one turn of the event loop.
    return new Promise<void>((resolve, reject) => {
      const items = this.pending.get(e.ts) ?? this.pending.set(e.ts, []).get(e.ts)!;
      items.push({ e, x, window: [...w], base, done: (err) => (err ? reject(err) : resolve()) });
      const all = app.symbols.every((s) => items.some((it) => it.e.payload.bar.symbol === s));
      if (all) void this.flush(e.ts);
      else if (!this.scheduled.has(e.ts)) {
        this.scheduled.add(e.ts);
        setImmediate(() => void this.flush(e.ts));
      }
    });
  }

  private async flush(ts: number): Promise<void> {
    this.scheduled.delete(ts);
    const items = this.pending.get(ts);
    if (!items) return;
    this.pending.delete(ts);
    try {
      const forecasts = this.forecastBatch(items);
      for (let k = 0; k < items.length; k++) {
        const f = forecasts[k];
        try {
          if (f) {
            this.ctx.stats.predictions++;
            const e = items[k]!.e;
            await this.ctx.emit(envelope<Forecast>("predictions", { ts: e.ts, correlation_id: e.correlation_id, source: this.status.name, symbol: e.payload.bar.symbol, payload: f }));
          }
          items[k]!.done();
        } catch (err) {
          items[k]!.done(err);
        }
      }
    } catch (err) {
      for (const it of items) it.done(err);
    }
  }

  /** One forecast per item (null: nothing to say yet): the active model, its fallback, or the baseline. */
  private forecastBatch(items: Item[]): (Forecast | null)[] {
    const out: (Forecast | null)[] = items.map((it) => it.base);
    let todo = items.map((_, k) => k);
    for (const r of [this.active, this.fallback]) {
      if (!r || todo.length === 0) continue;
      const ready = todo.filter((k) => items[k]!.x && items[k]!.window.length >= r.lookback);
      if (ready.length === 0) continue;
      const t0 = performance.now();
      let res: ReturnType<Runner["predict"]>;
      try {
        res = r.predict(ready.map((k) => items[k]!.window.slice(-r.lookback)));
      } catch (e) {
        if (r === this.active) {
          const prev = this.active;
          this.active = null;
          this.failedVersion = prev.version;
          this.degrade(`model ${prev.version} failed at inference: ${(e as Error).message}`, this.fallback);
        }
        continue; // the next model (or the baseline) answers for these bars
      }
      this.batchStats?.push({ ms: performance.now() - t0, size: ready.length });
      ready.forEach((k, j) => (out[k] = this.toForecast(r, res.quantiles[j]!, res.confidence[j]!, items[k]!.e.payload.bar.close)));
      todo = todo.filter((k) => !ready.includes(k));
    }
    return out;
  }

  private toForecast(r: Runner, q: [number, number, number][], confidence: number | null, close: number): Forecast {
    const app = this.ctx.settings.app;
    const [p10, p50, p90] = q[0]!;
    const spread = p90 - p10;
    const score = spread > 0 ? p50 / spread : 0;
    const signal = score >= app.signal_threshold ? "buy" : score <= -app.signal_threshold ? "sell" : "hold";
    return {
      model: r.name, model_version: r.version, horizon_bars: r.horizons[0]!, p10, p50, p90, signal, score, close,
      horizons: r.horizons.map((h, i) => ({ horizon_bars: h, p10: q[i]![0], p50: q[i]![1], p90: q[i]![2] })),
      confidence,
    };
  }
}
