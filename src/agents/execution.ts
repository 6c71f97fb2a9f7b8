import { existsSync } from "node:fs";
import { envelope, type Bar, type Envelope, type OrderIntent } from "../core/events";
import { errorMessage } from "../core/errors";
import { BrokerAmbiguous } from "../broker/errors";
import { notional, round6 } from "../core/money";
import { nyDate, nyDayStart } from "../core/time";
import type { Fill } from "../broker/port";
import { LiveConfig } from "../config/live";
import type { AppConfig } from "../config/schema";
import { deriveActivity, ENTRY_CHAIN, EXIT_CHAIN, runChain, type Chain, type Limits, type Snapshot, type TradingState } from "../gates";
import type { NewTrade, Position } from "../store/port";
import { AgentStatus, bump, type AgentContext } from "./context";

export function limitsFrom(app: AppConfig): Limits {
  return {
    maxOrdersPerMinute: app.max_orders_per_minute,
    maxOrdersPerSymbolPerDay: app.max_orders_per_symbol_per_day,
    maxOpenOrdersTotal: app.max_open_orders_total,
    cooldownSeconds: app.cooldown_seconds_per_symbol,
    maxTotalExposureUsd: app.max_total_exposure_usd,
    maxSymbolExposureUsd: app.max_exposure_per_symbol_usd,
    allowAddToPosition: app.allow_add_to_position,
    maxNotionalPerOrderUsd: app.max_notional_per_order_usd,
    maxOrderQty: app.max_order_qty,
    priceBandPct: app.price_band_pct,
    stoplossGuard: {
      count: app.stoploss_guard_count,
      lookbackMs: app.stoploss_guard_lookback_minutes * 60_000,
      lockMs: app.stoploss_guard_lock_minutes * 60_000,
      scope: app.stoploss_guard_scope as "symbol" | "global",
    },
    pdtProtection: app.pdt_protection,
    pdtEquityThresholdUsd: 25_000,
    maxDailyLossUsd: app.max_daily_loss_usd,
    useBracketOrders: app.use_bracket_orders,
    takeProfitPct: app.take_profit_pct,
    stopLossPct: app.stop_loss_pct,
  };
}

export type IntentKind = "entry" | "exit";

export type ProcessResult =
  | { status: "submitted"; trade_id: number; qty: number }
  | { status: "pending_submit"; trade_id: number; detail: string }
  | { status: "blocked"; reason: string; detail: string }
  | { status: "rejected"; trade_id: number; error: string };

/**
 * Execution: runs the gate chain on every intent and writes exactly one trade row for it (blocked,
 * or write-ahead `pending_submit` then the broker's answer). Entries take the full chain; exits
 * the reduce-only chain. Also applies the paper broker's fills to the trade rows and positions,
 * as a reconciliation would.
 */
export class ExecutionAgent {
  readonly status = new AgentStatus("Execution");
  readonly live: LiveConfig;
  private lastPrice = new Map<string, number>();
  private openSells = new Map<string, number>();
  /** Symbols with a non-zero position; only they need a mark per bar (saves a read per bar). */
  private held: Set<string> | null = null;

  constructor(private ctx: AgentContext) {
    this.live = new LiveConfig(ctx.settings, process.env, ctx.log);
    // Subscribed before FeatureEngineering, so a bar's fills land before that bar's decisions.
    ctx.bus.subscribe("market.raw", "Execution.fills", (e) => this.onBar(e as Envelope<Bar>));
    ctx.bus.subscribe("risk.approved", this.status.name, async (e) => void (await this.process((e as Envelope<OrderIntent>).payload, "entry")));
    this.status.state = "running";
  }

  async tradingState(): Promise<TradingState> {
    return ((await this.ctx.store.getState("trading_state")) as TradingState | null) ?? "ACTIVE";
  }

  lastPriceOf(symbol: string): number | undefined {
    return this.lastPrice.get(symbol);
  }

  /** Shares of the symbol in open sell orders (market sells not filled yet, armed bracket legs). */
  openSellQty(symbol: string): number {
    const legs = "legQty" in this.ctx.broker ? (this.ctx.broker as { legQty(s: string): number }).legQty(symbol) : 0;
    return (this.openSells.get(symbol) ?? 0) + legs;
  }

