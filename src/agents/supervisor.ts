import { safeUrl } from "../core/url";
import { createHash } from "node:crypto";
import { makeBus, makeClock, makeLlmClient, makeStore, openBroker } from "../compose/adapters";
import type { BarDrivenBroker } from "../broker/port";
import type { Reconciler } from "./reconciler";
import { marketIsOpen } from "../market/open-now";
import type { EventBus, HandlerErrorSink } from "../bus/port";
import type { Settings } from "../config/load";
import type { AppConfig } from "../config/schema";
import type { Clock } from "../core/clock";
import { UsageError, errorMessage } from "../core/errors";
import type { Envelope, Topic } from "../core/events";
import type { TradingState } from "../gates/types";
import { runTag } from "../core/ids";
import type { MarketSource } from "../market/replay";
import { silentLogger, type Logger } from "../obs/log";
import { Metrics } from "../obs/metrics";
import type { Store } from "../store/port";
import { AgentStatus, newStats, type AgentContext, type RunStats } from "./context";
import type { ExecutionAgent } from "./execution";
import { AuditTrail, type AuditLevel } from "./audit";
import { LiveConfig } from "../config/live";
import { Portfolio } from "../portfolio/portfolio";
import { TradingStateService } from "../state/trading-state";
import type { ExitAgent, ExitCheck } from "./exit";
import type { DataIngestionAgent, IngestionProgress } from "./ingestion";
import type { PredictionAgent } from "./prediction";
import { AGENT_NAMES, wirePipeline, type AgentName } from "./pipeline";
import type { DeploymentView } from "../obs/deployment";
import { HeartbeatWriter, type Watchtower, checkWatchConfig, defaultProcessId, deploymentView } from "./watchtower";

export { AGENT_NAMES, type AgentName };

export interface SupervisorOptions {
  settings: Settings;
  /** Run only these agents (split a pipeline across processes sharing a bus and a database). */
  agents?: AgentName[];
  /** A bus shared with other supervisors; by default one is made from the settings. */
  bus?: EventBus;
  store?: Store;
  clock?: Clock;
  broker?: BarDrivenBroker;
  log?: Logger;
  metrics?: Metrics;
  runId?: string;
  /** This process's id in the heartbeat table (default: host and agents). */
  processId?: string;
}

export interface RunSummary extends RunStats {
  run_id: string;
  elapsed_ms: number;
  bars_per_sec: number;
}

/**
 * The runtime of one process: start and stop, `emit`, dead letters, health, gauges, run ids and
 * the reconcile cycles. Its adapters are built from the settings in compose/adapters.ts (unless
 * given) and its agents wired by agents/pipeline.ts. Every event goes through `emit`: counted in
 * /metrics, appended to audit_events, then published.
 */
export class Supervisor {
  readonly settings: Settings;
  readonly store: Store;
  readonly bus: EventBus;
  readonly broker: BarDrivenBroker;
  readonly clock: Clock;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly stats = newStats();
  readonly ctx: AgentContext;
  readonly ingestion: DataIngestionAgent;
  readonly execution: ExecutionAgent;
  /** The book in memory (restored from the store; see Portfolio). */
  readonly portfolio: Portfolio;
  readonly live: LiveConfig;
  readonly tradingState: TradingStateService;
  readonly audit: AuditTrail;
  readonly exit: ExitAgent;
  readonly running: ReadonlySet<AgentName>;
  readonly prediction: PredictionAgent;
  readonly agents: { status: AgentStatus }[];
  readonly startedAt = Date.now();
  /** Present when the broker is reconciled by asking it (Alpaca). */
  readonly reconciler: Reconciler | null;
  /** Present when this process runs the watchtower agent. */
  readonly watchtower: Watchtower | null;
  readonly processId: string;
  private heartbeat: HeartbeatWriter | null = null;
  private timers: ReturnType<typeof setInterval>[] = [];
  runId: string;
  /** Watchers of every emitted event (the dashboard's live feed): synchronous, cheap, never throw. */
  readonly observers = new Set<(e: Envelope) => void>();

