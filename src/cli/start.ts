import { existsSync } from "node:fs";
import { AGENT_NAMES, Supervisor, runSeed, type AgentName } from "../agents/supervisor";
import { checkWatchConfig } from "../agents/watchtower";
import { UsageError } from "../core/errors";
import { ensureApiToken, tokenFileMode } from "../ops/control";
import { homeTrust } from "../ops/trust";
import { isLoopbackHost } from "../core/net";
import { Scheduler } from "../jobs/scheduler";
import { StartupError, errorMessage } from "../core/errors";
import { ReplaySource, type MarketSource } from "../market/replay";
import { alpacaBarSource, makeClock } from "../compose/adapters";
import { makeLogger } from "../obs/log";
import { Metrics } from "../obs/metrics";
import { buildApp } from "../server/app";
import { VERSION } from "../version";
import { intFlag, parseArgs, speedFlag } from "./args";
import { GLOBAL_VALUE_FLAGS, out, resolveDataPath, settingsFrom } from "./common";
import { summaryText } from "./summary";
import { safeUrl } from "../core/url";

export const START_HELP = `Usage: awet start [--port N] [--replay PATH] [--speed max|N] [--no-replay] [--home DIR] [--config DIR]

Starts the daemon: the HTTP server (the operator dashboard at /; GET /health, /metrics, /api/status, /api/trades, /openapi; the
POST control endpoints need the bearer token from AWET_API_TOKEN or <home>/.tmp/api-token, which is
generated with mode 0600 on first start; bound beyond loopback, every /api/* read needs it too, and
a Host header outside http_allowed_hosts gets 421) and the agent pipeline. It refuses a .tmp or
token file that other users could have written. On the embedded defaults (bun:sqlite, in-process bus, simulated paper broker) it replays
the bundled real market data (replay_path in config/app.yaml) at replay_speed, then stays up.

  --port N       HTTP port (default http_port from config/app.yaml; 0 picks a free port)
  --replay PATH  replay these CSV files or directories instead of replay_path
  --speed S      'max' or N (market time N times faster than real time)
  --no-replay    start the server and agents without replaying anything
  --agents LIST  run only these agents (ingestion,features,prediction,risk,execution,exit,watchtower),
                 to split the pipeline across processes on one Kafka bus and one database; the
                 process without ingestion replays nothing and its /health reports only its agents
                 (plus, from the shared store, every process of the deployment: see below)
  --name NAME    this process's id in the heartbeat table (default <host>:<agents>, or <host>:all)
  --home DIR     where state lives: <home>/.awet/awet.db, <home>/.tmp/, <home>/logs/

Every process writes a heartbeat row to the store every heartbeat_interval_seconds; the process
running the watchtower agent measures consumer lag every watchtower_interval_seconds. GET /health
in any process lists every process with its agents, last beat and lag, and is 503 when an expected
agent (expected_agents) has no live process or a lag stays above max_consumer_lag for longer than
lag_grace_seconds.

Stop with Ctrl-C (SIGINT) or SIGTERM: the replay stops, everything buffered is written, the
heartbeat row is removed, exit 0.`;