  async snapshot(intent: OrderIntent, now: number, app: AppConfig): Promise<Snapshot> {
    const { ctx } = this;
    const [stats, positions, existing, state, placed, realized] = await Promise.all([
      ctx.store.orderStats(intent.symbol, now - 60_000, nyDayStart(now)),
      ctx.store.positions(),
      ctx.store.getTradeByKey(intent.idempotency_key),
      this.tradingState(),
      ctx.store.placedTradesSince(now - 8 * 86_400_000),
      ctx.store.getState(`realized_pnl:${nyDate(now)}`),
    ]);
    let total = stats.pendingBuyNotional;
    let sym = stats.pendingSymbolBuyNotional;
    let posQty = 0;
    let unrealized = 0;
    for (const p of positions) {
      if (p.qty === 0) continue;
      const px = this.lastPrice.get(p.symbol) ?? p.last_price ?? p.avg_entry_price;
      const mv = notional(px, p.qty);
      total += mv;
      unrealized += mv - notional(p.avg_entry_price, p.qty);
      if (p.symbol === intent.symbol) {
        sym += mv;
        posQty = p.qty;
      }
    }
    const act = deriveActivity(placed, intent.symbol, now);
    return {
      brokerName: ctx.broker.name,
      brokerIsPaper: ctx.broker.isPaper,
      dryRun: app.execution_dry_run,
      approved: existsSync(ctx.settings.paths.approvalFile),
      tradingState: state,
      duplicate: existing !== null,
      ordersLastMinute: stats.ordersSince,
      symbolOrdersToday: stats.symbolOrdersSince,
      openOrders: stats.openOrders,
      lastSymbolOrderTs: stats.lastSymbolOrderTs,
      positionQty: posQty,
      openSellQty: this.openSellQty(intent.symbol),
      totalExposureUsd: round6(total),
      symbolExposureUsd: round6(sym),
      lastPrice: this.lastPrice.get(intent.symbol) ?? null,
      equityUsd: ctx.broker.equity(),
      ...act,
      dayPnlUsd: round6(Number(realized ?? 0) + unrealized),
    };
  }

  private row(intent: OrderIntent, s: Snapshot, now: number): NewTrade {
    return {
      ts: intent.ts, correlation_id: intent.correlation_id, idempotency_key: intent.idempotency_key, symbol: intent.symbol,
      side: intent.side, qty: intent.qty, price: intent.reference_price, status: "blocked", error_message: null,
      alpaca_order_id: null, client_order_id: null, alpaca_status: null, filled_qty: 0, avg_fill_price: null, filled_at: null,
      updated_at: now, paper_trade: true, dry_run: s.dryRun, order_type: "market", take_profit_price: null,
      stop_loss_price: null, exit_reason: intent.exit_reason ?? null, run_id: this.ctx.runId,
    };
  }