  constructor(o: SupervisorOptions) {
    this.settings = o.settings;
    this.log = o.log ?? silentLogger;
    this.metrics = o.metrics ?? new Metrics();
    this.store = o.store ?? makeStore(o.settings, this.log);
    this.clock = o.clock ?? makeClock("event");
    this.broker = o.broker ?? openBroker(o.settings);
    this.runId = o.runId ?? "pending";
    const onError = (info: Parameters<HandlerErrorSink>[0]) => this.onHandlerError(info);
    const onTiming = (topic: Topic, handler: string, seconds: number) => this.metrics.handlerTime(topic, handler, seconds);
    this.bus = o.bus ?? makeBus(o.settings, { log: this.log, onError, onTiming });
    this.running = new Set(o.agents ?? AGENT_NAMES);
    this.live = new LiveConfig(o.settings, this.log);
    this.tradingState = new TradingStateService(this.store, { metrics: this.metrics });
    this.portfolio = new Portfolio(this.store, this.broker);
    this.audit = new AuditTrail(this.store, o.settings.app.audit_level as AuditLevel);
    const self = this;
    this.ctx = {
      settings: this.settings,
      store: this.store,
      bus: this.bus,
      broker: this.broker,
      clock: this.clock,
      metrics: this.metrics,
      log: this.log,
      stats: this.stats,
      live: this.live,
      tradingState: this.tradingState,
      get runId() {
        return self.runId;
      },
      emit: (e) => this.emit(e),
    };
    if (this.settings.llm.llm_enabled) {
      const client = makeLlmClient(this.settings, { log: this.log, sink: this.store, metrics: this.metrics, now: () => this.clock.now() });
      this.ctx.llm = { client, state: { enabled: true, reachable: false, detail: "not checked yet", checkedAt: null } };
    }
    this.processId = o.processId ?? defaultProcessId([...this.running], AGENT_NAMES);
    const p = wirePipeline(this.ctx, { running: this.running, portfolio: this.portfolio, audit: this.audit, processId: this.processId });
    this.ingestion = p.ingestion;
    this.execution = p.execution;
    this.exit = p.exit;
    this.prediction = p.prediction;
    this.watchtower = p.watchtower;
    this.reconciler = p.reconciler;
    this.agents = p.agents;
  }

  /** Count, audit, publish. Returns a promise only when something along the way is still running. */
  emit(e: Envelope): Promise<void> | void {
    this.metrics.event(e.type);
    if (this.observers.size) for (const o of this.observers) o(e);
    const a = this.audit.record(e);
    if (a) return a.then(() => this.bus.publish(e));
    return this.bus.publish(e);
  }

  private async onHandlerError(info: { topic: string; handler: string; event: Envelope; error: unknown }): Promise<void> {
    const msg = errorMessage(info.error);
    this.stats.handler_errors++;
    this.metrics.handlerErrors.inc({ topic: info.topic, handler: info.handler });
    this.metrics.dlqMessages.inc({ topic: info.topic });
    const agent = this.agents.find((a) => info.handler.startsWith(a.status.name));
    if (agent) {
      agent.status.errors++;
      agent.status.lastError = msg;
    }
    this.log.error({ topic: info.topic, handler: info.handler, correlation_id: info.event.correlation_id, err: msg }, "handler failed; event kept in dead_letters");
    await this.store.recordDeadLetter({ ts: this.clock.now(), topic: info.topic, handler: info.handler, event: info.event, error: msg });
  }

  /** Apply migrations and pick the run id (deterministic for the same data on a fresh home). */
  async init(runSeed: string): Promise<void> {
    const applied = await this.store.migrate();
    // Trading-state reads between announced writes come from memory (PostgreSQL: LISTEN/NOTIFY);
    // without a watch every order intent reads the store, as before.
    await this.tradingState.watch().catch((e) => this.log.warn({ err: errorMessage(e) }, "trading-state watch not started; reading the state per order intent"));
    await this.bus.start();
    await this.refreshLlm();
    await this.prediction.reload();
    if (applied.length) this.log.info({ applied }, "migrations applied");
    const seq = Number((await this.store.getState("runs_started")) ?? "0");
    await this.store.setState("runs_started", String(seq + 1), Date.now());
    if (this.runId === "pending") this.runId = runTag(`${seq}|${runSeed}|${this.settings.home}`);
    this.log.info({ run_id: this.runId }, "run started");
  }

  /**
   * Start-up reconciliation (ARCHITECTURE.md §10): orders, then positions, before the first new
   * order. While it runs the trading state is RECONCILING and every order is blocked; if it fails
   * the state stays RECONCILING, so nothing trades on an unknown book.
   */
  async startupReconcile(): Promise<{ ok: boolean; error?: string }> {
    if (!this.reconciler) return { ok: true };
    const prev = await this.tradingState.current();
    const restore = prev === "RECONCILING" ? ((await this.store.getState("trading_state_before_reconcile")) ?? "ACTIVE") : prev;
    await this.store.setState("trading_state_before_reconcile", restore, Date.now());
    await this.tradingState.set("RECONCILING", "start-up reconciliation", Date.now(), "startup");
    try {
      await this.broker.account?.();
      await this.reconciler.reconcileOrders();
      await this.reconciler.reconcilePositions();
      await this.portfolio.restore();
      await this.tradingState.set(restore as TradingState, "start-up reconciliation done", Date.now(), "startup");
      this.log.info({ trading_state: restore }, "start-up reconciliation done");
      return { ok: true };
    } catch (e) {
      const msg = errorMessage(e);
      this.log.error({ err: msg }, "start-up reconciliation failed: trading stays RECONCILING");
      return { ok: false, error: msg };
    }
  }

