import { existsSync } from "node:fs";
import { Elysia } from "elysia";
import type { Supervisor } from "../agents/supervisor";
import type { TradeStatus } from "../store/port";
import { approve, paperOff, paperOn, paperStatus, revoke, setExitLogic, setTradingState, tokenMatches } from "../ops/control";
import { errorMessage } from "../core/errors";
import { OPENAPI } from "./openapi";
import { watchtowerRoutes } from "./watchtower";
import { JOBS, findJob } from "../jobs/jobs";
import { nextEffectiveRun, runJob, type Scheduler } from "../jobs/scheduler";
import { loadTradeChain } from "../ops/chain";
import { pnlForDate, pnlToday, pnlWeek } from "../ops/pnl";
import { llmSummary } from "../ops/llm";
import { opsSnapshot } from "../ops/snapshot";
import { reportJson } from "../reports/render";
import { runsRoutes } from "./runs";
import { dashboardPlugin, type FeedInfo } from "./dashboard";

export const TRADE_STATUSES: readonly TradeStatus[] = [
  "blocked", "pending_submit", "submitted", "partially_filled", "filled", "canceled", "rejected", "expired",
];

export interface ServerInfo {
  version: string;
  /** The daemon's job schedule, when it runs one. */
  scheduler?: Scheduler;
  /** Bearer token every POST requires. */
  token: string;
  /** The market input, for the dashboard's progress (bars read of total) or feed freshness. */
  feed?: FeedInfo;
}

function badRequest(set: { status?: number | string }, field: string, message: string) {
  set.status = 400;
  return { error: "bad_request", field, message };
}

