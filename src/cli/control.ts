import type { Store } from "../store/port";
import { UsageError } from "../core/errors";
import { TradingStateService } from "../state/trading-state";
import { approve, controlState, ensureApiToken, paperOff, paperOn, paperStatus, revoke, setExitLogic, setTradingState, type PaperStatus } from "../ops/control";
import { audited, cliActor } from "../ops/audit";
import { makeLogger } from "../obs/log";
import { intFlag, parseArgs } from "./args";
import { GLOBAL_VALUE_FLAGS, out, settingsFrom, withStore } from "./common";
import type { Settings } from "../config/load";

export const CONTROL_HELP = `Operator controls (each also a REST endpoint; see GET /openapi):

  awet paper on        execution_dry_run: false in config/app.yaml (comments kept) + create the approval file
  awet paper off       execution_dry_run: true + remove the approval file
  awet paper status    dry run, approval file, trading state
  awet approve         create <home>/.tmp/APPROVE_EXECUTION (keeps execution_dry_run as it is)
  awet revoke          remove it
  awet halt [--reducing] [--reason TEXT]
                       trading state HALTED (nothing trades) or REDUCING (only orders that shrink positions)
  awet resume          trading state ACTIVE
  awet exit on|off     enable_exit_logic in config/app.yaml
  awet exit run        ask the running daemon to evaluate every open position now
  awet exit watch [--interval S]
                       do that every S seconds (default: exit_check_interval_seconds)

A running daemon picks up config edits without a restart. Options: --json, --home DIR, --config DIR.`;

function printStatus(st: PaperStatus, json: boolean): void {
  if (json) return out(JSON.stringify(st, null, 2));
  const y = (b: boolean) => (b ? "yes" : "no");
  out(`execution_dry_run  ${st.execution_dry_run}   (${st.config_file})`);
  out(`approval file      ${y(st.approved)}   (${st.approval_file})`);
  out(`trading state      ${st.trading_state}`);
  out(st.trading_enabled ? "✅ paper trading ENABLED: orders go to the paper broker" : "⛔ paper trading DISABLED: every order is blocked");
}

/** Run one control action from the CLI, audited (who: the OS user; state before → after). */
function control<T>(s: Settings, action: string, run: (store: Store) => Promise<T> | T): Promise<T> {
  return withStore(s, (store) => {
    const log = makeLogger({ logsDir: s.paths.logs, level: s.app.log_level, stderr: false });
    return audited({ store, log, actor: cliActor() }, action, () => controlState(s, store), async () => run(store));
  });
}

export async function paperCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { bool: ["json", "help"], value: GLOBAL_VALUE_FLAGS });
  if (p.flags.help || !p.positionals[0]) return out(CONTROL_HELP), p.flags.help ? 0 : 2;
  const s = settingsFrom(p);
  const json = Boolean(p.flags.json);
  const sub = p.positionals[0];
  if (sub === "on" || sub === "off") {
    printStatus(await control(s, `paper ${sub}`, (store) => (sub === "on" ? paperOn(s, store) : paperOff(s, store))), json);
    return 0;
  }
  if (sub !== "status") throw new UsageError(`awet paper: expected on, off or status; got '${sub}'`);
  return withStore(s, async (store) => {
    printStatus(await paperStatus(s, store), json);
    return 0;
  });
}

export async function approveCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { bool: ["help"], value: GLOBAL_VALUE_FLAGS });
  if (p.flags.help) return out(CONTROL_HELP), 0;
  const s = settingsFrom(p);
  out(`approval file created: ${await control(s, "approve", () => approve(s))}`);
  return 0;
}

export async function revokeCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { bool: ["help"], value: GLOBAL_VALUE_FLAGS });
  if (p.flags.help) return out(CONTROL_HELP), 0;
  const s = settingsFrom(p);
  out((await control(s, "revoke", () => revoke(s))) ? `approval file removed: ${s.paths.approvalFile}` : `no approval file at ${s.paths.approvalFile} (already revoked)`);
  return 0;
}

export async function haltCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { bool: ["help", "reducing", "json"], value: [...GLOBAL_VALUE_FLAGS, "reason"] });
  if (p.flags.help) return out(CONTROL_HELP), 0;
  const s = settingsFrom(p);
  const to = p.flags.reducing ? "REDUCING" : "HALTED";
  const r = await control(s, p.flags.reducing ? "halt --reducing" : "halt", (st) => setTradingState(new TradingStateService(st), to, `cli: ${String(p.flags.reason ?? "operator")}`, "cli"));
  out(p.flags.json ? JSON.stringify(r) : `trading state ${r.from} → ${r.to}`);
  return 0;
}

export async function resumeCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { bool: ["help", "json"], value: GLOBAL_VALUE_FLAGS });
  if (p.flags.help) return out(CONTROL_HELP), 0;
  const s = settingsFrom(p);
  const r = await control(s, "resume", (st) => setTradingState(new TradingStateService(st), "ACTIVE", "cli: resume", "cli"));
  out(p.flags.json ? JSON.stringify(r) : `trading state ${r.from} → ${r.to}`);
  return 0;
}

async function daemonPost(s: Settings, path: string, port: number): Promise<unknown> {
  const token = ensureApiToken(s, false);
  if (!token) throw new UsageError(`no API token: set AWET_API_TOKEN or start the daemon once (it writes ${s.paths.apiToken})`);
  const url = `http://${s.app.http_host}:${port}${path}`;
  let res: Response;
  try {
    res = await fetch(url, { method: "POST", headers: { authorization: `Bearer ${token.token}` }, signal: AbortSignal.timeout(30_000) });
  } catch (e) {
    throw new UsageError(`daemon not reachable at ${url}: ${(e as Error).message} (is 'awet start' running?)`);
  }
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new UsageError(`${url} answered ${res.status}: ${JSON.stringify(body)}`);
  return body;
}

export async function exitCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { bool: ["help", "json"], value: [...GLOBAL_VALUE_FLAGS, "interval", "port"] });
  const sub = p.positionals[0];
  if (p.flags.help || !sub) return out(CONTROL_HELP), p.flags.help ? 0 : 2;
  const s = settingsFrom(p);
  if (sub === "on" || sub === "off") {
    out(`enable_exit_logic: ${sub === "on"} (${await control(s, `exit ${sub}`, () => setExitLogic(s, sub === "on"))})`);
    return 0;
  }
  const port = intFlag(p, "port", s.app.http_port, 1, 65535);
  const once = async () => {
    const r = (await daemonPost(s, "/api/exit/run", port)) as { checks: { symbol: string; qty: number; price: number; decision: string; detail: string; result?: { status: string; reason?: string } }[] };
    if (p.flags.json) return out(JSON.stringify(r));
    if (r.checks.length === 0) return out(`${new Date().toISOString()} no open positions`);
    for (const c of r.checks)
      out(`${new Date().toISOString()} ${c.symbol} qty ${c.qty} @ ${c.price}: ${c.decision}${c.detail ? ` (${c.detail})` : ""}${c.result ? ` → ${c.result.status}${c.result.reason ? ` ${c.result.reason}` : ""}` : ""}`);
  };
  if (sub === "run") {
    await once();
    return 0;
  }
  if (sub === "watch") {
    const every = intFlag(p, "interval", s.app.exit_check_interval_seconds, 1, 86_400);
    for (;;) {
      await once();
      await Bun.sleep(every * 1000);
    }
  }
  throw new UsageError(`awet exit: expected run, watch, on or off; got '${sub}'`);
}

