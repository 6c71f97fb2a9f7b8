import { createHash } from "node:crypto";
import { openBroker } from "../broker/open";
import { isReconcilable, type BarDrivenBroker } from "../broker/port";
import { Reconciler } from "./reconciler";
import { MemoryBus } from "../bus/memory";
import type { EventBus } from "../bus/port";
import type { Settings } from "../config/load";
import { ReplayClock, type Clock } from "../core/clock";
import { errorMessage } from "../core/errors";
import type { Envelope } from "../core/events";
import { runTag } from "../core/ids";
import type { MarketSource } from "../market/replay";
import { silentLogger, type Logger } from "../obs/log";
import { Metrics } from "../obs/metrics";
import { SqliteStore } from "../store/sqlite";
import type { Store } from "../store/port";
import { AgentStatus, newStats, type AgentContext, type RunStats } from "./context";
import { ExecutionAgent } from "./execution";
import { ExitAgent } from "./exit";
import { FeatureEngineeringAgent } from "./features";
import { DataIngestionAgent, type IngestionProgress } from "./ingestion";
import { PredictionAgent } from "./prediction";
import { RiskAgent } from "./risk";

export interface SupervisorOptions {
  settings: Settings;
  store?: Store;
  clock?: Clock;
  broker?: BarDrivenBroker;
  log?: Logger;
  metrics?: Metrics;
  runId?: string;
}

export interface RunSummary extends RunStats {
  run_id: string;
  elapsed_ms: number;
  bars_per_sec: number;
}

/**
 * Builds the pipeline (DataIngestion → FeatureEngineering → Prediction → Risk → Execution) on the
 * configured adapters and keeps each agent's health. Every event goes through `emit`: counted in
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
  readonly exit: ExitAgent;
  readonly agents: { status: AgentStatus }[];
  readonly startedAt = Date.now();
  /** Present when the broker is reconciled by asking it (Alpaca). */
  readonly reconciler: Reconciler | null;
  runId: string;

  constructor(o: SupervisorOptions) {
    this.settings = o.settings;
    this.log = o.log ?? silentLogger;
    this.metrics = o.metrics ?? new Metrics();
    this.store = o.store ?? new SqliteStore(o.settings.paths.db);
    this.clock = o.clock ?? new ReplayClock();
    this.broker = o.broker ?? openBroker(o.settings);
    this.runId = o.runId ?? "pending";
    this.bus = new MemoryBus(
      (info) => this.onHandlerError(info),
      (topic, handler, seconds) => this.metrics.handlerSeconds.observe({ topic, handler }, seconds),
    );
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
      get runId() {
        return self.runId;
      },
      emit: (e) => this.emit(e),
    };
    // Subscription order matters: Execution's fill hook on market.raw runs before features.
    const execution = (this.execution = new ExecutionAgent(this.ctx));
    this.exit = new ExitAgent(this.ctx, execution);
    const features = new FeatureEngineeringAgent(this.ctx);
    const prediction = new PredictionAgent(this.ctx);
    const risk = new RiskAgent(this.ctx);
    this.ingestion = new DataIngestionAgent(this.ctx);
    this.agents = [this.ingestion, features, prediction, risk, execution, this.exit];
    const app = this.settings.app;
    this.reconciler = isReconcilable(this.broker)
      ? new Reconciler({
          store: this.store, broker: this.broker, log: this.log, metrics: this.metrics, now: () => this.clock.now(),
          inFlightMs: app.in_flight_seconds * 1000, unfilledTimeoutMs: app.unfilled_timeout_seconds * 1000,
        })
      : null;
  }

  async emit(e: Envelope): Promise<void> {
    this.metrics.events.inc({ topic: e.type });
    await this.store.appendAudit([e]);
    await this.bus.publish(e);
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
    const prev = (await this.store.getState("trading_state")) ?? "ACTIVE";
    const restore = prev === "RECONCILING" ? ((await this.store.getState("trading_state_before_reconcile")) ?? "ACTIVE") : prev;
    await this.store.setState("trading_state_before_reconcile", restore, Date.now());
    await this.store.setState("trading_state", "RECONCILING", Date.now());
    try {
      if ("account" in this.broker) await (this.broker as { account(): Promise<unknown> }).account();
      await this.reconciler.reconcileOrders();
      await this.reconciler.reconcilePositions();
      await this.store.setState("trading_state", restore, Date.now());
      this.log.info({ trading_state: restore }, "start-up reconciliation done");
      return { ok: true };
    } catch (e) {
      const msg = errorMessage(e);
      this.log.error({ err: msg }, "start-up reconciliation failed: trading stays RECONCILING");
      return { ok: false, error: msg };
    }
  }

  async runSource(src: MarketSource, opts: { signal?: AbortSignal; onProgress?: (p: IngestionProgress) => void } = {}): Promise<RunSummary> {
    const t0 = performance.now();
    await this.ingestion.run(src, opts);
    await this.bus.drain();
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

  async health(): Promise<{ healthy: boolean; store: { ok: boolean; error?: string }; agents: Record<string, unknown> }> {
    let store: { ok: boolean; error?: string } = { ok: true };
    try {
      await this.store.ping();
    } catch (e) {
      store = { ok: false, error: errorMessage(e) };
    }
    const agents: Record<string, unknown> = {};
    let ok = store.ok;
    for (const a of this.agents) {
      agents[a.status.name] = a.status.toJSON();
      if (a.status.state === "failed" || a.status.state === "stopped") ok = false;
    }
    return { healthy: ok, store, agents };
  }

  /** Refresh the gauges that mirror state (called before each /metrics scrape). */
  async refreshGauges(): Promise<void> {
    for (const a of this.agents) if (a.status.lastEventTs !== null) this.metrics.lastEventTs.set({ agent: a.status.name }, a.status.lastEventTs / 1000);
    const st = (await this.store.getState("trading_state")) ?? "ACTIVE";
    this.metrics.tradingState.set({ ACTIVE: 0, REDUCING: 1, HALTED: 2, RECONCILING: 3 }[st] ?? 0);
    const ps = (await this.store.positions()).filter((p) => p.qty !== 0);
    this.metrics.openPositions.set(ps.length);
    this.metrics.portfolioValue.set(ps.reduce((s, p) => s + p.market_value, 0));
    this.metrics.unrealizedPnl.set(ps.reduce((s, p) => s + p.unrealized_pl, 0));
  }

  async close(): Promise<void> {
    await this.bus.close();
    for (const a of this.agents) a.status.state = "stopped";
    await this.store.close();
  }
}

/** A seed for the run id from the input files' names and sizes plus the config. */
export function runSeed(paths: string[], settings: Settings): string {
  return createHash("sha1").update(JSON.stringify({ paths, app: settings.app })).digest("hex");
}
