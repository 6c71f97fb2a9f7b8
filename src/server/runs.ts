import { Elysia, t } from "elysia";
import { AwetError } from "../core/errors";
import { equityCurve, findRun, runJson, runListItem } from "../ops/runs";
import type { Store } from "../store/port";
import { apiErrors, notFound } from "./errors";
import { Limit, Open, READ_ERRORS } from "./schemas";

/** An unknown run id is a 404 naming it; anything else is the handler's failure. */
async function found<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof AwetError) throw notFound(e.message);
    throw e;
  }
}

const RunId = t.Object({ id: t.String({ description: "a stored run's id (`awet runs list`)" }) });

/**
 * Stored backtest runs over HTTP (read-only): GET /api/runs (newest first, ?limit=1..1000),
 * GET /api/runs/:id (the whole run: config, data files, results with the equity curve) and
 * GET /api/runs/:id/equity (the curve alone, for charts). An unknown id is 404 naming it.
 * Takes only the store, so it can serve a store without a daemon.
 */
export function runsRoutes(store: Store) {
  return new Elysia({ name: "awet-runs" })
    .use(apiErrors())
    .get(
      "/api/runs",
      async ({ query }) => {
        const runs = await store.listBacktestRuns(query.limit ?? 50);
        return { count: runs.length, runs: runs.map(runListItem) };
      },
      {
        query: t.Object({ limit: Limit(50) }),
        response: { 200: t.Object({ count: t.Integer(), runs: t.Array(Open({ id: t.String(), label: t.Nullable(t.String()), started_at: t.String({ format: "date-time" }), return_pct: t.Nullable(t.Number()) })) }), ...READ_ERRORS },
        detail: { tags: ["runs"], summary: "Stored backtest runs (awet replay), newest first: headline results" },
      },
    )
    .get("/api/runs/:id", async ({ params }) => runJson(await found(findRun(store, params.id))), {
      params: RunId,
      response: { 200: Open({ id: t.String(), label: t.Nullable(t.String()), results: Open({}) }), 404: "Error", ...READ_ERRORS },
      detail: { tags: ["runs"], summary: "One run: data files and hashes, effective config and hash, code version, counts, results with the equity curve" },
    })
    .get("/api/runs/:id/equity", ({ params }) => found(equityCurve(store, params.id)), {
      params: RunId,
      response: {
        200: Open({ run_id: t.String(), label: t.Nullable(t.String()), starting_equity_usd: t.Number(), points: t.Array(t.Object({ time: t.String({ format: "date-time" }), t: t.Integer(), equity_usd: t.Number(), benchmark_usd: t.Nullable(t.Number()) })) }),
        404: "Error",
        ...READ_ERRORS,
      },
      detail: { tags: ["runs"], summary: "The equity curve of a run against buy and hold, for charts" },
    });
}
