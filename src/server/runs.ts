import { Elysia } from "elysia";
import { AwetError } from "../core/errors";
import { equityCurve, findRun, runJson, runListItem } from "../ops/runs";
import type { Store } from "../store/port";

/**
 * Stored backtest runs over HTTP (read-only): GET /api/runs (newest first, ?limit=1..1000),
 * GET /api/runs/:id (the whole run: config, data files, results with the equity curve) and
 * GET /api/runs/:id/equity (the curve alone, for charts). An unknown id is 404 naming it.
 */
export function runsRoutes(store: Store) {
  const notFound = (set: { status?: number | string }, e: unknown) => {
    if (!(e instanceof AwetError)) throw e;
    set.status = 404;
    return { error: "not_found", message: e.message };
  };
  return new Elysia({ name: "awet-runs" })
    .get("/api/runs", async ({ query, set }) => {
      const limit = query.limit === undefined ? 50 : Number(query.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
        set.status = 400;
        return { error: "bad_request", field: "limit", message: `limit must be a whole number 1..1000; got '${query.limit}'` };
      }
      const runs = await store.listBacktestRuns(limit);
      return { count: runs.length, runs: runs.map(runListItem) };
    })
    .get("/api/runs/:id", async ({ params, set }) => {
      try {
        return runJson(await findRun(store, params.id));
      } catch (e) {
        return notFound(set, e);
      }
    })
    .get("/api/runs/:id/equity", async ({ params, set }) => {
      try {
        return await equityCurve(store, params.id);
      } catch (e) {
        return notFound(set, e);
      }
    });
}