  /** Gate, record and (when allowed) submit one intent. Exactly one trade row per intent. */
  async process(intent: OrderIntent, kind: IntentKind): Promise<ProcessResult> {
    const { ctx } = this;
    const now = ctx.clock.now();
    const app = this.live.app;
    const limits = limitsFrom(app);
    this.status.seen(intent.ts);
    const snap = await this.snapshot(intent, now, app);
    const chain: Chain = kind === "exit" ? EXIT_CHAIN : ENTRY_CHAIN;
    const verdict = runChain(intent, snap, limits, now, chain);
    const src = { ts: intent.ts, correlation_id: intent.correlation_id, idempotency_key: intent.idempotency_key, source: this.status.name, symbol: intent.symbol };
    if (!verdict.allow) {
      // A duplicate already has its row (the key is unique); every other block gets one now.
      if (verdict.reason !== "duplicate_idempotency_key") {
        const r = await ctx.store.insertTrade({ ...this.row(intent, snap, now), status: "blocked", error_message: verdict.reason });
        if (r) ctx.metrics.orders.inc({ status: "blocked" });
      }
      if (verdict.reason === "max_daily_loss" && snap.tradingState === "ACTIVE") await this.switchState(app.max_daily_loss_action as TradingState, verdict.detail, now);
      return this.blocked(intent, verdict.reason, verdict.detail, src);
    }
    const shaped = verdict.intent;
    for (const n of verdict.notes) ctx.log.info({ correlation_id: intent.correlation_id, symbol: intent.symbol }, n);
    const bracket = verdict.shape.type === "bracket" ? verdict.shape : null;
    const row = await ctx.store.insertTrade({
      ...this.row(shaped, snap, now), status: "pending_submit", client_order_id: shaped.idempotency_key,
      order_type: bracket ? "bracket" : "market", take_profit_price: bracket?.take_profit_price ?? null, stop_loss_price: bracket?.stop_loss_price ?? null,
    });
    if (!row) return this.blocked(intent, "duplicate_idempotency_key", `idempotency key ${intent.idempotency_key} already has a trade row`, src);
    ctx.metrics.pendingOrders.inc();
    if (shaped.side === "sell") this.openSells.set(shaped.symbol, (this.openSells.get(shaped.symbol) ?? 0) + shaped.qty);
    try {
      const ack = await ctx.broker.submit(
        {
          client_order_id: shaped.idempotency_key, symbol: shaped.symbol, side: shaped.side, qty: shaped.qty,
          type: bracket ? "bracket" : "market", take_profit_price: bracket?.take_profit_price ?? null, stop_loss_price: bracket?.stop_loss_price ?? null,
        },
        now,
      );
      await ctx.store.updateTrade(row.id, { status: "submitted", alpaca_order_id: ack.broker_order_id, alpaca_status: ack.status, updated_at: now });
      ctx.stats.orders_submitted++;
      ctx.metrics.orders.inc({ status: "submitted" });
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
        await ctx.store.updateTrade(row.id, { error_message: `ambiguous: ${msg}`, updated_at: now });
        ctx.log.warn({ correlation_id: intent.correlation_id, symbol: shaped.symbol, client_order_id: shaped.idempotency_key, err: msg }, "submission outcome unknown; left pending_submit for the reconciler");
        await ctx.emit(envelope("audit", { ...src, idempotency_key: `${shaped.idempotency_key}:ambiguous`, payload: { event: "submission_ambiguous", trade_id: row.id, detail: msg } }));
        return { status: "pending_submit", trade_id: row.id, detail: msg };
      }
      ctx.metrics.pendingOrders.dec();
      if (shaped.side === "sell") this.openSells.set(shaped.symbol, Math.max(0, (this.openSells.get(shaped.symbol) ?? 0) - shaped.qty));
      await ctx.store.updateTrade(row.id, { status: "rejected", error_message: `broker: ${msg}`, updated_at: now });
      ctx.stats.orders_rejected++;
      ctx.metrics.orders.inc({ status: "rejected" });
      ctx.log.error({ correlation_id: intent.correlation_id, symbol: shaped.symbol, err: msg }, "broker rejected order");
      await ctx.emit(envelope("execution.blocked", { ...src, payload: { reason: "broker_rejected", detail: msg, trade_id: row.id } }));
      return { status: "rejected", trade_id: row.id, error: msg };
    }
  }

  async switchState(to: TradingState, why: string, now: number): Promise<void> {
    await this.ctx.store.setState("trading_state", to, now);
    this.ctx.log.warn({ trading_state: to, why }, "trading state switched");
  }

  private async blocked(
    intent: OrderIntent, reason: string, detail: string,
    src: { ts: number; correlation_id: string; idempotency_key: string; source: string; symbol: string },
  ): Promise<ProcessResult> {
    const { ctx } = this;
    ctx.stats.orders_blocked++;
    bump(ctx.stats.blocked_by_reason, reason);
    ctx.metrics.gateBlocks.inc({ reason });
    await ctx.emit(
      envelope("execution.blocked", {
        ...src,
        payload: { reason, detail, side: intent.side, qty: intent.qty, exit_reason: intent.exit_reason ?? null, dry_run: this.live.app.execution_dry_run },
      }),
    );
    return { status: "blocked", reason, detail };
  }

  /** A new bar: the paper broker fills what was working, and held positions are marked. */
  private async onBar(e: Envelope<Bar>): Promise<void> {
    const bar = e.payload;
    this.lastPrice.set(bar.symbol, bar.close);
    for (const f of this.ctx.broker.onBar(bar)) await this.applyFill(f, e);
    if (!this.held) this.held = new Set((await this.ctx.store.positions()).filter((p) => p.qty !== 0).map((p) => p.symbol));
    if (!this.held.has(bar.symbol)) return;
    const pos = await this.ctx.store.getPosition(bar.symbol);
    if (pos && pos.qty !== 0 && pos.last_price !== bar.close) await this.ctx.store.upsertPosition(mark(pos, bar.close, bar.ts));
  }

  async applyFill(f: Fill, e: Envelope<Bar>): Promise<void> {
    const { ctx } = this;
    let t = await ctx.store.getTradeByKey(f.client_order_id);
    if (!t && f.parent_client_order_id) {
      // A bracket leg: its own trade row, written when the broker reports it, tied to the entry.
      const parent = await ctx.store.getTradeByKey(f.parent_client_order_id);
      if (parent)
        t = await ctx.store.insertTrade({
          ...this.row(
            { symbol: f.symbol, side: "sell", qty: f.qty, reference_price: f.price, ts: f.ts, correlation_id: parent.correlation_id, idempotency_key: f.client_order_id, reason: `bracket ${f.leg}`, exit_reason: f.leg },
            { dryRun: false } as Snapshot, f.ts,
          ),
          status: "submitted", client_order_id: f.client_order_id, alpaca_order_id: f.broker_order_id, alpaca_status: "accepted",
        });
      if (t) ctx.metrics.pendingOrders.inc();
    }
    if (!t) {
      ctx.log.error({ client_order_id: f.client_order_id }, "fill for an unknown order");
      return;
    }
    await ctx.store.updateTrade(t.id, {
      status: "filled", alpaca_status: "filled", filled_qty: f.qty, avg_fill_price: f.price, filled_at: f.ts, updated_at: f.ts,
    });
    ctx.metrics.pendingOrders.dec();
    ctx.metrics.orders.inc({ status: "filled" });
    ctx.stats.fills++;
    if (f.side === "sell" && !f.leg) this.openSells.set(f.symbol, Math.max(0, (this.openSells.get(f.symbol) ?? 0) - f.qty));
    const prev = await ctx.store.getPosition(f.symbol);
    if (f.side === "sell" && prev) {
      const day = `realized_pnl:${nyDate(f.ts)}`;
      const realized = Number((await ctx.store.getState(day)) ?? 0) + notional(f.price, f.qty) - notional(prev.avg_entry_price, f.qty);
      await ctx.store.setState(day, String(round6(realized)), f.ts);
    }
    const next = applyFillToPosition(prev, f);
    await ctx.store.upsertPosition(mark(next, f.price, f.ts));
    if (next.qty !== 0) this.held?.add(f.symbol);
    else this.held?.delete(f.symbol);
    await this.refreshPortfolioGauges();
    await ctx.emit(
      envelope("audit", {
        ts: f.ts, correlation_id: t.correlation_id, idempotency_key: `${f.client_order_id}:fill`, source: "Execution.fills", symbol: f.symbol,
        payload: { event: "fill", trade_id: t.id, side: f.side, qty: f.qty, price: f.price, leg: f.leg ?? null, broker_order_id: f.broker_order_id, bar_correlation_id: e.correlation_id },
      }),
    );
  }

  private async refreshPortfolioGauges(): Promise<void> {
    const ps = (await this.ctx.store.positions()).filter((p) => p.qty !== 0);
    this.ctx.metrics.openPositions.set(ps.length);
    this.ctx.metrics.portfolioValue.set(ps.reduce((s, p) => s + p.market_value, 0));
  }
}

