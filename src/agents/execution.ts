import { existsSync } from "node:fs";
import { envelope, type Envelope, type OrderIntent } from "../core/events";
import { errorMessage } from "../core/errors";
import { BrokerAmbiguous, BrokerRejected } from "../broker/errors";
import type { AppConfig } from "../config/schema";
import { ENTRY_CHAIN, EXIT_CHAIN, runChain, type Chain, type Snapshot, type TradingState } from "../gates";
import { limitsFrom } from "../portfolio/book";
import type { Portfolio } from "../portfolio/portfolio";
import type { NewTrade } from "../store/port";
import { AgentStatus, bump, type AgentContext } from "./context";


export type IntentKind = "entry" | "exit";

export type ProcessResult =
  | { status: "submitted"; trade_id: number; qty: number }
  | { status: "pending_submit"; trade_id: number; detail: string }
  | { status: "blocked"; reason: string; detail: string }
  | { status: "rejected"; trade_id: number; error: string };

/**
 * Execution, the order gateway: runs the gate chain on every intent and writes exactly one trade
 * row for it (blocked, or write-ahead `pending_submit` then the broker's answer). Entries arrive on
 * risk.approved and take the full chain; exits arrive on exit.signals and take the reduce-only
 * chain. The gate snapshot comes from the in-memory Portfolio; the trading state is read again
 * whenever another process may have written it, so a halt from another process acts on the next
 * intent. Fills are the Portfolio's side (FillHandler).
 */
export class ExecutionAgent {
  readonly status = new AgentStatus("Execution");

  constructor(
    private ctx: AgentContext,
    readonly portfolio: Portfolio,
  ) {
    ctx.bus.subscribe("risk.approved", this.status.name, async (e) => void (await this.process((e as Envelope<OrderIntent>).payload, "entry")));
    ctx.bus.subscribe("exit.signals", `${this.status.name}.exits`, async (e) => void (await this.process((e as Envelope<OrderIntent>).payload, "exit")));
    this.status.state = "running";
  }

  /** Everything the gates may know, from the book in memory plus the switches (approval file, state). */
  async snapshot(intent: OrderIntent, now: number, app: AppConfig): Promise<Snapshot> {
    const { ctx } = this;
    await this.portfolio.ready();
    const state = await ctx.tradingState.current();
    return {
      brokerName: ctx.broker.name,
      brokerIsPaper: ctx.broker.isPaper,
      dryRun: app.execution_dry_run,
      approved: existsSync(ctx.settings.paths.approvalFile),
      tradingState: state,
      equityUsd: ctx.broker.equity(),
      ...this.portfolio.facts(intent.symbol, intent.idempotency_key, now),
    };
  }

  private row(intent: OrderIntent, dryRun: boolean, now: number): NewTrade {
    return {
      ts: intent.ts, correlation_id: intent.correlation_id, idempotency_key: intent.idempotency_key, symbol: intent.symbol,
      side: intent.side, qty: intent.qty, price: intent.reference_price, status: "blocked", error_message: null,
      alpaca_order_id: null, client_order_id: null, alpaca_status: null, filled_qty: 0, avg_fill_price: null, filled_at: null,
      updated_at: now, paper_trade: true, dry_run: dryRun, order_type: "market", take_profit_price: null,
      stop_loss_price: null, exit_reason: intent.exit_reason ?? null, run_id: this.ctx.runId,
    };
  }

