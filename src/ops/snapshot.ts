import { existsSync } from "node:fs";
import { TradingStateService } from "../state/trading-state";
import type { Settings } from "../config/load";
import { round6 } from "../core/money";
import { OPEN_STATUSES, type Store } from "../store/port";
import { recentOperatorEvents } from "./audit";

/** The ops snapshot (runbook: make ops-snapshot), shared by the CLI and GET /api/ops/snapshot. */
/** `app`: the config as it is now (a running daemon passes its live config, so a `paper on` shows at once). */
export async function opsSnapshot(s: Settings, store: Store, app = s.app) {
  const pending = [];
  for (const st of OPEN_STATUSES) pending.push(...(await store.listTrades({ status: st, limit: 1000 })));
  const positions = (await store.positions()).filter((p) => p.qty !== 0);
  const total = round6(positions.reduce((a, p) => a + p.market_value, 0) + pending.filter((t) => t.side === "buy").reduce((a, t) => a + (t.qty - t.filled_qty) * (t.price ?? 0), 0));
  const rejected = await store.listTrades({ status: "rejected", limit: 5 });
  const unknown = await store.listTrades({ status: "unknown", limit: 100 });
  const adopted = await store.listTrades({ adopted: true, limit: 100 });
  const iso = (x: number | null) => (x === null ? null : new Date(x).toISOString());
  const counts = await store.counts();
  const lastRec = await store.getState("last_reconcile");
  return {
    trading_state: await new TradingStateService(store).current(),
    execution_dry_run: app.execution_dry_run,
    approved: existsSync(s.paths.approvalFile),
    pending_orders: pending.map((t) => ({ ts: new Date(t.ts).toISOString(), symbol: t.symbol, side: t.side, qty: t.qty, status: t.status, client_order_id: t.client_order_id })),
    positions,
    exposure: { total_usd: total, max_total_usd: s.app.max_total_exposure_usd, max_per_symbol_usd: s.app.max_exposure_per_symbol_usd, used_pct: s.app.max_total_exposure_usd ? (total / s.app.max_total_exposure_usd) * 100 : 0 },
    last_reconcile: lastRec,
    // The broker never answered for these within in_flight_seconds; revised if it lists them later.
    unknown_orders: unknown.map((t) => ({ ts: iso(t.ts), symbol: t.symbol, side: t.side, qty: t.qty, client_order_id: t.client_order_id, submit_wall_at: iso(t.submit_wall_at), last_contact_wall_at: iso(t.last_contact_wall_at) })),
    // Broker orders with our client_order_id that had no row: recorded by the reconciler.
    adopted_orders: adopted.map((t) => ({ adopted_at: iso(t.adopted_at), symbol: t.symbol, side: t.side, qty: t.qty, status: t.status, filled_qty: t.filled_qty, client_order_id: t.client_order_id, broker_order_id: t.alpaca_order_id })),
    dead_letters: counts.dead_letters,
    operator_actions: await recentOperatorEvents(store, 10),
    last_errors: rejected.map((t) => ({ ts: new Date(t.updated_at).toISOString(), kind: "order rejected", message: `${t.symbol} ${t.side} ${t.qty}: ${t.error_message}` })),
  };
}
