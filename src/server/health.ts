import { existsSync } from "node:fs";
import { Elysia, t } from "elysia";
import { apiErrors, notFound } from "./errors";
import { Open, READ_ERRORS, RunStatsT } from "./schemas";
import type { ServerContext } from "./context";

const agentProps = {
  state: t.String({ description: "starting, running, idle, failed, stopped" }),
  last_event_ts: t.Nullable(t.String({ format: "date-time", description: "event time of the last event it handled" })),
  last_activity: t.Nullable(t.String({ format: "date-time" })),
  idle_s: t.Nullable(t.Number({ description: "wall seconds since it last handled something" })),
  processed: t.Integer(),
  errors: t.Integer(),
  last_error: t.Nullable(t.String()),
};
const AgentHealth = Open(agentProps);
type AgentStatusJson = typeof AgentHealth.static;

const Health = Open(
  {
    status: t.Union([t.Literal("healthy"), t.Literal("unhealthy")]),
    version: t.String(),
    run_id: t.String(),
    uptime_s: t.Number(),
    store: Open({ kind: t.String(), ok: t.Boolean() }),
    bus: Open({ kind: t.String(), ok: t.Boolean() }),
    broker: Open({ name: t.String(), paper: t.Boolean() }),
    llm: Open({ status: t.String({ description: "ok, degraded or disabled" }) }),
    agents: t.Record(t.String(), AgentHealth),
    deployment: t.Optional(Open({ healthy: t.Boolean() }, "every process of the deployment with its agents, last beat and lag")),
    scheduler: t.Optional(Open({ ok: t.Boolean() })),
    error: t.Optional(t.Literal("unhealthy", { description: "on 503 only, with message: the health report is also an error body" })),
    message: t.Optional(t.String()),
  },
  "health of store, bus, broker, LLM and every agent",
);

/**
 * Health, status and the pipeline agents: GET /health (200 healthy / 503 not), /health/:agent,
 * /metrics (Prometheus), /api/status and /api/agents (each pipeline agent's health). Probes read
 * /health and /metrics, which stay open beyond loopback (guard.ts).
 */
export function healthRoutes(c: ServerContext) {
  const { sup, info } = c;
  /** The pipeline agents with their health, as /health shows them. */
  const agentList = async () => {
    const h = await sup.health();
    return Object.entries(h.agents).map(([name, a]) => ({ name, ...(a as AgentStatusJson) }));
  };
  return new Elysia({ name: "awet-health" })
    .use(apiErrors())
    .get(
      "/health",
      async ({ set }) => {
        const h = await sup.health();
        const body = {
          status: h.healthy ? ("healthy" as const) : ("unhealthy" as const),
          version: info.version,
          run_id: sup.runId,
          uptime_s: Math.round((Date.now() - sup.startedAt) / 1000),
          store: { kind: sup.store.kind, ...h.store, ...(h.store.error ? { error: c.scrub(h.store.error) } : {}) },
          bus: { kind: sup.bus.kind, ok: true },
          broker: { name: sup.broker.name, paper: sup.broker.isPaper },
          llm: { ...h.llm, ...(typeof h.llm.detail === "string" ? { detail: c.scrub(h.llm.detail) } : {}) } as { status: string },
          agents: h.agents as Record<string, AgentStatusJson>,
          ...(h.deployment ? { deployment: h.deployment } : {}),
          ...(info.scheduler ? { scheduler: info.scheduler.status() } : {}),
        };
        if (h.healthy) return body;
        set.status = 503;
        const failing = [
          ...(h.store.ok ? [] : ["store"]),
          ...Object.entries(h.agents).filter(([, a]) => ["failed", "stopped"].includes((a as { state: string }).state)).map(([n]) => `agent ${n}`),
          ...(h.deployment && !h.deployment.healthy ? ["deployment"] : []),
        ];
        return { ...body, error: "unhealthy" as const, message: `not healthy: ${failing.join(", ") || "see the report"}` };
      },
      {
        response: { 200: Health, 503: Health, 421: "Error" },
        detail: { tags: ["health"], summary: "Health of store, bus, broker, LLM and every agent, and (deployment) every process with its agents, last beat and lag; 503 when a part of this process, an expected agent with no live process, or consumer lag held above max_consumer_lag makes it unhealthy" },
      },
    )
    .get(
      "/health/:agent",
      ({ params, set }) => {
        const a = sup.agentStatus(params.agent);
        if (!a) throw notFound(`no agent '${params.agent}' (agents: ${sup.agents.map((x) => x.status.name).join(", ")})`);
        const ok = a.state !== "failed" && a.state !== "stopped";
        set.status = ok ? 200 : 503;
        const body = { agent: a.name, ...a.toJSON() };
        return ok ? body : { ...body, error: "unhealthy", message: `agent ${a.name} is ${a.state}` };
      },
      {
        params: t.Object({ agent: t.String({ description: "agent name, any case" }) }),
        response: { 200: Open({ agent: t.String() }), 503: Open({ agent: t.String(), error: t.String(), message: t.String() }), 404: "Error", 421: "Error" },
        detail: { tags: ["health"], summary: "Health of one pipeline agent: 200 running, 503 failed or stopped" },
      },
    )
    .get(
      "/metrics",
      async ({ set }) => {
        await sup.refreshGauges();
        set.headers["content-type"] = sup.metrics.registry.contentType;
        return sup.metrics.registry.metrics();
      },
      { response: { 200: t.String({ description: "Prometheus text exposition format" }), 421: "Error" }, detail: { tags: ["health"], summary: "Prometheus metrics" } },
    )
    .get(
      "/api/status",
      async () => {
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
      },
      {
        response: {
          200: t.Object({
            version: t.String(),
            run_id: t.String(),
            home: t.String(),
            store: t.String(),
            bus: t.String(),
            broker: t.Object({ name: t.String(), paper: t.Boolean() }),
            safety: t.Object({ execution_dry_run: t.Boolean(), approval_file: t.String(), approved: t.Boolean(), trading_state: t.String() }),
            symbols: t.Array(t.String()),
            stats: RunStatsT,
            counts: Open({}, "rows per table"),
          }),
          ...READ_ERRORS,
        },
        detail: { tags: ["health"], summary: "Run, safety settings (the running dry-run value), trading state, counters, table counts" },
      },
    )
    .get("/api/agents", async () => ({ agents: await agentList() }), {
      response: { 200: t.Object({ agents: t.Array(Open({ name: t.String(), ...agentProps })) }), ...READ_ERRORS },
      detail: { tags: ["agents"], summary: "The pipeline agents (DataIngestion … Execution, Exit, Watchtower) with their health: state, processed, errors, last event; scheduled work is under /api/jobs" },
    });
}
