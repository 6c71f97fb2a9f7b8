import { existsSync } from "node:fs";
import { Elysia } from "elysia";
import type { Runtime } from "./runtime";
import { TRADE_STATUSES, type TradeStatus } from "../store/port";
import { approve, controlState, paperOff, paperOn, paperStatus, revoke, setExitLogic, setTradingState } from "../ops/control";
import { audited, auditRefused, type Actor } from "../ops/audit";
import { accessGuard, accessPolicy, type AccessPolicy } from "./guard";
import { redactText } from "../llm/redact";
import { errorMessage } from "../core/errors";
import { OPENAPI } from "./openapi";
import { watchtowerRoutes } from "./watchtower";
import { JOBS, findJob } from "../jobs/jobs";
import { nextEffectiveRun, runJob, type Scheduler } from "../jobs/scheduler";
import { loadTradeChain } from "../ops/chain";
import { pnlForDate, pnlToday, pnlWeek } from "../ops/pnl";
import { llmSummary } from "../ops/llm";
import { opsSnapshot } from "../ops/snapshot";
import { tradeJson } from "../ops/trades";
import { reportJson } from "../reports/render";
import { isSymbol } from "../core/symbol";
import { isCalendarDate, wholeNumber } from "../core/parse";
import { MAX_TS, MIN_TS } from "../store/bounds";
import { runsRoutes } from "./runs";
import { dashboardPlugin, type FeedInfo } from "./dashboard";

export interface ServerInfo {
  version: string;
  /** The daemon's job schedule, when it runs one. */
  scheduler?: Scheduler;
  /** Bearer token every POST requires (and every /api/* read beyond loopback). */
  token: string;
  /** Who may call what (default: from settings and token, refusals audited). */
  policy?: AccessPolicy;
  /** The market input, for the dashboard's progress (bars read of total) or feed freshness. */
  feed?: FeedInfo;
}

function badRequest(set: { status?: number | string }, field: string, message: string) {
  set.status = 400;
  return { error: "bad_request", field, message };
}

