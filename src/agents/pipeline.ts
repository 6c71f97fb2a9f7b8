import { isReconcilable } from "../broker/port";
import { MemoryBus } from "../bus/memory";
import { AGENT_NAMES } from "../config/schema";
import type { Envelope } from "../core/events";
import type { Portfolio } from "../portfolio/portfolio";
import type { AuditTrail } from "./audit";
import type { AgentContext, AgentStatus } from "./context";
import { ExecutionAgent } from "./execution";
import { ExitAgent } from "./exit";
import { FeatureEngineeringAgent } from "./features";
import { FillHandler } from "./fills";
import { DataIngestionAgent } from "./ingestion";
import { PredictionAgent } from "./prediction";
import { eventTimeOr } from "./reconcile-rules";
import { Reconciler, reconcileWindows } from "./reconciler";
import { RiskAgent } from "./risk";
import { Watchtower } from "./watchtower";

export { AGENT_NAMES };
export type AgentName = (typeof AGENT_NAMES)[number];

/** What each pipeline agent does, in one line (`awet agents`). */
export const AGENT_DESCRIPTIONS: Record<AgentName, string> = {
  ingestion: "DataIngestion: market bars (replay or Alpaca's stream), validated or quarantined, onto market.raw",
  features: "FeatureEngineering: incremental indicators per bar onto market.engineered",
  prediction: "Prediction: p10/p50/p90 per horizon from the production model (else the baseline) onto predictions",
  risk: "Risk: sizing, session hours, then the LLM's only-tighten review, onto risk.approved / risk.rejected",
  execution: "Execution: the gate chain, the write-ahead trade row, the paper broker, fills",
  exit: "Exit: take-profit, stop-loss and time exits of open positions onto exit.signals",
  watchtower: "Watchtower: heartbeats, consumer lag and the deployment's health across processes",
};

/** The agents of one process, wired on its bus. */
export interface Pipeline {
  ingestion: DataIngestionAgent;
  execution: ExecutionAgent;
  exit: ExitAgent;
  prediction: PredictionAgent;
  /** Present when this process runs the watchtower agent. */
  watchtower: Watchtower | null;
  /** Present when the broker is reconciled by asking it (Alpaca). */
  reconciler: Reconciler | null;
  /** The agents this process runs, in pipeline order (their statuses make /health). */
  agents: { status: AgentStatus }[];
}

/**
 * Wire DataIngestion → FeatureEngineering → Prediction → Risk → Execution (plus Exit, the fill
 * handler and the Watchtower) on the context's bus. Agents not in `running` are built on a bus
 * that is never started, so they receive nothing.
 */
export function wirePipeline(ctx: AgentContext, o: { running: ReadonlySet<AgentName>; portfolio: Portfolio; audit: AuditTrail; processId: string }): Pipeline {
  const on = (n: AgentName) => o.running.has(n);
  // Without local ingestion, event time arrives with the bars on the bus: the replay clock
  // follows them (first subscriber), so gates and exits see the bar's time, not 0.
  const clock = ctx.clock;
  if (!on("ingestion") && clock.advanceTo) ctx.bus.subscribe("market.raw", "clock", (e) => clock.advanceTo!(e.ts));
  // A bar's features are emitted where FeatureEngineering runs but decided on where Prediction
  // runs: that process keeps them for the audit trail of the chains that reach a decision.
  if (on("prediction") && !on("features")) ctx.bus.subscribe("market.engineered", "audit", (e: Envelope) => o.audit.record(e));
  // Subscription order matters: Execution's fill hook on market.raw runs before features.
  const idle = new MemoryBus(() => {});
  const ctxFor = (n: AgentName): AgentContext => (on(n) ? ctx : { ...ctx, bus: idle });
  const execution = new ExecutionAgent(ctxFor("execution"), o.portfolio);
  new FillHandler(ctxFor("execution"), o.portfolio);
  const exit = new ExitAgent(ctxFor("exit"), on("execution") ? o.portfolio : null);
  const features = new FeatureEngineeringAgent(ctxFor("features"));
  const prediction = new PredictionAgent(ctxFor("prediction"));
  const risk = new RiskAgent(ctxFor("risk"), on("execution") ? o.portfolio : null);
  const ingestion = new DataIngestionAgent(ctxFor("ingestion"));
  const all: [AgentName, { status: AgentStatus }][] = [["ingestion", ingestion], ["features", features], ["prediction", prediction], ["risk", risk], ["execution", execution], ["exit", exit]];
  const watchtower = on("watchtower")
    ? new Watchtower({ settings: ctx.settings, store: ctx.store, bus: ctx.bus, metrics: ctx.metrics, log: ctx.log, processId: o.processId, emit: (e) => ctx.emit(e), llm: ctx.llm })
    : null;
  if (watchtower) all.push(["watchtower", watchtower]);
  const broker = ctx.broker;
  const reconciler = isReconcilable(broker)
    ? new Reconciler({
        // Windows run on the wall clock; event-time columns get the pipeline's clock, or the wall
        // clock while a replay's clock still reads 0 (a start-up reconcile before the first bar).
        store: ctx.store, broker, log: ctx.log, metrics: ctx.metrics, now: () => eventTimeOr(ctx.clock.now(), Date.now()),
        wallNow: () => Date.now(), ...reconcileWindows(ctx.settings.app),
      })
    : null;
  return { ingestion, execution, exit, prediction, watchtower, reconciler, agents: all.filter(([n]) => on(n)).map(([, a]) => a) };
}