  /** Gate, record and (when allowed) submit one intent. Exactly one trade row per intent. */
  async process(intent: OrderIntent, kind: IntentKind): Promise<ProcessResult> {
    const { ctx, portfolio } = this;
    const now = ctx.clock.now();
    const app = ctx.live.app;
    const limits = limitsFrom(app);
    this.status.seen(intent.ts);
    const snap = await this.snapshot(intent, now, app);
    const chain: Chain = kind === "exit" ? EXIT_CHAIN : ENTRY_CHAIN;
    const verdict = runChain(intent, snap, limits, now, chain);
    const src = { ts: intent.ts, correlation_id: intent.correlation_id, idempotency_key: intent.idempotency_key, source: this.status.name, symbol: intent.symbol };
    if (!verdict.allow) {
      // A duplicate already has its row (the key is unique); every other block gets one now.
      if (verdict.reason !== "duplicate_idempotency_key") {
        // No broker call follows a block, so its row goes with the next batch (not one commit each).
        if (await portfolio.recordBlocked({ ...this.row(intent, snap.dryRun, now), status: "blocked", error_message: verdict.reason })) ctx.metrics.ordersBlocked.inc();
      }
      if (verdict.reason === "max_daily_loss" && snap.tradingState === "ACTIVE")
        await ctx.tradingState.set(app.max_daily_loss_action as TradingState, verdict.detail, now, "Execution (max_daily_loss)");
      return this.blocked(intent, verdict.reason, verdict.detail, src);
    }
    const shaped = verdict.intent;
    for (const n of verdict.notes) ctx.log.info({ correlation_id: intent.correlation_id, symbol: intent.symbol }, n);
    const bracket = verdict.shape.type === "bracket" ? verdict.shape : null;
    const row = await portfolio.insertTrade({
      ...this.row(shaped, snap.dryRun, now), status: "pending_submit", client_order_id: shaped.idempotency_key,
      order_type: bracket ? "bracket" : "market", take_profit_price: bracket?.take_profit_price ?? null, stop_loss_price: bracket?.stop_loss_price ?? null,
      submit_wall_at: Date.now(), // wall time of the attempt: the reconciler's in-flight window starts here
    });
    if (!row) return this.blocked(intent, "duplicate_idempotency_key", `idempotency key ${intent.idempotency_key} already has a trade row`, src);
    ctx.metrics.pendingOrders.inc();
    // The write-ahead row is committed (insertTrade returns after the commit) and the order's chain
    // with it — its bar and its correlation's audit rows (the Store contract) — before the broker
    // hears of the order. Other bars' rows go on being written beside the order.
    try {
      const ack = await ctx.broker.submit(
        {
          client_order_id: shaped.idempotency_key, symbol: shaped.symbol, side: shaped.side, qty: shaped.qty,
          type: bracket ? "bracket" : "market", take_profit_price: bracket?.take_profit_price ?? null, stop_loss_price: bracket?.stop_loss_price ?? null,
        },
        now,
      );
      const answered = Date.now();
      await portfolio.updateTrade(row, { status: "submitted", alpaca_order_id: ack.broker_order_id, alpaca_status: ack.status, updated_at: now, first_contact_wall_at: answered, last_contact_wall_at: answered });
      ctx.stats.orders_submitted++;
      ctx.metrics.ordersSubmitted.inc();
      await ctx.emit(
        envelope("execution.completed", {
          ...src, idempotency_key: shaped.idempotency_key,
          payload: {
            trade_id: row.id, side: shaped.side, qty: shaped.qty, order_type: bracket ? "bracket" : "market", exit_reason: shaped.exit_reason ?? null,
            broker: ctx.broker.name, broker_order_id: ack.broker_order_id, alpaca_status: ack.status, dry_run: false, paper_trade: true,
          },
        }),
      );
      return { status: "submitted", trade_id: row.id, qty: shaped.qty };
    } catch (err) {
      const msg = errorMessage(err);
      if (err instanceof BrokerAmbiguous) {
        // Unknown outcome: the order may exist at the broker. The row stays pending_submit for the
        // reconciler to resolve by client_order_id; it is never re-POSTed.
        await portfolio.updateTrade(row, { error_message: `ambiguous: ${msg}`, updated_at: now });
        ctx.log.warn({ correlation_id: intent.correlation_id, symbol: shaped.symbol, client_order_id: shaped.idempotency_key, err: msg }, "submission outcome unknown; left pending_submit for the reconciler");
        await ctx.emit(envelope("audit", { ...src, idempotency_key: `${shaped.idempotency_key}:ambiguous`, payload: { event: "submission_ambiguous", trade_id: row.id, detail: msg } }));
        return { status: "pending_submit", trade_id: row.id, detail: msg };
      }
      ctx.metrics.pendingOrders.dec();
      const wall = Date.now();
      const answered = err instanceof BrokerRejected ? { first_contact_wall_at: wall, last_contact_wall_at: wall } : {}; // the broker's 4xx is a contact
      await portfolio.updateTrade(row, { status: "rejected", error_message: `broker: ${msg}`, updated_at: now, ...answered });
      ctx.stats.orders_rejected++;
      ctx.metrics.ordersRejected.inc();
      ctx.log.error({ correlation_id: intent.correlation_id, symbol: shaped.symbol, err: msg }, "broker rejected order");
      await ctx.emit(envelope("execution.blocked", { ...src, payload: { reason: "broker_rejected", detail: msg, trade_id: row.id } }));
      return { status: "rejected", trade_id: row.id, error: msg };
    }
  }

  private async blocked(
    intent: OrderIntent, reason: string, detail: string,
    src: { ts: number; correlation_id: string; idempotency_key: string; source: string; symbol: string },
  ): Promise<ProcessResult> {
    const { ctx } = this;
    ctx.stats.orders_blocked++;
    bump(ctx.stats.blocked_by_reason, reason);
    ctx.metrics.gateBlock(reason);
    await ctx.emit(
      envelope("execution.blocked", {
        ...src,
        payload: { reason, detail, side: intent.side, qty: intent.qty, exit_reason: intent.exit_reason ?? null, dry_run: ctx.live.app.execution_dry_run },
      }),
    );
    return { status: "blocked", reason, detail };
  }
}
