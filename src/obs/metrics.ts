import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/**
 * All Prometheus metrics of one daemon instance, on its own registry (not prom-client's global
 * one) so that several instances, and tests, can run in one process.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly events: Counter<"topic">;
  readonly handlerSeconds: Histogram<"topic" | "handler">;
  readonly handlerErrors: Counter<"topic" | "handler">;
  readonly barsRejected: Counter<"reason">;
  readonly orders: Counter<"status">;
  readonly gateBlocks: Counter<"reason">;
  readonly decisionSeconds: Histogram;
  readonly pendingOrders: Gauge;
  readonly openPositions: Gauge;
  readonly portfolioValue: Gauge;
  readonly lastEventTs: Gauge<"agent">;
  readonly reconcileErrors: Counter;

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    const r = [this.registry];
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: "awet_process_" });
    this.events = new Counter({ name: "awet_events_total", help: "Events published, by topic", labelNames: ["topic"], registers: r });
    this.handlerSeconds = new Histogram({
      name: "awet_handler_duration_seconds",
      help: "Time a subscriber took to handle one event",
      labelNames: ["topic", "handler"],
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1],
      registers: r,
    });
    this.handlerErrors = new Counter({
      name: "awet_handler_errors_total",
      help: "Handlers that threw; the event is kept in dead_letters",
      labelNames: ["topic", "handler"],
      registers: r,
    });
    this.barsRejected = new Counter({ name: "awet_bars_rejected_total", help: "Bars quarantined to market.rejected, by reason", labelNames: ["reason"], registers: r });
    this.orders = new Counter({ name: "awet_orders_total", help: "Trade rows written, by status", labelNames: ["status"], registers: r });
    this.gateBlocks = new Counter({ name: "awet_gate_blocks_total", help: "Order intents blocked, by gate reason", labelNames: ["reason"], registers: r });
    this.decisionSeconds = new Histogram({
      name: "awet_decision_latency_seconds",
      help: "Wall time from bar ingestion to the execution decision",
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5],
      registers: r,
    });
    this.pendingOrders = new Gauge({ name: "pending_orders", help: "Orders not yet in a terminal state", registers: r });
    this.openPositions = new Gauge({ name: "open_positions", help: "Symbols with a non-zero position", registers: r });
    this.portfolioValue = new Gauge({ name: "portfolio_value_usd", help: "Market value of all open positions", registers: r });
    this.reconcileErrors = new Counter({ name: "reconcile_errors_total", help: "Orders the reconciler could not resolve in a cycle", registers: r });
    this.lastEventTs = new Gauge({ name: "awet_agent_last_event_timestamp_seconds", help: "Event time of the last event each agent handled", labelNames: ["agent"], registers: r });
  }
}
