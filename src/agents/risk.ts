import { envelope, type Envelope, type Forecast, type OrderIntent, type RiskRejection } from "../core/events";
import { intentKey } from "../core/ids";
import { isMarketOpen } from "../market/calendar";
import { AgentStatus, bump, type AgentContext } from "./context";
import { assessIntent } from "../llm/assess";
import { withCorrelation } from "../llm/context";

/** Rule-based sizing of one forecast into an intent, or a rejection. Pure. */
export function sizeIntent(
  f: Forecast,
  p: { symbol: string; ts: number; positionQty: number; positionSizeUsd: number; extendedHours: boolean },
): { side: "buy" | "sell"; qty: number } | { reject: string; detail: string } | null {
  if (f.signal === "hold") return null;
  if (!p.extendedHours && !isMarketOpen(p.ts))
    return { reject: "outside_regular_session", detail: "entries only in the NYSE regular session: 09:30-16:00 New York, 13:00 on early closes, not on holidays (extended_hours is false)" };
  if (f.signal === "sell") {
    if (p.positionQty <= 0) return { reject: "no_position", detail: `sell signal but no ${p.symbol} position (paper trading is long only)` };
    return { side: "sell", qty: p.positionQty };
  }
  const qty = Math.floor(p.positionSizeUsd / f.close);
  if (qty < 1) return { reject: "size_below_one_share", detail: `position_size_usd ${p.positionSizeUsd} buys less than one share at ${f.close}` };
  return { side: "buy", qty };
}

/** Risk: turns signals into sized order intents (risk.approved) or says why not (risk.rejected). */
export class RiskAgent {
  readonly status = new AgentStatus("Risk");

  /** `book`: the in-process Portfolio when Execution runs here; else positions are read from the store. */
  constructor(
    private ctx: AgentContext,
    private book: { ready(): Promise<void>; position(symbol: string): { qty: number } | null } | null = null,
  ) {
    // A "hold" forecast needs nothing: handled without a promise.
    ctx.bus.subscribe("predictions", this.status.name, (e) => {
      if ((e as Envelope<Forecast>).payload.signal !== "hold") return this.onForecast(e as Envelope<Forecast>);
      this.status.seen(e.ts);
    });
    this.status.state = "running";
  }

  /**
   * The LLM's review of an approved intent: it can only veto or shrink it (applyAssessment). When
   * Ollama is unreachable the call is recorded as skipped and the rule decision stands.
   */
  private async review(intent: OrderIntent, f: Forecast, e: Envelope<Forecast>): Promise<OrderIntent | null> {
    const { ctx } = this;
    const llm = ctx.llm!;
    return withCorrelation(e.correlation_id, async () => {
      if (!llm.state.reachable) {
        await llm.client.skipped("RiskAgent", { intent }, `LLM degraded: ${llm.state.detail}; rule decision stands`);
        return intent;
      }
      const r = await assessIntent(llm.client, intent, { forecast: f });
      if (r.vetoed) {
        ctx.stats.risk_rejected++;
        bump(ctx.stats.risk_rejected_by_reason, "llm_veto");
        await ctx.emit(
          envelope<RiskRejection>("risk.rejected", {
            ts: e.ts, correlation_id: e.correlation_id, source: this.status.name, symbol: e.symbol,
            payload: { symbol: e.symbol, side: intent.side, reason: "llm_veto", detail: r.reason },
          }),
        );
        return null;
      }
      return { ...intent, qty: r.qty, reason: `${intent.reason}; ${r.reason}` };
    });
  }

  private async onForecast(e: Envelope<Forecast>): Promise<void> {
    const { ctx } = this;
    const f = e.payload;
    this.status.seen(e.ts);
    if (f.signal === "hold") return;
    let pos: { qty: number } | null;
    if (this.book) {
      await this.book.ready();
      pos = this.book.position(e.symbol);
    } else pos = await ctx.store.getPosition(e.symbol);
    const app = ctx.settings.app;
    const r = sizeIntent(f, { symbol: e.symbol, ts: e.ts, positionQty: pos?.qty ?? 0, positionSizeUsd: app.position_size_usd, extendedHours: app.extended_hours });
    if (!r) return;
    if ("reject" in r) {
      ctx.stats.risk_rejected++;
      bump(ctx.stats.risk_rejected_by_reason, r.reject);
      await ctx.emit(
        envelope<RiskRejection>("risk.rejected", {
          ts: e.ts, correlation_id: e.correlation_id, source: this.status.name, symbol: e.symbol,
          payload: { symbol: e.symbol, side: f.signal === "sell" ? "sell" : "buy", reason: r.reject, detail: r.detail },
        }),
      );
      return;
    }
    const key = intentKey(ctx.runId, e.symbol, e.ts, r.side);
    let intent: OrderIntent = {
      symbol: e.symbol, side: r.side, qty: r.qty, reference_price: f.close, ts: e.ts, correlation_id: e.correlation_id,
      idempotency_key: key, reason: `${f.model} ${f.signal} score=${f.score.toFixed(3)} p50=${f.p50.toExponential(2)}`,
      exit_reason: null,
    };
    if (ctx.llm) {
      const reviewed = await this.review(intent, f, e);
      if (!reviewed) return;
      intent = reviewed;
    }
    ctx.stats.intents++;
    await ctx.emit(
      envelope<OrderIntent>("risk.approved", { ts: e.ts, correlation_id: e.correlation_id, idempotency_key: key, source: this.status.name, symbol: e.symbol, payload: intent }),
    );
  }
}
