import { doctorChecks, healthChecks, type Check } from "../ops/health";
import { opsSnapshot } from "../ops/snapshot";
import { openStore } from "../compose/adapters";
import { fmtUsd } from "../core/money";
import { intFlag, parseArgs } from "./args";
import { GLOBAL_VALUE_FLAGS, out, settingsFrom } from "./common";
import { resolveHome, type Settings } from "../config/load";
import { loadDotenv } from "../config/dotenv";
import { join } from "node:path";
import { safeUrl } from "../core/url";
import { oneLine } from "../core/text";

export const HEALTH_HELP = `Usage: awet health [--json] [--url URL] [--port N] [--home DIR]

Checks the store, the deployment (every process's heartbeat row in the store: agents, last beat,
live or stale, consumer lag), the bus (Kafka when configured), the broker, the LLM, and the running
daemon's agents and scheduler, one line each. Exit 0 healthy, 1 if any check fails (including no
daemon, an expected agent with no live process, or lag above max_consumer_lag for longer than
lag_grace_seconds).

--json prints: {"status": "healthy"|"unhealthy", "checked_at": ISO, "checks": [{"name", "ok", "verdict", "fix"?}]}
with check names store, deployment (with "processes": [{process_id, agents, status, last_beat, age_s,
lag_total, lag, ...}]), bus, broker, llm, agents (and scheduler when the daemon reports one).`;

export const DOCTOR_HELP = `Usage: awet doctor [--json] [--home DIR]

Everything \`awet health\` checks, plus config validation, the permissions of .tmp/api-token and
.env (must not be readable by others), whether the home and .tmp are writable by other users or
symlinked and the token file is ours with mode 0600 (trust checks; \`awet start\` refuses a .tmp
or token others could have written), free disk, and clock skew against the broker; a suggested
fix for each failure. Exit 0 when all pass, 1 otherwise.`;

function print(checks: Check[], json: boolean, title: string): number {
  const ok = checks.every((c) => c.ok);
  if (json) {
    out(JSON.stringify({ status: ok ? "healthy" : "unhealthy", checked_at: new Date().toISOString(), checks }, null, 2));
    return ok ? 0 : 1;
  }
  out("==================================================");
  out(` ${title}`);
  out("==================================================");
  out("");
  for (const c of checks) {
    out(`${c.ok ? "✅" : "❌"} ${c.name}: ${c.verdict}`);
    if (!c.ok && c.fix) out(`   fix: ${c.fix}`);
    for (const p of c.processes ?? [])
      out(`   ${p.status === "live" ? "●" : "○"} ${p.process_id} ${p.status}: agents ${p.agents.join(", ")}; last beat ${p.last_beat} (${p.age_s} s ago); lag ${p.lag_total}${p.url ? `; ${p.url}` : ""}`);
  }
  out("");
  out("--------------------------------------------------");
  const failed = checks.filter((c) => !c.ok).length;
  out(ok ? `✅ All ${checks.length} checks passed - System is HEALTHY` : `❌ ${failed} of ${checks.length} checks failed - System is UNHEALTHY`);
  return ok ? 0 : 1;
}

const daemonUrl = (s: Settings, port?: number) => `http://${s.app.http_host === "0.0.0.0" ? "127.0.0.1" : s.app.http_host}:${port ?? s.app.http_port}`;

export async function healthCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { bool: ["json", "help"], value: [...GLOBAL_VALUE_FLAGS, "url", "port"] });
  if (p.flags.help) return out(HEALTH_HELP), 0;
  const s = settingsFrom(p);
  const url = (p.flags.url as string | undefined) ?? daemonUrl(s, intFlag(p, "port", s.app.http_port, 1, 65535));
  return print(await healthChecks(s, url), Boolean(p.flags.json), "🏥 AWET System Health Check");
}

export async function doctorCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { bool: ["json", "help"], value: [...GLOBAL_VALUE_FLAGS, "port"] });
  if (p.flags.help) return out(DOCTOR_HELP), 0;
  loadDotenv(join(resolveHome(p.flags.home as string | undefined), ".env")); // config errors are a check here, not a crash
  const port = p.flags.port ? Number(p.flags.port) : undefined;
  const checks = await doctorChecks(p.flags.home as string | undefined, p.flags.config as string | undefined, (s) => daemonUrl(s, port));
  return print(checks, Boolean(p.flags.json), "🩺 AWET Doctor");
}

