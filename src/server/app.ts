import { existsSync } from "node:fs";
import { Elysia } from "elysia";
import type { Supervisor } from "../agents/supervisor";
import type { TradeStatus } from "../store/port";

export const TRADE_STATUSES: readonly TradeStatus[] = [
  "blocked", "pending_submit", "submitted", "partially_filled", "filled", "canceled", "rejected", "expired",
];

export interface ServerInfo {
  version: string;
}

function badRequest(set: { status?: number | string }, field: string, message: string) {
  set.status = 400;
  return { error: "bad_request", field, message };
}

/** The HTTP face: health, metrics and the read API. Tested with app.handle(), no socket needed. */
export function buildApp(sup: Supervisor, info: ServerInfo) {
  return new Elysia({ name: "awet" })
    .get("/health", async ({ set }) => {
      const h = await sup.health();
      set.status = h.healthy ? 200 : 503;
      return {
        status: h.healthy ? "healthy" : "unhealthy",
        version: info.version,
        run_id: sup.runId,
        uptime_s: Math.round((Date.now() - sup.startedAt) / 1000),
        store: { kind: sup.store.kind, ...h.store },
        bus: { kind: sup.bus.kind, ok: true },
        broker: { name: sup.broker.name, paper: sup.broker.isPaper },
        agents: h.agents,
      };
    })
    .get("/health/:agent", async ({ params, set }) => {
      const a = sup.agents.find((x) => x.status.name.toLowerCase() === params.agent.toLowerCase());
      if (!a) {
        set.status = 404;
        return { error: "not_found", message: `no agent '${params.agent}' (agents: ${sup.agents.map((x) => x.status.name).join(", ")})` };
      }
      const ok = a.status.state !== "failed" && a.status.state !== "stopped";
      set.status = ok ? 200 : 503;
      return { agent: a.status.name, ...a.status.toJSON() };
    })
    .get("/metrics", async ({ set }) => {
      set.headers["content-type"] = sup.metrics.registry.contentType;
      return sup.metrics.registry.metrics();
    })
    .get("/api/status", async () => {
      const s = sup.settings;
      return {
        version: info.version,
        run_id: sup.runId,
        home: s.home,
        store: sup.store.kind,
        bus: sup.bus.kind,
        broker: { name: sup.broker.name, paper: sup.broker.isPaper },
        safety: {
          execution_dry_run: s.app.execution_dry_run,
          approval_file: s.paths.approvalFile,
          approved: existsSync(s.paths.approvalFile),
          trading_state: (await sup.store.getState("trading_state")) ?? "ACTIVE",
        },
        symbols: s.app.symbols,
        stats: sup.stats,
        counts: await sup.store.counts(),
      };
    })
    .get("/api/trades", async ({ query, set }) => {
      const status = query.status;
      if (status !== undefined && !TRADE_STATUSES.includes(status as TradeStatus))
        return badRequest(set, "status", `status must be one of ${TRADE_STATUSES.join(", ")}; got '${status}'`);
      let limit = 50;
      if (query.limit !== undefined) {
        limit = Number(query.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
          return badRequest(set, "limit", `limit must be a whole number 1..1000; got '${query.limit}'`);
      }
      const symbol = query.symbol;
      if (symbol !== undefined && !/^[A-Z][A-Z0-9.]{0,9}$/.test(symbol))
        return badRequest(set, "symbol", `symbol must be an upper-case ticker; got '${symbol}'`);
      const trades = await sup.store.listTrades({ status: status as TradeStatus | undefined, limit, symbol });
      return { count: trades.length, trades: trades.map(tradeJson) };
    });
}

export function tradeJson(t: import("../store/port").TradeRow) {
  const iso = (x: number | null) => (x === null ? null : new Date(x).toISOString());
  return { ...t, ts: iso(t.ts), filled_at: iso(t.filled_at), updated_at: iso(t.updated_at) };
}
