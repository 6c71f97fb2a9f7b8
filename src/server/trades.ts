import { Elysia, t } from "elysia";
import { loadTradeChain } from "../ops/chain";
import { opsSnapshot } from "../ops/snapshot";
import type { TradeStatus } from "../store/port";
import { apiErrors, notFound } from "./errors";
import { Limit, Open, READ_ERRORS, Ticker, TradeJson, TradeStatusT, tradeJson } from "./schemas";
import type { ServerContext } from "./context";

export const PositionT = Open({
  symbol: t.String(),
  qty: t.Number(),
  avg_entry_price: t.Number(),
  last_price: t.Nullable(t.Number()),
  market_value: t.Number(),
  unrealized_pl: t.Number(),
});

/**
 * Orders and what they came from: GET /api/trades (filtered), /api/positions, the trade chain of
 * one correlation id (bar → features → forecast → risk with its LLM call → order → fills) and the
 * ops snapshot (pending orders, exposure, trading state, last reconcile, last errors).
 */
export function tradeRoutes(c: ServerContext) {
  const { sup } = c;
  return new Elysia({ name: "awet-trades" })
    .use(apiErrors())
    .get(
      "/api/trades",
      async ({ query }) => {
        const trades = await sup.store.listTrades({ status: query.status as TradeStatus | undefined, limit: query.limit ?? 50, symbol: query.symbol });
        return { count: trades.length, trades: trades.map(tradeJson) };
      },
      {
        query: t.Object({ status: t.Optional(TradeStatusT), symbol: t.Optional(Ticker), limit: Limit(50) }),
        response: { 200: t.Object({ count: t.Integer(), trades: t.Array(TradeJson) }), ...READ_ERRORS },
        detail: { tags: ["trades"], summary: "Trade rows, newest first (blocked rows carry the gate's reason in error_message)" },
      },
    )
    .get("/api/positions", async () => ({ positions: (await sup.store.positions()).filter((p) => p.qty !== 0) }), {
      response: { 200: t.Object({ positions: t.Array(PositionT) }), ...READ_ERRORS },
      detail: { tags: ["trades"], summary: "Open positions" },
    })
    .get(
      "/api/trade-chain/:correlation_id",
      async ({ params }) => {
        const chain = await loadTradeChain(sup.store, { corr: params.correlation_id });
        if (!chain) throw notFound(`no trade chain for correlation id ${params.correlation_id}`);
        return chain;
      },
      {
        params: t.Object({ correlation_id: t.String({ description: "the correlation id of a bar's chain (trades.correlation_id)" }) }),
        response: {
          200: Open({ correlation_id: t.String(), timeline: t.Array(Open({})), trades: t.Array(Open({})), llm_traces: t.Array(Open({})), audit: t.Array(Open({})), bar: t.Nullable(Open({})) }),
          404: "Error",
          ...READ_ERRORS,
        },
        detail: { tags: ["trades"], summary: "Timeline of audit events, LLM calls (prompt and answer as stored, redacted), risk decision and trade of one correlation id" },
      },
    )
    .get("/api/ops/snapshot", () => opsSnapshot(sup.settings, sup.store, sup.appConfig), {
      response: {
        200: Open({ trading_state: t.String(), execution_dry_run: t.Boolean(), approved: t.Boolean(), pending_orders: t.Array(Open({})), positions: t.Array(PositionT), exposure: Open({}), operator_actions: t.Array(Open({})) }),
        ...READ_ERRORS,
      },
      detail: { tags: ["trades"], summary: "Pending orders, positions, exposure vs caps, trading state, last reconcile, unknown and adopted orders, the last operator actions and errors" },
    });
}
