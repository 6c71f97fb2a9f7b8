import { envelope, type Bar, type Envelope, type OrderIntent } from "../core/events";
import { intentKey, uuidFrom } from "../core/ids";
import { evaluateExit, type ExitReason } from "../gates/exit";
import { isMarketOpen } from "../market/calendar";
import { AgentStatus, type AgentContext } from "./context";
import type { ExecutionAgent, ProcessResult } from "./execution";

export interface ExitCheck {
  symbol: string;
  qty: number;
  price: number;
  decision: "hold" | ExitReason;
  detail: string;
  result?: ProcessResult;
}

/**
 * ExitAgent (runbook 8.7): every exit_check_interval_seconds of clock time it evaluates the open
 * positions at their last price and sends exits through Execution's reduce-only chain, so they
 * land in the same trades table with trades.exit_reason set. A symbol with an open sell (a market
 * sell not filled yet, or armed bracket legs) is left to that order.
 */
export class ExitAgent {
  readonly status = new AgentStatus("Exit");
  private lastCheck: number | null = null;

  constructor(
    private ctx: AgentContext,
    private execution: ExecutionAgent,
  ) {
    ctx.bus.subscribe("market.raw", this.status.name, (e) => this.onBar(e as Envelope<Bar>));
    this.status.state = "running";
  }

  private async onBar(e: Envelope<Bar>): Promise<void> {
    const app = this.execution.live.app;
    if (!app.enable_exit_logic) return;
    const now = this.ctx.clock.now();
    if (this.lastCheck !== null && now - this.lastCheck < app.exit_check_interval_seconds * 1000) return;
    this.lastCheck = now;
    if (!app.extended_hours && !isMarketOpen(now)) {
      this.ctx.log.debug({ at: new Date(now).toISOString() }, "skipped_market_closed");
      return;
    }
    await this.runOnce(now, e.correlation_id, e.symbol);
  }

  /** One pass over every open position. `barCorrelation` ties an exit to the bar that triggered it. */
  async runOnce(now = this.ctx.clock.now(), barCorrelation?: string, barSymbol?: string): Promise<ExitCheck[]> {
    const { ctx } = this;
    const app = this.execution.live.app;
    const cfg = { takeProfitPct: app.take_profit_pct, stopLossPct: app.stop_loss_pct, maxHoldingMinutes: app.max_holding_minutes };
    const out: ExitCheck[] = [];
    this.status.seen(now);
    for (const p of await ctx.store.positions()) {
      if (p.qty <= 0) continue;
      const price = this.execution.lastPriceOf(p.symbol) ?? p.last_price;
      if (price === null || price === undefined) continue;
      if (this.execution.openSellQty(p.symbol) > 0) continue;
      const d = evaluateExit(p, price, now, cfg);
      if (!d.exit) {
        out.push({ symbol: p.symbol, qty: p.qty, price, decision: "hold", detail: "" });
        continue;
      }
      const correlation_id = barCorrelation && barSymbol === p.symbol ? barCorrelation : uuidFrom(`${ctx.runId}|exit|${p.symbol}|${now}`);
      const intent: OrderIntent = {
        symbol: p.symbol, side: "sell", qty: p.qty, reference_price: price, ts: now, correlation_id,
        idempotency_key: intentKey(ctx.runId, p.symbol, now, "sell", "x"), reason: `exit ${d.reason}: ${d.detail}`, exit_reason: d.reason,
      };
      await ctx.emit(
        envelope("audit", {
          ts: now, correlation_id, idempotency_key: `${intent.idempotency_key}:exit`, source: this.status.name, symbol: p.symbol,
          payload: { event: "exit_signal", reason: d.reason, detail: d.detail, qty: p.qty, price, pnl_pct: d.pnlPct, holding_minutes: d.holdingMinutes },
        }),
      );
      ctx.stats.exit_signals++;
      const result = await this.execution.process(intent, "exit");
      out.push({ symbol: p.symbol, qty: p.qty, price, decision: d.reason, detail: d.detail, result });
    }
    return out;
  }
}