export async function startCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { bool: ["help", "no-replay"], value: [...GLOBAL_VALUE_FLAGS, "port", "replay", "speed", "agents", "name"] });
  if (p.flags.help) return out(START_HELP), 0;
  const settings = settingsFrom(p);
  const port = intFlag(p, "port", settings.app.http_port, 0, 65535);
  const speed = speedFlag(p, settings.app.replay_speed);
  const host = settings.app.http_host;
  const log = makeLogger({ logsDir: settings.paths.logs, level: settings.app.log_level });
  const metrics = new Metrics({ defaultMetrics: true });
  let agents: AgentName[] | undefined;
  if (p.flags.agents !== undefined) {
    agents = String(p.flags.agents).split(",").map((x) => x.trim()).filter(Boolean) as AgentName[];
    const bad = agents.filter((a) => !(AGENT_NAMES as readonly string[]).includes(a));
    if (bad.length || agents.length === 0) throw new UsageError(`--agents: unknown agent ${bad.map((b) => `'${b}'`).join(", ") || "(none given)"}; choose from ${AGENT_NAMES.join(", ")}`);
  }
  checkWatchConfig(settings);
  const name = p.flags.name === undefined ? undefined : String(p.flags.name).trim();
  if (name !== undefined && !/^[\w.:@,+-]{1,120}$/.test(name)) throw new UsageError(`--name: '${name}' must be 1-120 letters, digits or . : @ , + - _`);
  const replayPaths = p.flags["no-replay"] || (agents && !agents.includes("ingestion")) ? [] : [p.flags.replay ? String(p.flags.replay) : resolveDataPath(settings.app.replay_path, settings.home)];
  const live = settings.app.market_source === "alpaca" && !(agents && !agents.includes("ingestion"));
  // Open the input before anything listens, so a missing file or missing keys fail the start cleanly.
  const src: MarketSource | null = live
    ? alpacaBarSource(settings)
    : replayPaths.length
      ? new ReplaySource(replayPaths, speed, undefined, resolveDataPath(settings.app.factor_files_dir, settings.home))
      : null;
  // Live bars run on wall-clock time with a stable run tag, so a bar seen again after a restart
  // maps to the same idempotency key and cannot place a second order.
  const sup = new Supervisor({ settings, log, metrics, agents, processId: name, ...(live ? { clock: makeClock("wall"), runId: "live" } : {}) });
  await sup.init(runSeed(replayPaths, settings));
  if (sup.reconciler) {
    const r = await sup.startupReconcile();
    out(r.ok ? "  broker   start-up reconciliation done" : `  broker   start-up reconciliation FAILED (${r.error}); trading state stays RECONCILING until a cycle succeeds`);
  }
  let token;
  try {
    // The home and .tmp hold the token and the approval file: refuse when someone else could
    // have planted them, warn about the rest.
    const trust = homeTrust(settings);
    const fatal = trust.filter((t) => t.fatal);
    if (fatal.length) throw new StartupError(fatal.map((t) => `${t.path} ${t.problem} (fix: ${t.fix})`).join("; "));
    for (const t of trust) out(`  WARNING  ${t.path} ${t.problem} (fix: ${t.fix}; \`awet doctor\` checks it)`);
    token = ensureApiToken(settings)!;
  } catch (e) {
    await sup.close();
    throw e;
  }
  const scheduler = new Scheduler({ settings, store: sup.store, log, sup });
  const feed = { kind: live ? "live" : src ? "replay" : "none", total: src?.total ?? null } as const;
  const app = buildApp(sup, { version: VERSION, token: token.token, scheduler, feed });
  try {
    // Elysia defaults to SO_REUSEPORT, which would let a second daemon share the port silently.
    app.listen({ hostname: host, port, reusePort: false });
  } catch (e) {
    await sup.close();
    const msg = errorMessage(e);
    if (/in use|EADDRINUSE/i.test(msg))
      throw new StartupError(`port ${port} on ${host} is already in use (set http_port in config/app.yaml, AWET_HTTP_PORT or --port)`);
    throw new StartupError(`cannot listen on ${host}:${port}: ${msg}`);
  }
  const bound = app.server?.port ?? port;
  const base = `http://${host.includes(":") ? `[${host}]` : host}:${bound}`;
  await sup.startMonitoring({ version: VERSION, url: base });
  out(`awet ${VERSION} running (run ${sup.runId}, home ${settings.home})`);
  out(`  dashboard ${base}/`);
  out(`  health   ${base}/health`);
  out(`  metrics  ${base}/metrics`);
  out(`  api      ${base}/api/status   ${base}/api/trades`);
  out(`  store    sqlite ${settings.paths.db}   bus ${sup.bus.kind}   agents ${sup.agents.map((a) => a.status.name).join(", ")}`);
  out(`  logs     ${settings.paths.logs}/awet.log`);
  out(`  openapi  ${base}/openapi`);
  out(`  process  ${sup.processId} (heartbeat every ${settings.app.heartbeat_interval_seconds} s${sup.watchtower ? `; watchtower every ${settings.app.watchtower_interval_seconds} s` : ""})`);
  const llmState = sup.ctx.llm?.state;
  out(`  llm      ${llmState ? (llmState.reachable ? `${settings.llm.model} at ${safeUrl(settings.llm.base_url)}` : `degraded (${llmState.detail}); risk runs rule-only`) : "disabled (llm_enabled: false)"}`);
  const tokenMode = tokenFileMode(settings);
  out(`  token    ${token.source === "env" ? "from AWET_API_TOKEN" : `${token.path} (mode ${tokenMode === null ? "?" : tokenMode.toString(8).padStart(4, "0")}${token.source === "generated" ? ", generated now" : ""})`} — ${isLoopbackHost(host) ? "POST endpoints need" : "every /api/* call needs"} it as a Bearer token`);
  out(`  safety   execution_dry_run=${settings.app.execution_dry_run} approval=${existsSync(settings.paths.approvalFile) ? "yes" : "no"} broker=${sup.broker.name} (paper)`);
  log.info({ url: base, run_id: sup.runId }, "daemon started");
  scheduler.start();
  const st = scheduler.status();
  out(`  jobs     ${Object.entries(st.jobs).filter(([, j]) => j.cron || j.next).map(([n, j]) => `${n} next ${j.next ?? "-"}`).join("; ")}`);
  for (const l of await scheduler.catchUp()) out(`  missed   ${l}`);

  const abort = new AbortController();
  let stopping = false;
  const stop = async (sig: string) => {
    if (stopping) return;
    stopping = true;
    out(`\n${sig} received: stopping`);
    abort.abort();
    try {
      scheduler.stop();
      await sup.close();
    } finally {
      app.stop();
      log.info({ sig }, "daemon stopped");
      log.flush?.();
      process.exit(0);
    }
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));

  if (src) {
    const total = src.total === null ? "live" : src.total.toLocaleString("en-US");
    out(live ? `  market   live bars from Alpaca's stream for ${settings.app.symbols.join(", ")}` : `  replay   ${replayPaths.join(", ")} (${total} rows, speed ${speed})`);
    const ticker = setInterval(() => {
      const s = sup.stats;
      out(`  progress bars ${s.bars_read.toLocaleString("en-US")}/${total}  predictions ${s.predictions}  orders submitted ${s.orders_submitted} blocked ${s.orders_blocked}  fills ${s.fills}`);
    }, 5000);
    try {
      const summary = await sup.runSource(src, { signal: abort.signal });
      if (!abort.signal.aborted) {
        out(summaryText(summary));
        out(`Replay finished; the daemon stays up (Ctrl-C to stop).`);
      }
    } catch (e) {
      log.error({ err: errorMessage(e) }, "replay failed");
      out(`replay failed: ${errorMessage(e)}`);
    } finally {
      clearInterval(ticker);
    }
  }
  await new Promise(() => {}); // serve until a signal
  return 0;
}
