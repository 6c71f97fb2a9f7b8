import { envelope, type Bar, type Envelope, type Forecast } from "../core/events";
import type { Features } from "../features";
import { BaselineForecaster } from "../model/baseline";
import { featureVector } from "../model/dataset";
import { predictQuantiles, type QuantileModel } from "../model/quantile";
import { AgentStatus, type AgentContext } from "./context";

/**
 * Prediction: p10/p50/p90 of the next-horizon return and a signal, published on `predictions`.
 * Uses the production model from the registry when there is one (reloaded without a restart when
 * a promotion changes it), else the drift/volatility baseline. Events carry the model version.
 */
export class PredictionAgent {
  readonly status = new AgentStatus("Prediction");
  private baselines = new Map<string, BaselineForecaster>();
  private model: { version: string; m: QuantileModel } | null = null;
  private sinceCheck = 0;

  constructor(private ctx: AgentContext) {
    ctx.bus.subscribe("market.engineered", this.status.name, (e) => this.onFeatures(e as Envelope<{ bar: Bar; features: Features }>));
    this.status.state = "running";
  }

  get modelVersion(): string {
    return this.model?.version ?? "baseline-1";
  }

  /** Load the production model named in the store (cheap when unchanged). */
  async reload(): Promise<void> {
    const v = await this.ctx.store.getState("production_model");
    if (!v || v === this.model?.version) return;
    const row = (await this.ctx.store.listModels()).find((m) => m.version === v && m.status === "production");
    if (!row) return;
    this.model = { version: v, m: row.params as QuantileModel };
    this.ctx.log.info({ model_version: v }, "production model loaded");
  }

  private onFeatures(e: Envelope<{ bar: Bar; features: Features }>): Promise<void> | void {
    if (++this.sinceCheck >= 500) {
      this.sinceCheck = 0;
      return this.reload().then(() => this.forecast(e));
    }
    return this.forecast(e);
  }

  private forecast(e: Envelope<{ bar: Bar; features: Features }>): Promise<void> | void {
    const { bar, features } = e.payload;
    const app = this.ctx.settings.app;
    let b = this.baselines.get(bar.symbol);
    if (!b) this.baselines.set(bar.symbol, (b = new BaselineForecaster({ horizon: app.forecast_horizon_bars, window: app.forecast_window_bars, threshold: app.signal_threshold })));
    const base = b.update(bar.close); // kept warm either way, so a rollback has a ready baseline
    this.status.seen(e.ts);
    let f: Forecast | null = base;
    if (this.model) {
      const x = featureVector(features, bar.close);
      if (!x) return;
      const [p10, p50, p90] = predictQuantiles(this.model.m, x);
      const spread = p90 - p10;
      const score = spread > 0 ? p50 / spread : 0;
      const signal = score >= app.signal_threshold ? "buy" : score <= -app.signal_threshold ? "sell" : "hold";
      f = { model: "linear-quantile", model_version: this.model.version, horizon_bars: this.model.m.horizon, p10, p50, p90, signal, score, close: bar.close };
    }
    if (!f) return;
    this.ctx.stats.predictions++;
    return this.ctx.emit(
      envelope<Forecast>("predictions", { ts: e.ts, correlation_id: e.correlation_id, source: this.status.name, symbol: bar.symbol, payload: f }),
    );
  }
}
