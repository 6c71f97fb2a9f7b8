import { envelope, type Bar, type Envelope, type Forecast } from "../core/events";
import type { Features } from "../features";
import { BaselineForecaster } from "../model/baseline";
import { AgentStatus, type AgentContext } from "./context";

/** Prediction: p10/p50/p90 of the next-horizon return and a signal, published on `predictions`. */
export class PredictionAgent {
  readonly status = new AgentStatus("Prediction");
  private models = new Map<string, BaselineForecaster>();

  constructor(private ctx: AgentContext) {
    ctx.bus.subscribe("market.engineered", this.status.name, (e) => this.onFeatures(e as Envelope<{ bar: Bar; features: Features }>));
    this.status.state = "running";
  }

  private async onFeatures(e: Envelope<{ bar: Bar; features: Features }>): Promise<void> {
    const { bar } = e.payload;
    const app = this.ctx.settings.app;
    let m = this.models.get(bar.symbol);
    if (!m) {
      m = new BaselineForecaster({ horizon: app.forecast_horizon_bars, window: app.forecast_window_bars, threshold: app.signal_threshold });
      this.models.set(bar.symbol, m);
    }
    const f = m.update(bar.close);
    this.status.seen(e.ts);
    if (!f) return;
    this.ctx.stats.predictions++;
    await this.ctx.emit(
      envelope<Forecast>("predictions", { ts: e.ts, correlation_id: e.correlation_id, source: this.status.name, symbol: bar.symbol, payload: f }),
    );
  }
}