/** Pure: a position after a fill (average-cost basis for the book; PnL reports use FIFO lots). */
export function applyFillToPosition(prev: Position | null, f: Fill): Position {
  const q = prev?.qty ?? 0;
  const avg = prev?.avg_entry_price ?? 0;
  if (f.side === "buy") {
    const nq = q + f.qty;
    return {
      symbol: f.symbol, qty: nq, avg_entry_price: round6((q * avg + f.qty * f.price) / nq), last_price: f.price,
      market_value: 0, unrealized_pl: 0, opened_at: q > 0 && prev?.opened_at != null ? prev.opened_at : f.ts, updated_at: f.ts,
    };
  }
  const nq = Math.max(0, q - f.qty);
  return {
    symbol: f.symbol, qty: nq, avg_entry_price: nq === 0 ? 0 : avg, last_price: f.price, market_value: 0, unrealized_pl: 0,
    opened_at: nq === 0 ? null : (prev?.opened_at ?? null), updated_at: f.ts,
  };
}

/** Pure: mark a position at a price. */
export function mark(p: Position, price: number, ts: number): Position {
  return {
    ...p,
    last_price: price,
    market_value: notional(price, p.qty),
    unrealized_pl: round6(notional(price, p.qty) - notional(p.avg_entry_price, p.qty)),
    updated_at: ts,
  };
}
