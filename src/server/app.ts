import { Elysia } from "elysia";
import type { Runtime } from "./runtime";
import { auditRefused } from "../ops/audit";
import { errorMessage } from "../core/errors";
import { accessGuard, accessPolicy } from "./guard";
import { serverContext, type ServerInfo } from "./context";
import { apiErrors } from "./errors";
import { openapiDocument } from "./openapi";
import { healthRoutes } from "./health";
import { controlRoutes } from "./control";
import { tradeRoutes } from "./trades";
import { pnlRoutes } from "./pnl";
import { llmRoutes } from "./llm";
import { jobRoutes } from "./jobs";
import { runsRoutes } from "./runs";
import { watchtowerRoutes } from "./watchtower";
import { dashboardPlugin } from "./dashboard";

export type { ServerInfo, FeedInfo } from "./context";

/**
 * The HTTP face: one Elysia plugin per concern, each route with its `t` schemas, behind one access
 * guard (guard.ts) and one error shape (errors.ts); GET /openapi is generated from the schemas.
 * Tested with app.handle(), no socket needed.
 */
export function buildApp(sup: Runtime, info: ServerInfo) {
  const c = serverContext(sup, info);
  const policy = info.policy ?? accessPolicy(sup.settings, info.token, (r) => auditRefused(sup.store, sup.log, r));
  return new Elysia({ name: "awet" })
    .use(accessGuard(policy))
    .use(apiErrors({ scrub: c.scrub, onInternal: (e, request) => sup.log.error({ err: errorMessage(e), path: new URL(request.url).pathname }, "HTTP handler failed") }))
    .use(openapiDocument(info.version))
    .use(healthRoutes(c))
    .use(controlRoutes(c))
    .use(tradeRoutes(c))
    .use(pnlRoutes(c))
    .use(llmRoutes(c))
    .use(jobRoutes(c))
    .use(runsRoutes(sup.store))
    .use(watchtowerRoutes(sup))
    .use(dashboardPlugin(sup, { version: info.version, scheduler: info.scheduler, feed: info.feed }));
}