/** The HTTP face: health, metrics and the read API. Tested with app.handle(), no socket needed. */
export function buildApp(sup: Supervisor, info: ServerInfo) {
  const settings = sup.settings;
  /** Every POST: a missing or wrong token is 401 and changes nothing. */
  const guard = ({ request, set }: { request: Request; set: { status?: number | string; headers: Record<string, string | number> } }) => {
    const h = request.headers.get("authorization") ?? "";
    const m = /^Bearer\s+(.+)$/i.exec(h);
    if (!m || !tokenMatches(m[1]!.trim(), info.token)) {
      set.status = 401;
      set.headers["www-authenticate"] = 'Bearer realm="awet"';
      return { error: "unauthorized", message: "POST endpoints need 'Authorization: Bearer <token>' (AWET_API_TOKEN or <home>/.tmp/api-token)" };
    }
  };
  /** Parse an optional JSON object body; a malformed one is a 400 naming the problem. */
  const body = async (request: Request): Promise<{ ok: true; value: Record<string, unknown> } | { ok: false; error: object }> => {
    const text = await request.text();
    if (text.trim() === "") return { ok: true, value: {} };
    try {
      const v = JSON.parse(text);
      if (v === null || typeof v !== "object" || Array.isArray(v)) return { ok: false, error: { error: "bad_request", field: "body", message: "body must be a JSON object" } };
      return { ok: true, value: v as Record<string, unknown> };
    } catch (e) {
      return { ok: false, error: { error: "bad_request", field: "body", message: `body is not valid JSON: ${errorMessage(e)}` } };
    }
  };
  return new Elysia({ name: "awet" })
    .onError(({ code, error, set }) => {
      set.status = code === "NOT_FOUND" ? 404 : code === "PARSE" || code === "VALIDATION" ? 400 : 500;
      return { error: String(code).toLowerCase(), message: errorMessage(error) };
    })
    .use(dashboardPlugin(sup, { version: info.version, token: info.token, scheduler: info.scheduler, feed: info.feed }))
    .get("/openapi", () => OPENAPI)
    .use(watchtowerRoutes(sup))
    .use(runsRoutes(sup.store))
    .get("/api/paper/status", () => paperStatus(settings, sup.store))
    .get("/api/agents", () => ({ agents: JOBS.map((j) => ({ name: j.name, description: j.description, cron: j.cron, next: nextEffectiveRun(j, new Date())?.toISOString() ?? null })) }))
    .get("/api/agents/runs", async ({ query, set }) => {
      const limit = query.limit === undefined ? 20 : Number(query.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) return badRequest(set, "limit", `limit must be a whole number 1..1000; got '${query.limit}'`);
      if (query.agent !== undefined && !findJob(query.agent)) return badRequest(set, "agent", `no agent '${query.agent}' (${JOBS.map((j) => j.name).join(", ")})`);
      const runs = await sup.store.listAgentRuns({ agent: query.agent, limit });
      return { runs: runs.map((r) => ({ ...r, started_at: new Date(r.started_at).toISOString(), finished_at: r.finished_at && new Date(r.finished_at).toISOString() })) };
    })
    .get("/api/llm/traces", async ({ query, set }) => {
      const limit = query.limit === undefined ? 20 : Number(query.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) return badRequest(set, "limit", `limit must be a whole number 1..1000; got '${query.limit}'`);
      if (query.status !== undefined && !["ok", "error", "skipped"].includes(query.status)) return badRequest(set, "status", `status must be ok, error or skipped; got '${query.status}'`);
      const since = query.since === undefined ? undefined : Date.parse(query.since);
      if (since !== undefined && !Number.isFinite(since)) return badRequest(set, "since", `since must be an ISO time; got '${query.since}'`);
      const rows = await sup.store.listLlmTraces({ limit, agent: query.agent, model: query.model, status: query.status, since, correlation_id: query.correlation_id });
      return { count: rows.length, traces: rows.map((r) => ({ ...r, ts: new Date(r.ts).toISOString() })) };
    })
    .get("/api/llm/summary", async ({ query, set }) => {
      if (query.date !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(query.date)) return badRequest(set, "date", `date must be YYYY-MM-DD; got '${query.date}'`);
      return llmSummary(sup.store, query.date ?? null);
    })
    .get("/api/pnl/:date", async ({ params, set }) => {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(params.date) || !Number.isFinite(Date.parse(params.date))) return badRequest(set, "date", `date must be YYYY-MM-DD; got '${params.date}'`);
      return reportJson(await pnlForDate(sup.store, params.date));
    })
    .get("/api/pnl", async ({ query, set }) => {
      const days = query.days === undefined ? 7 : Number(query.days);
      if (!Number.isInteger(days) || days < 1 || days > 31) return badRequest(set, "days", `days must be a whole number 1..31; got '${query.days}'`);
      return { days: await pnlWeek(sup.store, await pnlToday(sup.store), days) };
    })
    .get("/api/positions", async () => ({ positions: (await sup.store.positions()).filter((p) => p.qty !== 0) }))
    .get("/api/ops/snapshot", () => opsSnapshot(settings, sup.store))
    .get("/api/trade-chain/:correlation_id", async ({ params, set }) => {
      const c = await loadTradeChain(sup.store, { corr: params.correlation_id });
      if (!c) {
        set.status = 404;
        return { error: "not_found", message: `no trade chain for correlation id ${params.correlation_id}` };
      }
      return c;
    })
    .guard({ beforeHandle: guard }, (app) =>
      app
        .post("/api/approve", () => ({ approved: true, approval_file: approve(settings) }), { parse: "none" })
        .post("/api/revoke", () => ({ approved: false, removed: revoke(settings) }), { parse: "none" })
        .post("/api/paper/on", async () => {
          const st = await paperOn(settings, sup.store);
          sup.live.refresh();
          return st;
        }, { parse: "none" })
        .post("/api/paper/off", async () => {
          const st = await paperOff(settings, sup.store);
          sup.live.refresh();
          return st;
        }, { parse: "none" })
        .post("/api/halt", async ({ request, set }) => {
          const b = await body(request);
          if (!b.ok) return (set.status = 400), b.error;
          const mode = b.value.mode ?? "halted";
          if (mode !== "halted" && mode !== "reducing")
            return (set.status = 400), { error: "bad_request", field: "mode", message: `mode must be 'halted' or 'reducing'; got ${JSON.stringify(mode)}` };
          const reason = b.value.reason ?? "operator";
          if (typeof reason !== "string" || reason.length > 500)
            return (set.status = 400), { error: "bad_request", field: "reason", message: "reason must be a string of at most 500 characters" };
          return setTradingState(sup.tradingState, mode === "reducing" ? "REDUCING" : "HALTED", `api: ${reason}`, "rest");
        }, { parse: "none" })
        .post("/api/resume", () => setTradingState(sup.tradingState, "ACTIVE", "api: resume", "rest"), { parse: "none" })
        .post("/api/agents/:name/run", async ({ params, request, set }) => {
          const job = findJob(params.name);
          if (!job) return (set.status = 404), { error: "not_found", message: `no agent '${params.name}' (${JOBS.map((j) => j.name).join(", ")})` };
          const b = await body(request);
          if (!b.ok) return (set.status = 400), b.error;
          if (b.value.dry_run !== undefined && typeof b.value.dry_run !== "boolean") return (set.status = 400), { error: "bad_request", field: "dry_run", message: "dry_run must be true or false" };
          const run = await runJob(job, { settings, store: sup.store, trigger: "api", dryRun: b.value.dry_run === true, sup });
          return { ...run, finished_at: run.finished_at && new Date(run.finished_at).toISOString() };
        }, { parse: "none" })
        .post("/api/exit/run", async () => ({ checks: await sup.exit.runOnce() }), { parse: "none" })
        .post("/api/exit/on", () => {
          const file = setExitLogic(settings, true);
          sup.live.refresh();
          return { enable_exit_logic: true, config_file: file };
        }, { parse: "none" })
        .post("/api/exit/off", () => {
          const file = setExitLogic(settings, false);
          sup.live.refresh();
          return { enable_exit_logic: false, config_file: file };
        }, { parse: "none" }),
    )
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
        llm: h.llm,
        agents: h.agents,
        ...(h.deployment ? { deployment: h.deployment } : {}),
        ...(info.scheduler ? { scheduler: info.scheduler.status() } : {}),
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
      await sup.refreshGauges();
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
          trading_state: await sup.tradingState.current(),
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
