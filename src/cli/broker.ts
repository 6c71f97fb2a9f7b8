import { operatorReconciler, reconcilableBroker, reconcileLine } from "../ops/reconcile";
import { marketIsOpen } from "../market/open-now";
import { alpacaBroker, openStore } from "../compose/adapters";
import { UsageError, errorMessage } from "../core/errors";
import { fmtUsd } from "../core/money";
import { safeUrl } from "../core/url";
import { redactText } from "../llm/redact";
import { makeLogger } from "../obs/log";
import type { Store } from "../store/port";
import { intFlag, parseArgs } from "./args";
import { GLOBAL_VALUE_FLAGS, out, settingsFrom } from "./common";

export const RECONCILE_HELP = `Usage: awet reconcile --once | --watch [--interval 60] | --eod   [--home DIR]

Polls every non-terminal order (new, accepted, pending_new, partially_filled, and pending_submit
rows, which are resolved by asking the broker for their client_order_id — never resubmitted),
updates alpaca_status, filled_qty, avg_fill_price, filled_at, updated_at, cancels entries unfilled
after unfilled_timeout_seconds, and stops polling terminal orders. A pending_submit row the broker
does not know stays open for in_flight_seconds of wall time, then becomes 'unknown' (never
'rejected'). Each cycle then lists the broker's orders since the previous listing (GET /v2/orders,
paged) and links every one to its row by client_order_id — 'unknown' rows included — and adopts
ours that have no row. Windows are wall-clock time. Broker reads are retried after 5s/15s/30s on
429/5xx/timeouts (Retry-After honoured). Prints a RECONCILE_CYCLE line per cycle (unknown= rows
that became unknown, linked= rows the listing linked or revised, adopted= orders adopted).
--eod: orders, then positions, then the end-of-day summary lines.
Only for broker: alpaca (the simulated broker fills from bars and needs no reconciliation).`;

export const POSITIONS_HELP = `Usage: awet positions [--watch] [--interval 120] [--json]   |   awet portfolio [--json]

positions: upserts the broker's positions into the positions table and zeroes symbols no longer
held, then prints the book. portfolio: prints the book from the database (no broker call).`;

export const VERIFY_HELP = `Usage: awet verify-alpaca [--json]

Checks ALPACA_BASE_URL (must be Alpaca's paper host), the keys APCA_API_KEY_ID / APCA_API_SECRET_KEY
(from the environment or <home>/.env) and the account against the API, and prints what it found.
The secret is never printed; the key id is shown masked.`;

const line = reconcileLine;

export async function reconcileCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { bool: ["help", "once", "watch", "eod", "json"], value: [...GLOBAL_VALUE_FLAGS, "interval"] });
  if (p.flags.help) return out(RECONCILE_HELP), 0;
  const modes = ["once", "watch", "eod"].filter((m) => p.flags[m]);
  if (modes.length !== 1) throw new UsageError("awet reconcile: give exactly one of --once, --watch, --eod");
  const s = settingsFrom(p);
  const broker = reconcilableBroker(s);
  if (!broker) {
    out(`broker '${s.app.broker}' fills from the bar stream; nothing to reconcile (set broker: alpaca to use Alpaca's paper API)`);
    return 0;
  }
  const store = await openStore(s);
  const log = makeLogger({ logsDir: s.paths.logs, level: s.app.log_level, name: "reconcile" });
  const r = operatorReconciler(s, broker, store, log);
  try {
    if (p.flags.once || p.flags.eod) {
      if (p.flags.eod) out("EOD_JOB_STARTING");
      const st = await r.reconcileOrders();
      out(p.flags.eod ? `Orders reconciled: ${st.updated} updated, ${st.became_terminal} terminal, ${st.errors} errors` : line(st as unknown as Record<string, number>));
      if (p.flags.eod) {
        const ps = await r.reconcilePositions();
        out(`Positions synced: ${ps.synced} (${ps.zeroed} zeroed)`);
        out("EOD_JOB_COMPLETE");
      }
      return st.errors > 0 ? 1 : 0;
    }
    const every = intFlag(p, "interval", s.app.reconcile_interval_seconds, 1, 86_400);
    out(`reconcile_loop_started interval=${every}`);
    for (;;) {
      try {
        const m = await marketIsOpen(broker, Date.now());
        if (!m.open) out(`RECONCILE_CYCLE skipped_market_closed (per ${m.source}) next_run_in=${every}`);
        else out(line((await r.reconcileOrders()) as unknown as Record<string, number>) + ` market_hours=True next_run_in=${every}`);
      } catch (e) {
        out(`RECONCILE_CYCLE failed: ${errorMessage(e)}`);
      }
      await Bun.sleep(every * 1000);
    }
  } finally {
    await store.close();
  }
}