/** The HTTP face: health, metrics and the read API. Tested with app.handle(), no socket needed. */
export function buildApp(sup: Runtime, info: ServerInfo) {
  const settings = sup.settings;
  const policy = info.policy ?? accessPolicy(settings, info.token, (r) => auditRefused(sup.store, sup.log, r));
  type Ctx = { request: Request; server: { requestIP(r: Request): { address: string } | null } | null };
  const actor = ({ request, server }: Ctx): Actor => ({ via: "rest", address: server?.requestIP(request)?.address ?? null });
  /** Run one control action, audited with the control state before and after. */
  const act = <T>(c: Ctx, action: string, run: () => Promise<T> | T, result?: (r: T) => unknown) =>
    audited({ store: sup.store, log: sup.log, actor: actor(c) }, action, () => controlState(settings, sup.store), async () => run(), result);
  /** Text for open endpoints: no credentials in URLs, no paths under the home. */
  const scrub = (t: string) => redactText(t).split(settings.home).join("<home>");
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
    .use(accessGuard(policy))
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
      const limit = query.limit === undefined ? 20 : wholeNumber(query.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) return badRequest(set, "limit", `limit must be a whole number 1..1000; got '${query.limit}'`);
      if (query.agent !== undefined && !findJob(query.agent)) return badRequest(set, "agent", `no agent '${query.agent}' (${JOBS.map((j) => j.name).join(", ")})`);
      const runs = await sup.store.listAgentRuns({ agent: query.agent, limit });
      return { runs: runs.map((r) => ({ ...r, started_at: new Date(r.started_at).toISOString(), finished_at: r.finished_at && new Date(r.finished_at).toISOString() })) };
    })
    .get("/api/llm/traces", async ({ query, set }) => {
      const limit = query.limit === undefined ? 20 : wholeNumber(query.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) return badRequest(set, "limit", `limit must be a whole number 1..1000; got '${query.limit}'`);
      if (query.status !== undefined && !["ok", "error", "skipped"].includes(query.status)) return badRequest(set, "status", `status must be ok, error or skipped; got '${query.status}'`);
      const since = query.since === undefined ? undefined : Date.parse(query.since);
      if (since !== undefined && !(since >= MIN_TS && since <= MAX_TS)) return badRequest(set, "since", `since must be an ISO time in years 0001..9999; got '${query.since}'`);
      const rows = await sup.store.listLlmTraces({ limit, agent: query.agent, model: query.model, status: query.status, since, correlation_id: query.correlation_id });
      return { count: rows.length, traces: rows.map((r) => ({ ...r, ts: new Date(r.ts).toISOString() })) };
    })
    .get("/api/llm/summary", async ({ query, set }) => {
      if (query.date !== undefined && !isCalendarDate(query.date)) return badRequest(set, "date", `date must be a calendar date YYYY-MM-DD; got '${query.date}'`);
      return llmSummary(sup.store, query.date ?? null);
    })
    .get("/api/pnl/:date", async ({ params, set }) => {
      if (!isCalendarDate(params.date)) return badRequest(set, "date", `date must be a calendar date YYYY-MM-DD; got '${params.date}'`);
      return reportJson(await pnlForDate(sup.store, params.date));
    })
    .get("/api/pnl", async ({ query, set }) => {
      const days = query.days === undefined ? 7 : wholeNumber(query.days);
      if (!Number.isInteger(days) || days < 1 || days > 31) return badRequest(set, "days", `days must be a whole number 1..31; got '${query.days}'`);
      return { days: await pnlWeek(sup.store, await pnlToday(sup.store), days) };
    })
    .get("/api/positions", async () => ({ positions: (await sup.store.positions()).filter((p) => p.qty !== 0) }))
    .get("/api/ops/snapshot", () => opsSnapshot(settings, sup.store, sup.appConfig))
    .get("/api/trade-chain/:correlation_id", async ({ params, set }) => {
      const c = await loadTradeChain(sup.store, { corr: params.correlation_id });
      if (!c) {
        set.status = 404;
        return { error: "not_found", message: `no trade chain for correlation id ${params.correlation_id}` };
      }
      return c;
    })
    // Every POST below needs the bearer token (accessGuard) and is audited (who, what, before → after).
    .post("/api/approve", (c) => act(c, "approve", () => ({ approved: true, approval_file: approve(settings) })), { parse: "none" })
    .post("/api/revoke", (c) => act(c, "revoke", () => ({ approved: false, removed: revoke(settings) })), { parse: "none" })
    .post("/api/paper/on", (c) => act(c, "paper on", async () => {
      const st = await paperOn(settings, sup.store);
      sup.reloadConfig();
      return st;
    }), { parse: "none" })
    .post("/api/paper/off", (c) => act(c, "paper off", async () => {
      const st = await paperOff(settings, sup.store);
      sup.reloadConfig();
      return st;
    }), { parse: "none" })
    .post("/api/halt", async (c) => {
      const { request, set } = c;
      const b = await body(request);
      if (!b.ok) return (set.status = 400), b.error;
      const mode = b.value.mode ?? "halted";
      if (mode !== "halted" && mode !== "reducing")
        return (set.status = 400), { error: "bad_request", field: "mode", message: `mode must be 'halted' or 'reducing'; got ${JSON.stringify(mode)}` };
      const reason = b.value.reason ?? "operator";
      if (typeof reason !== "string" || reason.length > 500)
        return (set.status = 400), { error: "bad_request", field: "reason", message: "reason must be a string of at most 500 characters" };
      return act(c, mode === "reducing" ? "halt --reducing" : "halt", () => setTradingState(sup.tradingState, mode === "reducing" ? "REDUCING" : "HALTED", `api: ${reason}`, `rest ${actor(c).address ?? "?"}`));
    }, { parse: "none" })
    .post("/api/resume", (c) => act(c, "resume", () => setTradingState(sup.tradingState, "ACTIVE", "api: resume", `rest ${actor(c).address ?? "?"}`)), { parse: "none" })
    .post("/api/agents/:name/run", async (c) => {
      const { params, request, set } = c;
      const job = findJob(params.name);
      if (!job) return (set.status = 404), { error: "not_found", message: `no agent '${params.name}' (${JOBS.map((j) => j.name).join(", ")})` };
      const b = await body(request);
      if (!b.ok) return (set.status = 400), b.error;
      if (b.value.dry_run !== undefined && typeof b.value.dry_run !== "boolean") return (set.status = 400), { error: "bad_request", field: "dry_run", message: "dry_run must be true or false" };
      const run = await act(c, `agents run ${job.name}${b.value.dry_run === true ? " --dry-run" : ""}`, () => runJob(job, { settings, store: sup.store, trigger: "api", dryRun: b.value.dry_run === true, sup }), (r) => ({ status: r.status }));
      return { ...run, finished_at: run.finished_at && new Date(run.finished_at).toISOString() };
    }, { parse: "none" })
    .post("/api/exit/run", (c) => act(c, "exit run", async () => ({ checks: await sup.runExitOnce() }), (r) => ({ checks: r.checks.length })), { parse: "none" })
    .post("/api/exit/on", (c) => act(c, "exit on", async () => {
      const file = await setExitLogic(settings, true);
      sup.reloadConfig();
      return { enable_exit_logic: true, config_file: file };
    }), { parse: "none" })
    .post("/api/exit/off", (c) => act(c, "exit off", async () => {
      const file = await setExitLogic(settings, false);
      sup.reloadConfig();
      return { enable_exit_logic: false, config_file: file };
    }), { parse: "none" })
    .get("/health", async ({ set }) => {
      const h = await sup.health();
      set.status = h.healthy ? 200 : 503;
      return {
        status: h.healthy ? "healthy" : "unhealthy",
        version: info.version,
        run_id: sup.runId,
        uptime_s: Math.round((Date.now() - sup.startedAt) / 1000),
        store: { kind: sup.store.kind, ...h.store, ...(h.store.error ? { error: scrub(h.store.error) } : {}) },
        bus: { kind: sup.bus.kind, ok: true },
        broker: { name: sup.broker.name, paper: sup.broker.isPaper },
        llm: { ...h.llm, ...(typeof h.llm.detail === "string" ? { detail: scrub(h.llm.detail) } : {}) },
        agents: h.agents,
        ...(h.deployment ? { deployment: h.deployment } : {}),
        ...(info.scheduler ? { scheduler: info.scheduler.status() } : {}),
      };
    })
    .get("/health/:agent", async ({ params, set }) => {
      const a = sup.agentStatus(params.agent);
      if (!a) {
        set.status = 404;
        return { error: "not_found", message: `no agent '${params.agent}' (agents: ${sup.agents.map((x) => x.status.name).join(", ")})` };
      }
      const ok = a.state !== "failed" && a.state !== "stopped";
      set.status = ok ? 200 : 503;
      return { agent: a.name, ...a.toJSON() };
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
          execution_dry_run: sup.appConfig.execution_dry_run, // the running value: a `paper on` shows at once
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
        limit = wholeNumber(query.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
          return badRequest(set, "limit", `limit must be a whole number 1..1000; got '${query.limit}'`);
      }
      const symbol = query.symbol;
      if (symbol !== undefined && !isSymbol(symbol))
        return badRequest(set, "symbol", `symbol must be an upper-case ticker; got '${symbol}'`);
      const trades = await sup.store.listTrades({ status: status as TradeStatus | undefined, limit, symbol });
      return { count: trades.length, trades: trades.map(tradeJson) };
    });
}