  /**
   * The daemon's periodic reconcile (a broker reconciled by asking it: Alpaca). A failed start-up
   * reconciliation is retried each cycle (trading resumes only once it succeeds); otherwise open
   * orders are reconciled while the market is open. Whatever the reconcile wrote (fills, statuses)
   * then reaches the in-memory book.
   */
  async reconcileCycle(now = Date.now()): Promise<"none" | "startup" | "orders" | "market_closed"> {
    if (!this.reconciler) return "none";
    if ((await this.tradingState.current()) === "RECONCILING") {
      await this.startupReconcile();
      return "startup";
    }
    if (!(await marketIsOpen(this.broker, now)).open) return "market_closed";
    await this.reconciler.reconcileOrders();
    await this.portfolio.restore();
    return "orders";
  }

  /** Positions from the broker into the store, then into the in-memory book. */
  async syncPositions(): Promise<{ synced: number; zeroed: number } | null> {
    if (!this.reconciler) return null;
    const r = await this.reconciler.reconcilePositions();
    await this.portfolio.restore();
    return r;
  }

  async runSource(src: MarketSource, opts: { signal?: AbortSignal; onProgress?: (p: IngestionProgress) => void } = {}): Promise<RunSummary> {
    if (!this.running.has("ingestion")) throw new UsageError("this process does not run the ingestion agent (see --agents), so it cannot read market data");
    const t0 = performance.now();
    await this.ingestion.run(src, opts);
    await this.bus.drain();
    if (this.running.has("execution")) await this.portfolio.persistMarks();
    await this.store.flush();
    const elapsed = performance.now() - t0;
    return this.summary(elapsed);
  }

  summary(elapsedMs: number): RunSummary {
    return {
      run_id: this.runId,
      ...this.stats,
      elapsed_ms: Math.round(elapsedMs),
      bars_per_sec: elapsedMs > 0 ? Math.round((this.stats.bars_read / elapsedMs) * 1000) : 0,
    };
  }

  /**
   * Start the heartbeat (every process) and, when this process runs it, the Watchtower's rounds.
   * The daemon calls this; a replay or a test that does not has no heartbeat and no deployment view.
   */
  async startMonitoring(o: { version: string; url: string | null }): Promise<void> {
    checkWatchConfig(this.settings);
    const a = this.settings.app;
    this.heartbeat = new HeartbeatWriter({ store: this.store, bus: this.bus, settings: this.settings, processId: this.processId, agents: [...this.running], version: o.version, url: o.url, log: this.log });
    await this.heartbeat.beat();
    this.timers.push(setInterval(() => void this.heartbeat?.beat(), a.heartbeat_interval_seconds * 1000));
    if (this.watchtower) {
      await this.watchtower.tick();
      this.timers.push(setInterval(() => void this.watchtower?.tick(), a.watchtower_interval_seconds * 1000));
    }
  }

  /** The whole deployment as the shared store shows it (null until monitoring started). */
  async deployment(): Promise<DeploymentView | null> {
    if (!this.heartbeat) return null;
    return (await deploymentView(this.store, this.settings, Date.now())).view;
  }

  async health(): Promise<{ healthy: boolean; store: { ok: boolean; error?: string; backlog?: unknown; warnings?: string[] }; llm: Record<string, unknown>; agents: Record<string, unknown>; deployment?: DeploymentView | { healthy: false; error: string } }> {
    let store: { ok: boolean; error?: string; backlog?: unknown; warnings?: string[] } = { ok: true };
    try {
      await this.store.ping();
    } catch (e) {
      store = { ok: false, error: errorMessage(e) };
    }
    const b = this.store.backlog?.();
    if (b) {
      store.backlog = b;
      this.metrics.storeQueue.set(b.queued);
      if (b.waiting) store = { ...store, ok: false, error: store.error ?? `writes held back: ${b.queued} rows queued (max ${b.max})` };
    }
    // Warnings (a TimescaleDB policy that could not be created) are shown but keep the store healthy.
    const warnings = this.store.warnings?.() ?? [];
    if (warnings.length) store.warnings = warnings;
    const agents: Record<string, unknown> = {};
    let ok = store.ok;
    for (const a of this.agents) {
      agents[a.status.name] = a.status.toJSON();
      if (a.status.state === "failed" || a.status.state === "stopped") ok = false;
    }
    await this.refreshLlm();
    const l = this.ctx.llm?.state;
    // A degraded LLM does not make the daemon unhealthy: risk keeps running on its rules.
    const llm = l ? { enabled: true, status: l.reachable ? "ok" : "degraded", detail: l.detail, base_url: safeUrl(this.settings.llm.base_url), model: this.settings.llm.model } : { enabled: false, status: "disabled" };
    let deployment: DeploymentView | { healthy: false; error: string } | null = null;
    try {
      deployment = await this.deployment();
    } catch (e) {
      deployment = { healthy: false, error: `deployment view unavailable: ${errorMessage(e)}` };
    }
    if (deployment && !deployment.healthy) ok = false;
    return { healthy: ok, store, llm, agents, ...(deployment ? { deployment } : {}) };
  }