async function printBook(store: Store, json: boolean): Promise<void> {
  const ps = (await store.positions()).filter((x) => x.qty !== 0);
  if (json) return out(JSON.stringify(ps.map((x) => ({ ...x, opened_at: x.opened_at && new Date(x.opened_at).toISOString(), updated_at: new Date(x.updated_at).toISOString() })), null, 2));
  if (ps.length === 0) return out("no open positions");
  out(`${"symbol".padEnd(8)}${"qty".padStart(8)}${"avg entry".padStart(12)}${"last".padStart(12)}${"market value".padStart(15)}${"unrealized P/L".padStart(16)}`);
  for (const x of ps)
    out(`${x.symbol.padEnd(8)}${String(x.qty).padStart(8)}${x.avg_entry_price.toFixed(2).padStart(12)}${(x.last_price?.toFixed(2) ?? "-").padStart(12)}${fmtUsd(x.market_value).padStart(15)}${fmtUsd(x.unrealized_pl, true).padStart(16)}`);
  out(`total: ${ps.length} positions, market value ${fmtUsd(ps.reduce((a, x) => a + x.market_value, 0))}, unrealized ${fmtUsd(ps.reduce((a, x) => a + x.unrealized_pl, 0), true)}`);
}

export async function positionsCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { bool: ["help", "watch", "json"], value: [...GLOBAL_VALUE_FLAGS, "interval"] });
  if (p.flags.help) return out(POSITIONS_HELP), 0;
  const s = settingsFrom(p);
  const broker = reconcilableBroker(s);
  const store = await openStore(s);
  try {
    if (!broker) {
      out(`broker '${s.app.broker}': positions come from its fills; showing the book`);
      await printBook(store, Boolean(p.flags.json));
      return 0;
    }
    const log = makeLogger({ logsDir: s.paths.logs, level: s.app.log_level, name: "reconcile" });
    const r = operatorReconciler(s, broker, store, log);
    const every = intFlag(p, "interval", s.app.positions_interval_seconds, 1, 86_400);
    for (;;) {
      const ps = await r.reconcilePositions();
      if (!p.flags.json) out(`positions synced: ${ps.synced} (${ps.zeroed} zeroed)`);
      await printBook(store, Boolean(p.flags.json));
      if (!p.flags.watch) return 0;
      await Bun.sleep(every * 1000);
    }
  } finally {
    await store.close();
  }
}

export async function portfolioCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { bool: ["help", "json"], value: GLOBAL_VALUE_FLAGS });
  if (p.flags.help) return out(POSITIONS_HELP), 0;
  const store = await openStore(settingsFrom(p));
  try {
    await printBook(store, Boolean(p.flags.json));
  } finally {
    await store.close();
  }
  return 0;
}

export async function verifyAlpacaCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { bool: ["help", "json"], value: GLOBAL_VALUE_FLAGS });
  if (p.flags.help) return out(VERIFY_HELP), 0;
  const s = settingsFrom(p); // with <home>/.env
  const env = s.alpaca;
  const keyId = env.keyId ?? "";
  const masked = keyId ? `${keyId.slice(0, 4)}…(${keyId.length} chars)` : "(not set)";
  const report: Record<string, unknown> = { base_url: env.baseUrl ? safeUrl(env.baseUrl) : "(default paper host)", key_id: masked, secret: env.secret ? "set (not shown)" : "(not set)" };
  let ok = false;
  try {
    const b = alpacaBroker(s);
    report.trading_url = safeUrl(b.url);
    const a = await b.account();
    Object.assign(report, { account_id: a.id, account_status: a.status, equity: a.equity, buying_power: a.buying_power, pattern_day_trader: a.pattern_day_trader, currency: a.currency });
    ok = a.status === "ACTIVE";
    if (!ok) report.problem = `account status is ${a.status}, not ACTIVE`;
  } catch (e) {
    report.problem = redactText(errorMessage(e), s.secrets);
  }
  if (p.flags.json) out(JSON.stringify({ ok, ...report }, null, 2));
  else {
    for (const [k, v] of Object.entries(report)) out(`${k.padEnd(20)}${String(v)}`);
    out(ok ? "✅ Alpaca paper account verified" : "❌ Alpaca verification failed");
  }
  return ok ? 0 : 1;
}