export async function portalsCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { bool: ["json", "help"], value: GLOBAL_VALUE_FLAGS });
  if (p.flags.help) return out("Usage: awet portals [--json]\n\nPrints the URLs of the daemon (its dashboard, health and API) and of the compose.yml services."), 0;
  const s = settingsFrom(p);
  const d = daemonUrl(s);
  const rows = [
    ["AWET dashboard", `${d}/`, "-", "live status, charts, orders, trade chains, controls (token)"],
    ["AWET daemon", `${d}/health`, "-", "health, /metrics, /api/*, /openapi"],
    ["Grafana", "http://localhost:3000", "GRAFANA_ADMIN_USER / GRAFANA_ADMIN_PASSWORD from .env", "dashboards"],
    ["Prometheus", "http://localhost:9090", "-", "metrics & queries"],
    ["Alertmanager", "http://localhost:9093", "-", "alert management"],
    ["Kafka UI", "http://localhost:8080", "-", "topics, consumer groups"],
    ["Schema Registry", "http://localhost:8081", "-", "Avro schemas"],
    ["Ollama", safeUrl(s.llm.base_url), "-", "LLM API"],
    ["TimescaleDB", "localhost:5433", "POSTGRES_USER / POSTGRES_PASSWORD from .env", "PostgreSQL + time-series"],
  ];
  if (p.flags.json) out(JSON.stringify(rows.map(([name, url, credentials, purpose]) => ({ name, url, credentials, purpose })), null, 2));
  else for (const [n, u, c, pu] of rows) out(`${n!.padEnd(16)} ${u!.padEnd(36)} ${pu}${c !== "-" ? `  (login: ${c})` : ""}`);
  return 0;
}

export async function opsCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { bool: ["json", "help"], value: GLOBAL_VALUE_FLAGS });
  if (p.flags.help || p.positionals[0] !== "snapshot") return out("Usage: awet ops snapshot [--json]\n\nPending orders, open positions, exposure vs caps, trading state, last reconcile, orders recorded unknown, orders adopted from the broker, the last 10 operator actions and refused requests (who, what, before → after), last errors."), p.flags.help ? 0 : 2;
  const s = settingsFrom(p);
  const store = await openStore(s);
  try {
    const snap = await opsSnapshot(s, store);
    if (p.flags.json) return out(JSON.stringify(snap, null, 2)), 0;
    out(`trading state     ${snap.trading_state}   (execution_dry_run=${snap.execution_dry_run}, approved=${snap.approved})`);
    out(`pending orders    ${snap.pending_orders.length}`);
    for (const o of snap.pending_orders) out(`  ${o.ts} ${o.symbol} ${o.side} ${o.qty} ${o.status} ${o.client_order_id ?? ""}`);
    out(`open positions    ${snap.positions.length}`);
    for (const x of snap.positions) out(`  ${x.symbol.padEnd(6)} ${String(x.qty).padStart(6)} @ ${x.avg_entry_price}  value ${fmtUsd(x.market_value)}  P/L ${fmtUsd(x.unrealized_pl, true)}`);
    out(`exposure          ${fmtUsd(snap.exposure.total_usd)} of ${fmtUsd(snap.exposure.max_total_usd)} (${(snap.exposure.used_pct).toFixed(1)}%); per symbol cap ${fmtUsd(snap.exposure.max_per_symbol_usd)}`);
    out(`last reconcile    ${snap.last_reconcile ?? "never"}`);
    out(`unknown orders    ${snap.unknown_orders.length}${snap.unknown_orders.length ? "   (the broker never answered within in_flight_seconds; revised if it lists them)" : ""}`);
    for (const o of snap.unknown_orders) out(`  ${o.ts} ${o.symbol} ${o.side} ${o.qty} ${oneLine(o.client_order_id ?? "")} submitted ${o.submit_wall_at ?? "?"}`);
    out(`adopted orders    ${snap.adopted_orders.length}${snap.adopted_orders.length ? "   (broker orders with our client_order_id that had no row)" : ""}`);
    for (const o of snap.adopted_orders) out(`  ${o.adopted_at} ${o.symbol} ${o.side} ${o.qty} ${o.status} filled ${o.filled_qty} ${oneLine(o.client_order_id ?? "")} ${oneLine(o.broker_order_id ?? "")}`);
    out(`operator actions  ${snap.operator_actions.length ? "(newest first)" : "none"}`);
    const brief = (v: unknown) => (v && typeof v === "object" ? Object.entries(v).map(([k, x]) => `${k}=${typeof x === "object" ? JSON.stringify(x) : String(x)}`).join(" ") : String(v));
    for (const a of snap.operator_actions)
      out(`  ${a.ts} ${oneLine(a.who)}: ${oneLine(a.action)} ${a.ok ? "ok" : "FAILED"}${a.detail ? ` (${oneLine(a.detail)})` : ""}${a.event === "control" ? `  ${oneLine(brief(a.before))} → ${oneLine(brief(a.after))}` : ""}`);
    out(`last errors       ${snap.last_errors.length ? "" : "none"}`);
    for (const e of snap.last_errors) out(`  ${e.ts} ${e.kind}: ${oneLine(e.message)}`);
    return 0;
  } finally {
    await store.close();
  }
}
