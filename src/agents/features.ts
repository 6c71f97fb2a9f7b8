import { envelope, type Bar, type Envelope } from "../core/events";
import { FeatureState } from "../features";
import { AgentStatus, type AgentContext } from "./context";

/** FeatureEngineering: incremental indicators per symbol, published on market.engineered. */
export class FeatureEngineeringAgent {
  readonly status = new AgentStatus("FeatureEngineering");
  private state = new Map<string, FeatureState>();

  constructor(private ctx: AgentContext) {
    ctx.bus.subscribe("market.raw", this.status.name, (e) => this.onBar(e as Envelope<Bar>));
    this.status.state = "running";
  }

  private onBar(e: Envelope<Bar>): Promise<void> | void {
    const bar = e.payload;
    let st = this.state.get(bar.symbol);
    if (!st) this.state.set(bar.symbol, (st = new FeatureState()));
    const features = st.update(bar);
    this.status.seen(e.ts);
    return this.ctx.emit(
      envelope("market.engineered", { ts: e.ts, correlation_id: e.correlation_id, source: this.status.name, symbol: bar.symbol, payload: { bar, features } }),
    );
  }
}