  /** Is Ollama reachable? Checked at start and then at most once a minute (wall time). */
  async refreshLlm(force = false): Promise<void> {
    const llm = this.ctx.llm;
    if (!llm) return;
    if (!force && llm.state.checkedAt !== null && Date.now() - llm.state.checkedAt < 60_000) return;
    const h = await llm.client.health();
    llm.state.reachable = h.ok;
    llm.state.detail = h.detail;
    llm.state.checkedAt = Date.now();
    if (!h.ok) this.log.warn({ detail: h.detail }, "LLM degraded: risk runs rule-only");
  }

  // The operator surface the HTTP server uses (it never reaches into the agents).

  /** The running app config (re-read when config/app.yaml changes; a `paper on` shows at once). */
  get appConfig(): AppConfig {
    return this.live.app;
  }

  /** Re-read config/app.yaml on the next access (after an in-process edit by a control action). */
  reloadConfig(): void {
    this.live.refresh();
  }

  /** One round of the Exit agent's checks now (`POST /api/exit/run`). */
  runExitOnce(): Promise<ExitCheck[]> {
    return this.exit.runOnce();
  }

  /** The status of one of this process's agents by name (case-insensitive), or null. */
  agentStatus(name: string): AgentStatus | null {
    return this.agents.find((a) => a.status.name.toLowerCase() === name.toLowerCase())?.status ?? null;
  }

  /** The Watchtower's last round when this process runs it (for GET /api/watchtower), else null. */
  watchtowerRound(): { last_round: number | null; state: string; errors: number; last_error: string | null; lag_errors: Watchtower["lagErrors"]; changes: Watchtower["changes"]; last_summary: Watchtower["lastSummary"] } | null {
    const w = this.watchtower;
    return w ? { last_round: w.lastTick, state: w.status.state, errors: w.status.errors, last_error: w.status.lastError, lag_errors: w.lagErrors, changes: w.changes, last_summary: w.lastSummary } : null;
  }

  /** Refresh the gauges that mirror state (called before each /metrics scrape). */
  async refreshGauges(): Promise<void> {
    const b = this.store.backlog?.();
    this.metrics.storeQueue.set(b?.queued ?? 0);
    this.metrics.modelInfo.reset();
    this.metrics.modelInfo.set({ version: this.prediction.modelVersion }, 1);
    this.metrics.storeBackpressure.set(b?.waiting ? 1 : 0);
    for (const a of this.agents) if (a.status.lastEventTs !== null) this.metrics.lastEventTs.set({ agent: a.status.name }, a.status.lastEventTs / 1000);
    if (b && !b.connected) return; // the database is away: keep the last values rather than hang the scrape
    if (this.watchtower && this.heartbeat) await this.watchtower.refresh().catch((e) => this.log.warn({ err: errorMessage(e) }, "watchtower gauges not refreshed"));
    await this.tradingState.current(); // sets the gauge
    if (this.running.has("execution")) {
      const t = this.portfolio.totals();
      this.metrics.openPositions.set(t.open);
      this.metrics.portfolioValue.set(t.value);
      this.metrics.unrealizedPnl.set(t.unrealized);
      return;
    }
    const ps = (await this.store.positions()).filter((p) => p.qty !== 0);
    this.metrics.openPositions.set(ps.length);
    this.metrics.portfolioValue.set(ps.reduce((s, p) => s + p.market_value, 0));
    this.metrics.unrealizedPnl.set(ps.reduce((s, p) => s + p.unrealized_pl, 0));
  }

  async close(): Promise<void> {
    for (const t of this.timers.splice(0)) clearInterval(t);
    await this.watchtower?.close();
    await this.heartbeat?.stop();
    this.heartbeat = null;
    await this.bus.close();
    await this.prediction.idle();
    for (const a of this.agents) a.status.state = "stopped";
    await this.tradingState.close();
    await this.store.close();
  }
}

/** A seed for the run id from the input files' names and sizes plus the config. */
export function runSeed(paths: string[], settings: Settings): string {
  return createHash("sha1").update(JSON.stringify({ paths, app: settings.app })).digest("hex");
}
