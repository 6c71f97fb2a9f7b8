import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { CoarseHistogram, LatencyHistogram } from "./latency";

/** Bucket bounds (seconds) of awet_decision_latency_seconds and awet_handler_duration_seconds. */
const DECISION_BOUNDS_S = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5];
const HANDLER_BOUNDS_S = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1];

/**
 * A Prometheus histogram on `registry` whose series are read at each scrape from plain
 * CoarseHistograms (recording costs a few comparisons, no prom-client call on the hot path).
 */
function registerHistogram(registry: Registry, name: string, help: string, series: () => { labels: Record<string, string>; h: CoarseHistogram }[]): void {
  const get = async () => ({
    name, help, type: "histogram" as const, aggregator: "sum" as const,
    values: series().flatMap(({ labels, h }) => {
      const cum = h.cumulative();
      return [
        ...[...h.bounds.map(String), "+Inf"].map((le, i) => ({ metricName: `${name}_bucket`, labels: { ...labels, le }, value: cum[i]! })),
        { metricName: `${name}_sum`, labels, value: h.sum },
        { metricName: `${name}_count`, labels, value: h.count },
      ];
    }),
  });
  registry.registerMetric({ name, help, type: "histogram", aggregator: "sum", get, reset() {} } as unknown as Parameters<Registry["registerMetric"]>[0]);
}

