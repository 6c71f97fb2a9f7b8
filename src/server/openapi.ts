import { TRADE_STATUSES } from "../store/port";

/** OpenAPI 3.0 description of the HTTP API, served at GET /openapi. Kept beside the routes it names. */
const ok = (description: string) => ({ 200: { description } });
const post = (summary: string, extra: Record<string, unknown> = {}) => ({
  post: {
    summary,
    security: [{ bearer: [] }],
    responses: { ...ok("done"), 401: { description: "missing or wrong bearer token; nothing changed" }, 400: { description: "malformed body; names the field" } },
    ...extra,
  },
});

export const OPENAPI = {
  openapi: "3.0.3",
  info: { title: "AWET control API", version: "1", description: "Paper trading only. POST endpoints need Authorization: Bearer <token>." },
  components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
  paths: {
    "/health": { get: { summary: "Health of store, bus, broker and every agent, and (deployment) every process of the deployment with its agents, last beat and lag", responses: { 200: { description: "healthy" }, 503: { description: "not healthy: a part of this process, or an expected agent with no live process, or consumer lag above max_consumer_lag for longer than lag_grace_seconds" } } } },
    "/api/watchtower": { get: { summary: "Every process (agents, last beat, live/stale, lag), every consumer-lag row, the limits, and Watchtower's recent changes and LLM summary", responses: ok("deployment view") } },
    "/": { get: { summary: "The operator dashboard (HTML; its script and style under /assets/, same-origin CSP)", responses: ok("page") } },
    "/api/dashboard/overview": { get: { summary: "Status bar and pipeline: trading state, dry run, approval, broker, LLM, store, bus, feed progress, agents, jobs", responses: { ...ok("overview"), 401: { description: "beyond loopback without the bearer token" } } } },
    "/api/dashboard/market": { get: { summary: "Candles of one symbol (symbol, since=epoch ms, limit) with fills, the open position's bracket and the forecast p10–p90", responses: { ...ok("market"), 400: { description: "bad parameter; names the field" } } } },
    "/api/dashboard/pnl": { get: { summary: "Today's FIFO PnL report (as `awet pnl today`), its curve, positions and exposure against the caps", responses: ok("pnl") } },
    "/api/dashboard/trades": { get: { summary: "Trades filtered by status, symbol and reason (limit), with blocked counts by reason", responses: { ...ok("trades"), 400: { description: "bad parameter; names the field" } } } },
    "/api/dashboard/events": { get: { summary: "Server-sent events: one `tick` per interval at most (progress, state, counters, events since the last tick)", responses: ok("text/event-stream") } },
    "/health/{agent}": { get: { summary: "Health of one agent", parameters: [{ name: "agent", in: "path", required: true, schema: { type: "string" } }], responses: { 200: { description: "running" }, 404: { description: "no such agent" }, 503: { description: "not running" } } } },
    "/metrics": { get: { summary: "Prometheus metrics", responses: ok("text exposition format") } },
    "/api/status": { get: { summary: "Run, safety settings, counters", responses: ok("status") } },
    "/api/trades": {
      get: {
        summary: "Trade rows, newest first",
        parameters: [
          { name: "status", in: "query", schema: { type: "string", enum: [...TRADE_STATUSES] } },
          { name: "symbol", in: "query", schema: { type: "string" } },
          { name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: 1000 } },
        ],
        responses: { ...ok("trades"), 400: { description: "bad parameter; names the field" } },
      },
    },
    "/api/llm/traces": { get: { summary: "LLM traces, newest first (limit, agent, model, status, since, correlation_id)", responses: { ...ok("traces"), 400: { description: "bad parameter; names the field" } } } },
    "/api/llm/summary": { get: { summary: "Calls, errors, latency (avg, p95), top agents and models (date=YYYY-MM-DD)", responses: ok("summary") } },
    "/api/trade-chain/{correlation_id}": { get: { summary: "Timeline of audit events, LLM calls, risk decision and trade", parameters: [{ name: "correlation_id", in: "path", required: true, schema: { type: "string" } }], responses: { ...ok("chain"), 404: { description: "unknown correlation id" } } } },
    "/api/pnl/{date}": { get: { summary: "The daily PnL report of a New York trading day (daily_pnl_summary columns)", parameters: [{ name: "date", in: "path", required: true, schema: { type: "string", format: "date" } }], responses: { ...ok("report"), 400: { description: "bad date" } } } },
    "/api/pnl": { get: { summary: "The last N trading days (days=7)", parameters: [{ name: "days", in: "query", schema: { type: "integer", minimum: 1, maximum: 31 } }], responses: ok("days") } },
    "/api/positions": { get: { summary: "Open positions", responses: ok("positions") } },
    "/api/ops/snapshot": { get: { summary: "Pending orders, positions, exposure vs caps, trading state, last reconcile, last errors", responses: ok("snapshot") } },
    "/api/agents": { get: { summary: "Scheduled agents with their cron and next run", responses: ok("agents") } },
    "/api/agents/runs": { get: { summary: "Run history (agent, limit)", responses: ok("runs") } },
    "/api/agents/{name}/run": post("Run a scheduled agent now (body: {\"dry_run\": true} optional)", { parameters: [{ name: "name", in: "path", required: true, schema: { type: "string" } }] }),
    "/api/runs": { get: { summary: "Stored backtest runs (awet replay), newest first: headline results", parameters: [{ name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: 1000 } }], responses: { ...ok("runs"), 400: { description: "bad limit" } } } },
    "/api/runs/{id}": { get: { summary: "One run: data files and hashes, effective config and hash, code version, counts, results with the equity curve", parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }], responses: { ...ok("run"), 404: { description: "unknown run id" } } } },
    "/api/runs/{id}/equity": { get: { summary: "The equity curve of a run against buy and hold, for charts", parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }], responses: { ...ok("curve"), 404: { description: "unknown run id" } } } },
    "/api/paper/status": { get: { summary: "execution_dry_run, approval file, trading state", responses: ok("status") } },
    "/api/approve": post("Create the approval file"),
    "/api/revoke": post("Remove the approval file"),
    "/api/paper/on": post("execution_dry_run: false in config/app.yaml and create the approval file"),
    "/api/paper/off": post("execution_dry_run: true in config/app.yaml and remove the approval file"),
    "/api/halt": post("Trading state HALTED (nothing trades) or REDUCING (only orders that shrink positions)", {
      requestBody: { required: false, content: { "application/json": { schema: { type: "object", properties: { mode: { type: "string", enum: ["halted", "reducing"] }, reason: { type: "string", maxLength: 500 } } } } } },
    }),
    "/api/resume": post("Trading state ACTIVE"),
    "/api/exit/run": post("Evaluate every open position for take_profit / stop_loss / time_exit now"),
    "/api/exit/on": post("enable_exit_logic: true"),
    "/api/exit/off": post("enable_exit_logic: false"),
  },
} as const;
