export type ExitReason = "take_profit" | "stop_loss" | "time_exit";

export interface ExitConfig {
  takeProfitPct: number; // percent, 1.0 = 1%
  stopLossPct: number; // percent
  maxHoldingMinutes: number;
}

export interface ExitPosition {
  symbol: string;
  qty: number;
  avg_entry_price: number;
  opened_at: number | null;
}

export type ExitDecision = { exit: false } | { exit: true; reason: ExitReason; detail: string; pnlPct: number; holdingMinutes: number };

/** Runbook 8.7: priority take_profit > stop_loss > time_exit. Pure: price and now passed in. */
export function evaluateExit(p: ExitPosition, price: number, now: number, cfg: ExitConfig): ExitDecision {
  if (!(p.qty > 0) || !(p.avg_entry_price > 0) || !Number.isFinite(price) || price <= 0) return { exit: false };
  const pnlPct = ((price - p.avg_entry_price) / p.avg_entry_price) * 100;
  const holdingMinutes = p.opened_at === null ? 0 : (now - p.opened_at) / 60_000;
  const d = (reason: ExitReason, detail: string): ExitDecision => ({ exit: true, reason, detail, pnlPct, holdingMinutes });
  if (pnlPct >= cfg.takeProfitPct) return d("take_profit", `pnl ${pnlPct.toFixed(3)}% >= take_profit_pct ${cfg.takeProfitPct}`);
  if (pnlPct <= -cfg.stopLossPct) return d("stop_loss", `pnl ${pnlPct.toFixed(3)}% <= -stop_loss_pct ${cfg.stopLossPct}`);
  if (p.opened_at !== null && holdingMinutes >= cfg.maxHoldingMinutes)
    return d("time_exit", `held ${holdingMinutes.toFixed(1)} min >= max_holding_minutes ${cfg.maxHoldingMinutes}`);
  return { exit: false };
}
