import { envelope, type Bar, type Envelope, type OrderIntent } from "../core/events";
import { intentKey, timeId } from "../core/ids";
import { evaluateExit, type ExitReason } from "../gates/exit";
import { isMarketOpen } from "../market/calendar";
import type { PortfolioView } from "../portfolio/portfolio";
import { openSellQtyOf } from "../portfolio/book";
import { OPEN_STATUSES, type Position, type Store, type TradeRow } from "../store/port";
import type { BarDrivenBroker } from "../broker/port";
import { AgentStatus, type AgentContext } from "./context";
import type { ProcessResult } from "./execution";

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
 * positions at their last price and publishes exit intents on `exit.signals`, which Execution
 * runs through its reduce-only chain, so they land in the same trades table with
 * trades.exit_reason set. A symbol with an open sell (a market sell not filled yet, or armed
 * bracket legs) is left to that order. The book comes from the in-process Portfolio when
 * Execution runs here, else from the store (a process of its own: `--agents exit`).
 */
export class ExitAgent {
  readonly status = new AgentStatus("Exit");
  private lastCheck: number | null = null;
  private prices = new Map<string, number>();
  private view: PortfolioView & { refresh(): Promise<void> };

  constructor(
    private ctx: AgentContext,
    portfolio: (PortfolioView & { refresh(): Promise<void> }) | null,
  ) {
    this.view = portfolio ?? new StoreBookView(ctx.store, ctx.broker);
    ctx.bus.subscribe("market.raw", this.status.name, (e) => this.onBar(e as Envelope<Bar>));
    this.status.state = "running";
  }

  private onBar(e: Envelope<Bar>): Promise<void> | void {
    this.prices.set(e.payload.symbol, e.payload.close);
    const app = this.ctx.live.app;
    if (!app.enable_exit_logic) return;
    const now = this.ctx.clock.now();
    if (this.lastCheck !== null && now - this.lastCheck < app.exit_check_interval_seconds * 1000) return;
    this.lastCheck = now;
    if (!app.extended_hours && !isMarketOpen(now)) {
      this.ctx.log.debug({ at: new Date(now).toISOString() }, "skipped_market_closed");
      return;
    }
    return this.runOnce(now, e.correlation_id, e.symbol, false).then(() => undefined);
  }

  /**
   * One pass over every open position. `barCorrelation` ties an exit to the bar that triggered it.
   * `report`: read each exit's trade row back for its result (the API's and CLI's check); the bar
   * stream does not look at the results and skips those reads.
   */
  async runOnce(now = this.ctx.clock.now(), barCorrelation?: string, barSymbol?: string, report = true): Promise<ExitCheck[]> {
    const { ctx } = this;
    const app = this.ctx.live.app;
    const cfg = { takeProfitPct: app.take_profit_pct, stopLossPct: app.stop_loss_pct, maxHoldingMinutes: app.max_holding_minutes };
    const out: ExitCheck[] = [];
    this.status.seen(now);
    await this.view.refresh();
    for (const p of this.view.openPositions()) {
      if (p.qty <= 0) continue;
      const price = this.prices.get(p.symbol) ?? this.view.lastPrice(p.symbol) ?? p.last_price;
      if (price === null || price === undefined) continue;
      if (this.view.openSellQty(p.symbol) > 0) continue;
      const d = evaluateExit(p, price, now, cfg);
      if (!d.exit) {
        out.push({ symbol: p.symbol, qty: p.qty, price, decision: "hold", detail: "" });
        continue;
      }
      const correlation_id = barCorrelation && barSymbol === p.symbol ? barCorrelation : timeId(now, `${ctx.runId}|exit|${p.symbol}|${now}`);
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
      await ctx.emit(envelope("exit.signals", { ts: now, correlation_id, idempotency_key: intent.idempotency_key, source: this.status.name, symbol: p.symbol, payload: intent }));
      // In one process the bus has run Execution by now; across processes the row may come later.
      const row = report ? await ctx.store.getTradeByKey(intent.idempotency_key) : null;
      out.push({ symbol: p.symbol, qty: p.qty, price, decision: d.reason, detail: d.detail, result: row ? resultOf(row) : undefined });
    }
    return out;
  }
}

function resultOf(t: TradeRow): ProcessResult {
  if (t.status === "blocked") return { status: "blocked", reason: t.error_message ?? "", detail: t.error_message ?? "" };
  if (t.status === "rejected") return { status: "rejected", trade_id: t.id, error: t.error_message ?? "" };
  if (t.status === "pending_submit") return { status: "pending_submit", trade_id: t.id, detail: t.error_message ?? "" };
  return { status: "submitted", trade_id: t.id, qty: t.qty };
}

/** The book as the store has it, for an Exit agent in a process without Execution. */
class StoreBookView implements PortfolioView {
  private pos: Position[] = [];
  private open: TradeRow[] = [];

  constructor(
    private store: Store,
    private broker: BarDrivenBroker,
  ) {}

  async refresh(): Promise<void> {
    this.pos = (await this.store.positions()).filter((p) => p.qty !== 0);
    this.open = [];
    for (const status of OPEN_STATUSES) this.open.push(...(await this.store.listTrades({ status, limit: 100_000 })));
  }

  openPositions(): Position[] {
    return this.pos;
  }

  lastPrice(symbol: string): number | undefined {
    return this.pos.find((p) => p.symbol === symbol)?.last_price ?? undefined;
  }

  openSellQty(symbol: string): number {
    return openSellQtyOf(this.open, symbol) + this.broker.legQty(symbol);
  }
}
