import { statfsSync, existsSync, statSync } from "node:fs";
import { Kafka, logLevel } from "kafkajs";
import { openBroker } from "../compose/adapters";
import { loadSettings, type Settings } from "../config/load";
import { errorMessage } from "../core/errors";
import { makeLlmClient } from "../compose/adapters";
import { silentLogger } from "../obs/log";
import { makeStore } from "../compose/adapters";
import { safeUrl } from "../core/url";
import { homeTrust } from "./trust";
import type { Store } from "../store/port";
import { deploymentView } from "../agents/watchtower";
import type { ProcessView } from "../obs/deployment";

export interface Check {
  name: string;
  ok: boolean;
  verdict: string;
  fix?: string;
  /** The deployment check: every process with its agents, last beat, status and lag. */
  processes?: ProcessView[];
}

const withTimeout = <T>(p: Promise<T>, ms: number, what: string) =>
  Promise.race([p, new Promise<T>((_, rej) => setTimeout(() => rej(new Error(`${what}: no answer within ${ms} ms`)), ms))]);

/**
 * `awet health`: each part checked directly (store, bus, broker, LLM) plus the running daemon's
 * own /health (agents, scheduler). Each check has a one-line verdict; the runbook's fix when it fails.
 */
export async function healthChecks(s: Settings, daemonUrl: string): Promise<Check[]> {
  const checks: Check[] = [];
  // store
  const store = makeStore(s);
  try {
    await withTimeout(store.ping(), 5000, "store");
    checks.push({ name: "store", ok: true, verdict: s.app.store === "postgres" ? "PostgreSQL: connected successfully" : `SQLite: ${s.paths.db} readable` });
    checks.push(await deploymentCheck(store, s));
  } catch (e) {
    checks.push({ name: "store", ok: false, verdict: `${s.app.store}: ${errorMessage(e)}`, fix: s.app.store === "postgres" ? "check DATABASE_URL; `docker compose restart timescaledb`; `awet db check`" : `check ${s.paths.db} and its directory permissions` });
  } finally {
    await store.close().catch(() => undefined);
  }
  // bus
  if (s.app.bus === "kafka") {
    const kafka = new Kafka({ clientId: "awet-health", brokers: s.kafka.brokers, logLevel: logLevel.NOTHING, connectionTimeout: 3000, retry: { retries: 0 } });
    const admin = kafka.admin();
    try {
      await withTimeout(admin.connect(), 5000, "kafka");
      const topics = await withTimeout(admin.listTopics(), 5000, "kafka");
      checks.push({ name: "bus", ok: true, verdict: `Kafka: ${topics.length} topics available` });
    } catch (e) {
      checks.push({ name: "bus", ok: false, verdict: `Kafka: ${errorMessage(e)}`, fix: "`docker compose restart kafka`; check KAFKA_BROKERS" });
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  } else checks.push({ name: "bus", ok: true, verdict: "in-process bus (bus: memory)" });
  // broker
  try {
    const b = openBroker(s);
    await withTimeout(b.ping(), 8000, "broker");
    checks.push({ name: "broker", ok: true, verdict: b.name === "alpaca" ? "Alpaca paper account answers" : "simulated paper broker" });
  } catch (e) {
    checks.push({ name: "broker", ok: false, verdict: errorMessage(e), fix: "`awet verify-alpaca`; check APCA_API_KEY_ID / APCA_API_SECRET_KEY and ALPACA_BASE_URL (paper host only)" });
  }
  // LLM
  if (s.llm.llm_enabled) {
    const h = await makeLlmClient(s, { log: silentLogger }).health();
    checks.push(h.ok ? { name: "llm", ok: true, verdict: `Ollama is running (${h.detail})` } : { name: "llm", ok: false, verdict: `Ollama ${h.detail}`, fix: `check it: curl ${safeUrl(s.llm.base_url)}/ ; set OLLAMA_HOST, or llm_enabled: false to run rule-only` });
  } else checks.push({ name: "llm", ok: true, verdict: "disabled (llm_enabled: false): risk runs rule-only" });
  // daemon: agents and scheduler
  try {
    const res = await fetch(`${daemonUrl}/health`, { signal: AbortSignal.timeout(5000) });
    const body = (await res.json()) as any;
    const agents = Object.entries<any>(body.agents ?? {});
    const bad = agents.filter(([, a]) => a.state === "failed" || a.state === "stopped");
    checks.push({ name: "agents", ok: bad.length === 0, verdict: bad.length ? `not running: ${bad.map(([n]) => n).join(", ")}` : `${agents.length} agents running (${agents.map(([n]) => n).join(", ")})`, fix: bad.length ? "see logs/awet.log; restart with `awet start`" : undefined });
    if (body.scheduler) {
      // A job on a period with no next run is not scheduled here (reconcile and positions_sync on the simulator).
      const jobs = Object.values<any>(body.scheduler.jobs ?? {}).filter((j) => !(j.every_seconds !== undefined && j.next === null));
      checks.push({ name: "scheduler", ok: body.scheduler.ok !== false, verdict: `${jobs.length} jobs scheduled${body.scheduler.next ? `, next ${body.scheduler.next}` : ""}` });
    }
  } catch (e) {
    checks.push({ name: "agents", ok: false, verdict: `daemon not reachable at ${daemonUrl}: ${errorMessage(e)}`, fix: "start it: `awet start` (or `docker compose up -d awet`)" });
  }
  return checks;
}

/**
 * Every process of the deployment from the heartbeat and lag rows in the store: read directly, so
 * it answers even when the daemon at the URL is the process that died.
 */
export async function deploymentCheck(store: Store, s: Settings, now = Date.now()): Promise<Check> {
  try {
    const { view } = await withTimeout(deploymentView(store, s, now), 5000, "deployment");
    const live = view.processes.filter((p) => p.status === "live").length;
    const head = `${view.processes.length} process(es), ${live} live`;
    return {
      name: "deployment", ok: view.healthy, processes: view.processes,
      verdict: view.healthy ? `${head}; every expected agent has a live process; lag within ${s.app.max_consumer_lag}` : `${head}; ${view.problems.map((p) => p.message).join("; ")}`,
      fix: view.healthy ? undefined : "restart the stale process (`awet start --agents ...` on its host), or check the slow consumer; `curl <daemon>/api/watchtower` shows every process and lag row",
    };
  } catch (e) {
    return { name: "deployment", ok: false, verdict: `heartbeat table unreadable: ${errorMessage(e)}`, fix: "start the daemon once (it applies migration 006), or `awet db migrate`" };
  }
}

/** `awet doctor`: health plus config, file permissions, free disk and clock skew against the broker. */
export async function doctorChecks(home: string | undefined, configDir: string | undefined, daemonUrl: (s: Settings) => string): Promise<Check[]> {
  let s: Settings;
  try {
    s = loadSettings({ home, configDir });
  } catch (e) {
    return [{ name: "config", ok: false, verdict: errorMessage(e), fix: "fix the key named above in config/app.yaml or config/llm.yaml (or the environment variable)" }];
  }
  const checks: Check[] = [{ name: "config", ok: true, verdict: `config valid (${s.configDir})` }];
  checks.push(...(await healthChecks(s, daemonUrl(s))));
  for (const [name, file] of [["api-token", s.paths.apiToken], [".env", `${s.home}/.env`]] as const) {
    if (!existsSync(file)) {
      checks.push({ name: `perms ${name}`, ok: true, verdict: `${file} not present` });
      continue;
    }
    const mode = statSync(file).mode & 0o777;
    const ok = (mode & 0o077) === 0;
    checks.push({ name: `perms ${name}`, ok, verdict: `${file} mode ${mode.toString(8).padStart(4, "0")}`, fix: ok ? undefined : `chmod 600 ${file} (it holds secrets)` });
  }
  const trust = homeTrust(s);
  for (const what of ["home", ".tmp", "api-token"] as const) {
    const ps = trust.filter((t) => t.what === what);
    checks.push(ps.length ? { name: `trust ${what}`, ok: false, verdict: ps.map((t) => `${t.path} ${t.problem}`).join("; "), fix: ps.map((t) => t.fix).join("; ") } : { name: `trust ${what}`, ok: true, verdict: `${what === "home" ? s.home : what === ".tmp" ? s.paths.tmp : s.paths.apiToken}: not writable by others${what === "api-token" ? ", ours, 0600 (or absent)" : ""}` });
  }
  try {
    const st = statfsSync(s.home);
    const free = st.bavail * st.bsize;
    const gb = free / 1024 ** 3;
    checks.push({ name: "disk", ok: gb >= 1, verdict: `${gb.toFixed(1)} GiB free under ${s.home}`, fix: gb >= 1 ? undefined : "free disk space: logs/, .awet/ (SQLite), or move to PostgreSQL" });
  } catch (e) {
    checks.push({ name: "disk", ok: false, verdict: errorMessage(e) });
  }
  const b = openBroker(s);
  if (b.clock) {
    try {
      const t0 = Date.now();
      const c = await b.clock();
      const skew = Math.abs(c.timestamp - (t0 + Date.now()) / 2);
      checks.push({ name: "clock", ok: skew < 2000, verdict: `clock skew against the broker ${Math.round(skew)} ms`, fix: skew < 2000 ? undefined : "sync the host clock (chrony/ntp): gates and exits use time" });
    } catch (e) {
      checks.push({ name: "clock", ok: false, verdict: `broker clock unreachable: ${errorMessage(e)}` });
    }
  } else checks.push({ name: "clock", ok: true, verdict: "no broker clock to compare (simulated broker)" });
  return checks;
}
