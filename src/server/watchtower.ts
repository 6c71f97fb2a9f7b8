import { Elysia, t } from "elysia";
import { apiErrors } from "./errors";
import { Open, READ_ERRORS } from "./schemas";
import type { Runtime } from "./runtime";
import { deploymentView } from "../agents/watchtower";

/**
 * GET /api/watchtower: the deployment as the shared store shows it (every process with its agents,
 * last beat, status and lag), every consumer-lag row, the limits it is judged by, and — in the
 * process that runs the watchtower agent — its last round, recent changes and LLM summary. The
 * built-in dashboard reads this; any process answers it.
 */
export function watchtowerRoutes(sup: Runtime) {
  return new Elysia({ name: "awet-watchtower" }).use(apiErrors()).get("/api/watchtower", async () => {
    const now = Date.now();
    const a = sup.settings.app;
    const { view, lag } = await deploymentView(sup.store, sup.settings, now);
    const w = sup.watchtowerRound();
    const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
    return {
      process_id: sup.processId,
      ...view,
      lag: lag.map((r) => ({ ...r, above_since: iso(r.above_since), observed_at: iso(r.observed_at) })),
      limits: {
        heartbeat_interval_seconds: a.heartbeat_interval_seconds,
        heartbeat_timeout_seconds: a.heartbeat_timeout_seconds,
        watchtower_interval_seconds: a.watchtower_interval_seconds,
        max_consumer_lag: a.max_consumer_lag,
        lag_grace_seconds: a.lag_grace_seconds,
        expected_agents: a.expected_agents,
      },
      watchtower: w
        ? { runs_here: true, ...w, last_round: iso(w.last_round) }
        : { runs_here: false },
    };
  }, {
    response: { 200: Open({ process_id: t.String(), lag: t.Array(Open({})), limits: Open({}), watchtower: Open({ runs_here: t.Boolean() }) }), ...READ_ERRORS },
    detail: { tags: ["watchtower"], summary: "Every process (agents, last beat, live/stale, lag), every consumer-lag row, the limits, and Watchtower's recent changes and LLM summary" },
  });
}