/**
 * All Prometheus metrics of one daemon instance, on its own registry (not prom-client's global
 * one) so that several instances, and tests, can run in one process.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly events: Counter<"topic">;
  readonly handlerErrors: Counter<"topic" | "handler">;
  readonly barsRejected: Counter<"reason">;
  readonly orders: Counter<"status">;
  readonly gateBlocks: Counter<"reason">;
  /** Bar → decision wall time of every bar (ms), fixed size; awet_decision_latency_seconds is read from it. */
  readonly decisionLatency = new LatencyHistogram(1100, DECISION_BOUNDS_S);
  readonly pendingOrders: Gauge;
  readonly openPositions: Gauge;
  readonly portfolioValue: Gauge;
  readonly lastEventTs: Gauge<"agent">;
  readonly reconcileErrors: Counter;
  readonly tradingState: Gauge;
  readonly unrealizedPnl: Gauge;
  readonly llmCalls: Counter<"agent" | "status">;
  readonly llmLatency: Histogram<"agent">;
  readonly dlqMessages: Counter<"topic">;
  readonly storeQueue: Gauge;
  readonly modelInfo: Gauge<"version">;
  readonly storeBackpressure: Gauge;
  readonly consumerLag: Gauge<"group" | "topic" | "partition">;
  readonly consumerLagTotal: Gauge<"group">;
  readonly consumerLagMax: Gauge;
  readonly heartbeatAge: Gauge<"process">;
  readonly heartbeatStale: Gauge<"process">;
  readonly agentLiveProcesses: Gauge<"agent">;
  readonly deploymentHealthy: Gauge;

  /** Label sets bound once (prom-client hashes labels on every call otherwise): the hot-path handles. */
  readonly ordersBlocked: { inc(n?: number): void };
  readonly ordersSubmitted: { inc(n?: number): void };
  readonly ordersFilled: { inc(n?: number): void };
  readonly ordersRejected: { inc(n?: number): void };
  private gateBlockBy = new Map<string, { inc(n?: number): void }>();
  /** Events counted in plain numbers on the hot path; added to awet_events_total when scraped. */
  private eventCounts = new Map<string, number>();

  /** awet_gate_blocks_total{reason} +1, through a handle bound once per reason. */
  gateBlock(reason: string): void {
    let c = this.gateBlockBy.get(reason);
    if (!c) this.gateBlockBy.set(reason, (c = this.gateBlocks.labels({ reason })));
    c.inc();
  }

  private handlerBy = new Map<string, { topic: string; handler: string; h: CoarseHistogram }>();
  /** awet_handler_duration_seconds{topic,handler}: counted in a plain histogram per pair, exposed at each scrape. */
  handlerTime(topic: string, handler: string, seconds: number): void {
    const k = `${topic}|${handler}`;
    let e = this.handlerBy.get(k);
    if (!e) this.handlerBy.set(k, (e = { topic, handler, h: new CoarseHistogram(HANDLER_BOUNDS_S) }));
    e.h.record(seconds);
  }

  /** awet_events_total{topic} +1 (a Map increment; the counter catches up at each scrape). */
  event(topic: string): void {
    this.eventCounts.set(topic, (this.eventCounts.get(topic) ?? 0) + 1);
  }

  private flushEventCounts(): void {
    for (const [topic, n] of this.eventCounts) if (n > 0) this.events.inc({ topic }, n);
    this.eventCounts.clear();
  }

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    const r = [this.registry];
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: "awet_process_" });
    const self = this;
    this.events = new Counter({
      name: "awet_events_total", help: "Events published, by topic", labelNames: ["topic"], registers: r,
      collect() {
        self.flushEventCounts();
      },
    });
    registerHistogram(this.registry, "awet_handler_duration_seconds", "Time a subscriber took to handle one event (in-process bus: one delivery in 8 is timed)", () => {
      const rows = [...this.handlerBy.values()].map((e) => ({ labels: { topic: e.topic, handler: e.handler }, h: e.h }));
      // the series exist from the first scrape (dashboards and alert rules never query a missing name)
      return rows.length ? rows : [{ labels: { topic: "market.raw", handler: "none" }, h: new CoarseHistogram(HANDLER_BOUNDS_S) }];
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
    // Recorded per bar into a fixed-size histogram with exact counts at these bounds, and exposed
    // from it at each scrape (no prom-client call per bar).
    registerHistogram(this.registry, "awet_decision_latency_seconds", "Wall time from bar ingestion to the end of the bar's chain (the execution decision)", () => [
      { labels: {}, h: this.decisionLatency.coarse },
    ]);
    this.pendingOrders = new Gauge({ name: "pending_orders", help: "Orders not yet in a terminal state", registers: r });
    this.openPositions = new Gauge({ name: "open_positions", help: "Symbols with a non-zero position", registers: r });
    this.portfolioValue = new Gauge({ name: "portfolio_value_usd", help: "Market value of all open positions", registers: r });
    this.reconcileErrors = new Counter({ name: "reconcile_errors_total", help: "Orders the reconciler could not resolve in a cycle", registers: r });
    this.tradingState = new Gauge({ name: "awet_trading_state", help: "Trading state: 0 ACTIVE, 1 REDUCING, 2 HALTED, 3 RECONCILING", registers: r });
    this.unrealizedPnl = new Gauge({ name: "awet_unrealized_pnl_usd", help: "Unrealized PnL of the open positions at their last price", registers: r });
    this.llmCalls = new Counter({ name: "awet_llm_calls_total", help: "LLM calls by agent and status (ok, error)", labelNames: ["agent", "status"], registers: r });
    this.llmLatency = new Histogram({ name: "awet_llm_latency_seconds", help: "LLM call latency", labelNames: ["agent"], buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30], registers: r });
    this.dlqMessages = new Counter({ name: "awet_dlq_messages_total", help: "Events parked after a handler failed (dead_letters table, or <topic>.dlq on Kafka)", labelNames: ["topic"], registers: r });
    this.modelInfo = new Gauge({ name: "awet_model_info", help: "1 for the model version Prediction uses", labelNames: ["version"], registers: r });
    this.storeQueue = new Gauge({ name: "awet_store_queue_depth", help: "Bars and audit rows waiting to be written (PostgreSQL)", registers: r });
    this.storeBackpressure = new Gauge({ name: "awet_store_backpressure", help: "1 while appends wait for the database (slow or down)", registers: r });
    this.lastEventTs = new Gauge({ name: "awet_agent_last_event_timestamp_seconds", help: "Event time of the last event each agent handled", labelNames: ["agent"], registers: r });
    // Watchtower (exported by the process that runs it)
    this.consumerLag = new Gauge({ name: "awet_consumer_lag", help: "Messages a consumer group is behind, per topic and partition (Kafka: end minus committed offset; in-process bus: handler queue depth)", labelNames: ["group", "topic", "partition"], registers: r });
    this.consumerLagTotal = new Gauge({ name: "awet_consumer_lag_total", help: "Messages a consumer group is behind, summed over its topics and partitions", labelNames: ["group"], registers: r });
    this.consumerLagMax = new Gauge({ name: "awet_consumer_lag_max", help: "max_consumer_lag from the config: the per-partition lag the deployment tolerates for lag_grace_seconds", registers: r });
    this.heartbeatAge = new Gauge({ name: "awet_heartbeat_age_seconds", help: "Wall seconds since each process of the deployment last wrote its heartbeat", labelNames: ["process"], registers: r });
    this.heartbeatStale = new Gauge({ name: "awet_heartbeat_stale", help: "1 when a process's last heartbeat is older than heartbeat_timeout_seconds", labelNames: ["process"], registers: r });
    this.agentLiveProcesses = new Gauge({ name: "awet_agent_live_processes", help: "Live processes running each agent (0 for an expected agent: nothing runs it)", labelNames: ["agent"], registers: r });
    this.deploymentHealthy = new Gauge({ name: "awet_deployment_healthy", help: "1 when Watchtower judges the whole deployment healthy (every expected agent live, lag within limits)", registers: r });
    // Series that exist from the first scrape, so dashboards and alert rules never query a name
    // Prometheus has not seen (a labelled metric appears only once a label set is touched).
    for (const status of ["blocked", "submitted", "filled", "rejected"]) this.orders.inc({ status }, 0);
    this.ordersBlocked = this.orders.labels({ status: "blocked" });
    this.ordersSubmitted = this.orders.labels({ status: "submitted" });
    this.ordersFilled = this.orders.labels({ status: "filled" });
    this.ordersRejected = this.orders.labels({ status: "rejected" });
    this.gateBlocks.inc({ reason: "dry_run" }, 0);
    this.barsRejected.inc({ reason: "malformed_row" }, 0);
    for (const topic of ["market.raw"]) {
      this.events.inc({ topic }, 0);
      this.handlerErrors.inc({ topic, handler: "none" }, 0);
      this.dlqMessages.inc({ topic }, 0);
    }
    for (const status of ["ok", "error"]) this.llmCalls.inc({ agent: "RiskAgent", status }, 0);
    this.llmLatency.zero({ agent: "RiskAgent" });
  }
}
