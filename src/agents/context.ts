import type { BarDrivenBroker } from "../broker/port";
import type { EventBus } from "../bus/port";
import type { Settings } from "../config/load";
import type { Clock } from "../core/clock";
import type { Envelope } from "../core/events";
import type { Logger } from "../obs/log";
import type { Metrics } from "../obs/metrics";
import type { Store } from "../store/port";
import type { LLMClient } from "../llm/client";
import type { LiveConfig } from "../config/live";
import type { TradingStateService } from "../state/trading-state";

/** Counters behind the run summary (`awet replay --json`) and /api/status. */
export interface RunStats {
  bars_read: number;
  bars_processed: number;
  bars_rejected: number;
  rejected_by_reason: Record<string, number>;
  predictions: number;
  intents: number;
  exit_signals: number;
  risk_rejected: number;
  risk_rejected_by_reason: Record<string, number>;
  orders_submitted: number;
  orders_blocked: number;
  blocked_by_reason: Record<string, number>;
  orders_rejected: number;
  fills: number;
  handler_errors: number;
}

export function newStats(): RunStats {
  return {
    bars_read: 0,
    bars_processed: 0,
    bars_rejected: 0,
    rejected_by_reason: {},
    predictions: 0,
    intents: 0,
    exit_signals: 0,
    risk_rejected: 0,
    risk_rejected_by_reason: {},
    orders_submitted: 0,
    orders_blocked: 0,
    blocked_by_reason: {},
    orders_rejected: 0,
    fills: 0,
    handler_errors: 0,
  };
}

export function bump(m: Record<string, number>, k: string): void {
  m[k] = (m[k] ?? 0) + 1;
}

/** What every agent gets: the ports, the settings, and `emit` (audit + metrics + bus). */
export interface AgentContext {
  settings: Settings;
  store: Store;
  bus: EventBus;
  broker: BarDrivenBroker;
  clock: Clock;
  metrics: Metrics;
  log: Logger;
  stats: RunStats;
  runId: string;
  /** The app config as it is now (re-read when config/app.yaml changes); one per process. */
  live: LiveConfig;
  tradingState: TradingStateService;
  /** Count, audit and publish an event; a promise only when something is still running. */
  emit(e: Envelope): Promise<void> | void;
  /** The LLM risk reviewer, when llm_enabled; `reachable` is refreshed by the supervisor. */
  llm?: { client: LLMClient; state: LlmState };
}

export interface LlmState {
  enabled: boolean;
  reachable: boolean;
  detail: string;
  checkedAt: number | null;
}

export type AgentState = "starting" | "running" | "idle" | "stopped" | "failed";

/** Per-agent bookkeeping that /health reports. */
export class AgentStatus {
  state: AgentState = "starting";
  lastEventTs: number | null = null;
  lastWallTs: number | null = null;
  processed = 0;
  errors = 0;
  lastError: string | null = null;
  constructor(readonly name: string) {}

  seen(eventTs: number): void {
    this.processed++;
    this.lastEventTs = eventTs;
    this.lastWallTs = Date.now();
  }

  toJSON() {
    return {
      state: this.state,
      last_event_ts: this.lastEventTs === null ? null : new Date(this.lastEventTs).toISOString(),
      last_activity: this.lastWallTs === null ? null : new Date(this.lastWallTs).toISOString(),
      // wall seconds since the agent last handled something (its lag behind the stream)
      idle_s: this.lastWallTs === null ? null : Math.round((Date.now() - this.lastWallTs) / 100) / 10,
      processed: this.processed,
      errors: this.errors,
      last_error: this.lastError,
    };
  }
}
