import { envelope, type Bar, type Envelope } from "../core/events";
import type { Fill } from "../broker/port";
import type { Portfolio } from "../portfolio/portfolio";
import type { TradeRow } from "../store/port";
import type { AgentContext } from "./context";

/**
 * The Portfolio's reaction to the bar stream: the bar-driven paper broker fills what was working
 * (written onto the trade rows, the positions and the FIFO book, as a real broker's reconciliation
 * would), and held positions are marked at the bar's close. Subscribed on market.raw before
 * FeatureEngineering, so a bar's fills land before that bar's decisions.
 */
export class FillHandler {
  constructor(
    private ctx: AgentContext,
    private portfolio: Portfolio,
  ) {
    ctx.bus.subscribe("market.raw", "Execution.fills", (e) => this.onBar(e as Envelope<Bar>));
  }

  private onBar(e: Envelope<Bar>): Promise<void> | void {
    if (!this.portfolio.loaded) return this.portfolio.ready().then(() => this.onBar(e));
    const bar = e.payload;
    const fills = this.ctx.broker.onBar(bar);
    if (fills.length === 0) return this.portfolio.onPrice(bar.symbol, bar.close, bar.ts);
    return (async () => {
      for (const f of fills) await this.applyFill(f, e.correlation_id);
      await this.portfolio.onPrice(bar.symbol, bar.close, bar.ts);
    })();
  }

  async applyFill(f: Fill, barCorrelation: string): Promise<void> {
    const { ctx, portfolio } = this;
    let t: TradeRow | null = portfolio.tradeByKey(f.client_order_id) ?? (await ctx.store.getTradeByKey(f.client_order_id));
    if (!t && f.parent_client_order_id) {
      // A bracket leg: its own trade row, written when the broker reports it, tied to the entry.
      const parent = portfolio.tradeByKey(f.parent_client_order_id) ?? (await ctx.store.getTradeByKey(f.parent_client_order_id));
      if (parent)
        t = await portfolio.insertTrade({
          ts: f.ts, correlation_id: parent.correlation_id, idempotency_key: f.client_order_id, symbol: f.symbol, side: "sell", qty: f.qty,
          price: f.price, status: "submitted", error_message: null, alpaca_order_id: f.broker_order_id, client_order_id: f.client_order_id,
          alpaca_status: "accepted", filled_qty: 0, avg_fill_price: null, filled_at: null, updated_at: f.ts, paper_trade: true, dry_run: false,
          order_type: "market", take_profit_price: null, stop_loss_price: null, exit_reason: f.leg ?? null, run_id: ctx.runId,
        });
      if (t) ctx.metrics.pendingOrders.inc();
    }
    if (!t) {
      ctx.log.error({ client_order_id: f.client_order_id }, "fill for an unknown order");
      return;
    }
    // the row's fill and the position it leaves: one commit
    await portfolio.recordFill(t, { status: "filled", alpaca_status: "filled", filled_qty: f.qty, avg_fill_price: f.price, filled_at: f.ts, updated_at: f.ts }, f);
    ctx.metrics.pendingOrders.dec();
    ctx.metrics.ordersFilled.inc();
    ctx.stats.fills++;
    const totals = portfolio.totals();
    ctx.metrics.openPositions.set(totals.open);
    ctx.metrics.portfolioValue.set(totals.value);
    await ctx.emit(
      envelope("audit", {
        ts: f.ts, correlation_id: t.correlation_id, idempotency_key: `${f.client_order_id}:fill`, source: "Execution.fills", symbol: f.symbol,
        payload: { event: "fill", trade_id: t.id, side: f.side, qty: f.qty, price: f.price, leg: f.leg ?? null, broker_order_id: f.broker_order_id, bar_correlation_id: barCorrelation },
      }),
    );
  }
}
