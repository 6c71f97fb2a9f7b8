import { randomUUID } from "node:crypto";
import { userInfo } from "node:os";
import { envelope } from "../core/events";
import { errorMessage } from "../core/errors";
import type { Logger } from "../obs/log";
import type { AuditRow, Store } from "../store/port";

/**
 * The audit trail of operator actions (issue 13.7): every control action — who (CLI with the OS
 * user, or REST with the client address), what, the control state before and after — and every
 * refused request (401, a Host that is not served) is one log line and one audit_events row with
 * source and correlation id 'operator' (read back through the correlation index, so no index of
 * its own on the audit table). `awet ops snapshot` shows the newest.
 */
export const OPERATOR_SOURCE = "operator";
export const OPERATOR_CORRELATION = "operator";

export interface Actor {
  via: "cli" | "rest";
  /** The client's IP address (REST), when known. */
  address: string | null;
  /** The OS user (CLI). */
  user?: string;
}

export function cliActor(): Actor {
  let user = "unknown";
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (a container): the uid is still something
    user = String(process.getuid?.() ?? "unknown");
  }
  return { via: "cli", address: null, user };
}

export interface OperatorEvent {
  ts: string;
  event: "control" | "refused";
  via: string;
  who: string;
  action: string;
  before: unknown;
  after: unknown;
  ok: boolean;
  detail: string | null;
}

const who = (a: Actor) => (a.via === "cli" ? `cli ${a.user ?? "?"}` : `rest ${a.address ?? "unknown address"}`);

async function store1(store: Store, log: Logger | undefined, payload: Record<string, unknown>, now: number, msg: string): Promise<void> {
  const lvl = payload.ok === false || payload.event === "refused" ? "warn" : "info";
  log?.[lvl]({ audit: payload }, msg);
  await store.appendAudit([envelope("audit", { ts: now, correlation_id: OPERATOR_CORRELATION, idempotency_key: randomUUID(), source: OPERATOR_SOURCE, symbol: "", payload })]);
  await store.flush();
}

/** Record one control action (ok or failed) with the state before and after it. */
export async function auditControl(
  store: Store,
  log: Logger | undefined,
  e: { actor: Actor; action: string; before: unknown; after: unknown; ok: boolean; detail?: string | null },
  now = Date.now(),
): Promise<void> {
  await store1(store, log, { event: "control", via: e.actor.via, who: who(e.actor), action: e.action, before: e.before, after: e.after, ok: e.ok, detail: e.detail ?? null }, now, "operator action");
}

/** Record a refused request (401, or a Host header that is not allowed). */
export async function auditRefused(store: Store, log: Logger | undefined, r: { status: number; method: string; path: string; address: string | null; reason: string }, now = Date.now()): Promise<void> {
  await store1(store, log, { event: "refused", via: "rest", who: who({ via: "rest", address: r.address }), action: `${r.method} ${r.path.slice(0, 200)}`, before: null, after: null, ok: false, detail: `${r.status} ${r.reason}` }, now, "request refused");
}

/**
 * Run one control action and audit it: `state` is read before and after (the action's own
 * result is added to `after` when given), a failure is audited with its message and rethrown.
 */
export async function audited<T>(
  ctx: { store: Store; log?: Logger; actor: Actor },
  action: string,
  state: () => Promise<unknown>,
  run: () => Promise<T>,
  result?: (r: T) => unknown,
): Promise<T> {
  const before = await state().catch((e) => ({ unreadable: errorMessage(e) }));
  try {
    const r = await run();
    const after = await state().catch((e) => ({ unreadable: errorMessage(e) }));
    await auditControl(ctx.store, ctx.log, { actor: ctx.actor, action, before, after: result ? { ...(after as object), result: result(r) } : after, ok: true });
    return r;
  } catch (e) {
    const after = await state().catch(() => null);
    await auditControl(ctx.store, ctx.log, { actor: ctx.actor, action, before, after, ok: false, detail: errorMessage(e).slice(0, 500) }).catch(() => undefined);
    throw e;
  }
}

/** The newest operator events, newest first. */
export async function recentOperatorEvents(store: Store, limit = 10): Promise<OperatorEvent[]> {
  const rows: AuditRow[] = await store.recentAudit(OPERATOR_CORRELATION, limit);
  return rows.map((r) => {
    const p = (r.payload ?? {}) as Record<string, any>;
    return {
      ts: new Date(r.ts).toISOString(), event: p.event, via: String(p.via ?? ""), who: String(p.who ?? ""), action: String(p.action ?? ""),
      before: p.before ?? null, after: p.after ?? null, ok: p.ok !== false, detail: p.detail ?? null,
    };
  });
}
