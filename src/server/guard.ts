import { hostname } from "node:os";
import { isIP } from "node:net";
import { Elysia } from "elysia";
import type { Settings } from "../config/load";
import { tokenMatches } from "../ops/control";
import { isLoopbackHost } from "../core/net";

export { isLoopbackHost };

/**
 * Who may talk to the HTTP server — one place for every route, the dashboard's included.
 *
 *  - Host: a request must address a name this server answers to (loopback names, IP literals,
 *    http_host, this machine's name when bound to all interfaces, http_allowed_hosts). A web page
 *    that rebinds its own name to 127.0.0.1 sends its own name as Host, and gets 421.
 *  - control: every POST/PUT/PATCH/DELETE needs `Authorization: Bearer <token>`.
 *  - read: every GET of /api/* needs the token too when the server is bound beyond loopback
 *    (on loopback, reads stay open as before).
 *  - open: /health, /metrics, /openapi and anything else that is neither (they carry no
 *    credentials or paths).
 * Every refusal is reported to `onRefused` (the daemon audits it).
 *
 * Use: `app.use(accessGuard(policy))` (an Elysia plugin, named so it applies once; its check runs
 * on every request of the app it is mounted in), or call `checkAccess(policy, request, kind,
 * address)` from a route of your own with the kind you choose.
 */

export type AccessKind = "open" | "read" | "control";

export interface Refusal {
  status: 401 | 421;
  method: string;
  path: string;
  address: string | null;
  reason: string;
}

export interface AccessPolicy {
  token: string;
  /** Lower-case host names (no port) a request may address, besides IP literals. */
  allowedHosts: ReadonlySet<string>;
  /** Bound beyond loopback: /api/* reads need the token. */
  readsNeedToken: boolean;
  onRefused?: (r: Refusal) => void | Promise<void>;
}

const LOOPBACK_NAMES = ["localhost", "127.0.0.1", "::1", "[::1]"];
const WILDCARD = new Set(["0.0.0.0", "::", "[::]"]);


export function accessPolicy(s: Settings, token: string, onRefused?: AccessPolicy["onRefused"]): AccessPolicy {
  const names = new Set<string>(LOOPBACK_NAMES);
  const bound = s.app.http_host.toLowerCase();
  if (WILDCARD.has(bound)) names.add(hostname().toLowerCase());
  else names.add(bound);
  for (const h of s.app.http_allowed_hosts) names.add(h.toLowerCase());
  return { token, allowedHosts: names, readsNeedToken: !isLoopbackHost(bound), onRefused };
}

/** The host name a request addresses: its Host header without the port, lower case. */
export function requestHost(request: Request): string {
  const raw = (request.headers.get("host") ?? new URL(request.url).host).trim().toLowerCase();
  if (raw.startsWith("[")) return raw.slice(0, raw.indexOf("]") + 1);
  const colon = raw.indexOf(":");
  // more than one colon without brackets is not a valid Host; it is kept whole (and refused)
  return colon !== -1 && raw.indexOf(":", colon + 1) === -1 ? raw.slice(0, colon) : raw;
}

export function hostAllowed(p: AccessPolicy, request: Request): boolean {
  const h = requestHost(request);
  if (!h) return false;
  if (p.allowedHosts.has(h)) return true;
  const bare = h.startsWith("[") ? h.slice(1, -1) : h;
  return isIP(bare) !== 0;
}

export function bearerOk(p: AccessPolicy, request: Request): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(request.headers.get("authorization") ?? "");
  return !!m && tokenMatches(m[1]!.trim(), p.token);
}

/** The default classification: writes are control, /api/* reads are read, the rest is open. */
export function classify(method: string, path: string): AccessKind {
  if (!["GET", "HEAD", "OPTIONS"].includes(method.toUpperCase())) return "control";
  return path === "/api" || path.startsWith("/api/") ? "read" : "open";
}

const CONTROL_MSG = "POST endpoints need 'Authorization: Bearer <token>' (AWET_API_TOKEN or <home>/.tmp/api-token)";
const READ_MSG = "this server is bound beyond loopback: /api/* reads need 'Authorization: Bearer <token>' too";

/** null when the request may go on, else the refusal (already reported to onRefused). */
export function checkAccess(p: AccessPolicy, request: Request, kind: AccessKind, address: string | null): Refusal | null {
  const url = new URL(request.url);
  let r: Refusal | null = null;
  if (!hostAllowed(p, request)) r = { status: 421, method: request.method, path: url.pathname, address, reason: "Host not served here (see http_allowed_hosts)" };
  else if ((kind === "control" || (kind === "read" && p.readsNeedToken)) && !bearerOk(p, request))
    r = { status: 401, method: request.method, path: url.pathname, address, reason: kind === "control" ? CONTROL_MSG : READ_MSG };
  if (r) void Promise.resolve(p.onRefused?.(r)).catch(() => undefined);
  return r;
}

/** The refusal as the response body; sets status and, for 401, WWW-Authenticate. */
export function refusalBody(r: Refusal, set: { status?: number | string; headers: Record<string, string | number> }) {
  set.status = r.status;
  if (r.status === 401) set.headers["www-authenticate"] = 'Bearer realm="awet"';
  return r.status === 401 ? { error: "unauthorized", message: r.reason } : { error: "misdirected_request", message: r.reason };
}

/** The Elysia plugin: checks every request of the app it is mounted in (see above). */
export function accessGuard(p: AccessPolicy, kindOf: (method: string, path: string) => AccessKind = classify) {
  return new Elysia({ name: "awet-access-guard" }).onRequest(({ request, set, server }) => {
    const address = server?.requestIP(request)?.address ?? null;
    const r = checkAccess(p, request, kindOf(request.method, new URL(request.url).pathname), address);
    if (r) return refusalBody(r, set);
  });
}
