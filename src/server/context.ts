import type { Runtime } from "./runtime";
import type { Scheduler } from "../jobs/scheduler";
import { audited, type Actor } from "../ops/audit";
import { controlState } from "../ops/control";
import { redactText } from "../llm/redact";
import type { AccessPolicy } from "./guard";

/** What the market input is, for the dashboard's progress (bars read of total) or feed freshness. */
export interface FeedInfo {
  kind: "replay" | "live" | "none";
  total: number | null;
}

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

/** The request fields a control route needs to say who acted. */
export interface RequestCtx {
  request: Request;
  server: { requestIP(r: Request): { address: string } | null } | null;
}

/** What every concern's plugin gets: the running daemon, its server settings, and shared helpers. */
export interface ServerContext {
  sup: Runtime;
  info: ServerInfo;
  actor(c: RequestCtx): Actor;
  /** Run one control action, audited with the control state before and after (src/ops/audit.ts). */
  act<T>(c: RequestCtx, action: string, run: () => Promise<T> | T, result?: (r: T) => unknown): Promise<T>;
  /** Text for open endpoints: no credentials in URLs, no paths under the home. */
  scrub(text: string): string;
}

export function serverContext(sup: Runtime, info: ServerInfo): ServerContext {
  const actor = ({ request, server }: RequestCtx): Actor => ({ via: "rest", address: server?.requestIP(request)?.address ?? null });
  return {
    sup,
    info,
    actor,
    act: (c, action, run, result) =>
      audited({ store: sup.store, log: sup.log, actor: actor(c) }, action, () => controlState(sup.settings, sup.store), async () => run(), result),
    scrub: (text) => redactText(text).split(sup.settings.home).join("<home>"),
  };
}
