import { buildTradeChain, type TradeChain } from "../reports/chain";
import type { Store } from "../store/port";

export type ChainQuery = { corr: string } | { order: string } | { trade: number };

/** Resolve a correlation id from any of the three handles and gather its chain; null when unknown. */
export async function loadTradeChain(store: Store, q: ChainQuery): Promise<TradeChain | null> {
  let corr: string | null = null;
  if ("corr" in q) corr = q.corr;
  else if ("order" in q) corr = (await store.listTrades({ alpaca_order_id: q.order, limit: 1 }))[0]?.correlation_id ?? null;
  else corr = (await store.getTrade(q.trade))?.correlation_id ?? null;
  if (!corr) return null;
  const [audit, llm, trades] = await Promise.all([
    store.auditByCorrelation(corr),
    store.listLlmTraces({ correlation_id: corr, limit: 1000 }),
    store.listTrades({ correlation_id: corr, limit: 1000 }),
  ]);
  if (audit.length === 0 && llm.length === 0 && trades.length === 0) return null;
  // The bar is its market_bars row (audit_events does not copy it): found by the symbol and time
  // of the chain's first event that carries the bar's time.
  const first = audit.find((a) => a.event_type === "market.engineered" || a.event_type === "predictions") ?? null;
  const at = first ? { symbol: first.symbol, ts: first.ts } : trades.length ? { symbol: trades[trades.length - 1]!.symbol, ts: trades[trades.length - 1]!.ts } : null;
  const bar = at ? ((await store.barsBetween(at.ts, at.ts + 1)).find((b) => b.symbol === at.symbol) ?? null) : null;
  return buildTradeChain(corr, audit, llm.reverse(), trades.reverse(), bar);
}
