import { Elysia, t } from "elysia";
import { llmSummary } from "../ops/llm";
import { apiErrors } from "./errors";
import { CalendarDate, IsoTime, Limit, Open, READ_ERRORS, oneOf } from "./schemas";
import type { ServerContext } from "./context";

const LlmStatus = oneOf(["ok", "error", "skipped"], "a call's outcome");
const Count = t.Object({ name: t.String(), calls: t.Integer() });

/** LLM calls as traced (redacted): GET /api/llm/traces and the summary of a day, GET /api/llm/summary. */
export function llmRoutes(c: ServerContext) {
  const { sup } = c;
  return new Elysia({ name: "awet-llm" })
    .use(apiErrors())
    .get(
      "/api/llm/traces",
      async ({ query }) => {
        const rows = await sup.store.listLlmTraces({ limit: query.limit ?? 20, agent: query.agent, model: query.model, status: query.status, since: query.since, correlation_id: query.correlation_id });
        return { count: rows.length, traces: rows.map((r) => ({ ...r, ts: new Date(r.ts).toISOString() })) };
      },
      {
        query: t.Object({
          limit: Limit(20),
          agent: t.Optional(t.String()),
          model: t.Optional(t.String()),
          status: t.Optional(LlmStatus),
          since: t.Optional(IsoTime("only calls at or after this time")),
          correlation_id: t.Optional(t.String()),
        }),
        response: {
          200: t.Object({ count: t.Integer(), traces: t.Array(Open({ ts: t.String({ format: "date-time" }), correlation_id: t.Nullable(t.String()), agent_name: t.String(), model: t.String(), status: t.String(), latency_ms: t.Nullable(t.Number()) })) }),
          ...READ_ERRORS,
        },
        detail: { tags: ["llm"], summary: "LLM traces, newest first: prompt and answer as stored (redacted), latency, tokens" },
      },
    )
    .get("/api/llm/summary", ({ query }) => llmSummary(sup.store, query.date ?? null), {
      query: t.Object({ date: t.Optional(CalendarDate("the New York day to summarise (default: every call)")) }),
      response: {
        200: t.Object({
          date: t.Nullable(t.String()),
          total_calls: t.Integer(),
          errors: t.Integer(),
          error_rate: t.Number(),
          skipped: t.Integer(),
          avg_latency_ms: t.Nullable(t.Number()),
          p95_latency_ms: t.Nullable(t.Number()),
          prompt_tokens: t.Number(),
          completion_tokens: t.Number(),
          top_agents: t.Array(Count),
          top_models: t.Array(Count),
        }),
        ...READ_ERRORS,
      },
      detail: { tags: ["llm"], summary: "Calls, errors, latency (avg, p95), tokens, top agents and models" },
    });
}
