import type { Supervisor } from "../agents/supervisor";

/**
 * What the HTTP server may use of the running process: its settings and adapters' read side, its
 * health and counters, and the operator surface (reload the config, run the exit checks, the trading
 * state). Never an agent's internals: a route that needs more gets a method on the Supervisor.
 */
export type Runtime = Pick<
  Supervisor,
  | "settings" | "store" | "log" | "metrics" | "bus" | "broker" | "runId" | "startedAt" | "processId" | "stats" | "observers" | "agents"
  | "tradingState" | "appConfig" | "reloadConfig" | "runExitOnce" | "agentStatus" | "watchtowerRound" | "health" | "refreshGauges"
  | "reconciler" | "reconcileCycle" | "syncPositions"
>;
