import { timeId } from "./ids";

/** Topics of the pipeline (ARCHITECTURE.md §4). */
export const TOPICS = [
  "market.raw",
  "market.engineered",
  "predictions",
  "risk.approved",
  "risk.rejected",
  "exit.signals",
  "execution.completed",
  "execution.blocked",
  "market.rejected",
  "audit",
] as const;
export type Topic = (typeof TOPICS)[number];

export const SCHEMA_VERSION = 1;

/** Every message on the bus. `ts` is event time (the bar's time), never wall-clock time. */
export interface Envelope<P = unknown> {
  id: string;
  type: Topic;
  ts: number; // epoch ms, event time
  correlation_id: string;
  idempotency_key: string;
  source: string;
  symbol: string;
  schema_version: number;
  payload: P;
}

export function envelope<P>(
  type: Topic,
  p: { ts: number; correlation_id: string; idempotency_key?: string; source: string; symbol: string; payload: P },
): Envelope<P> {
  const idempotency_key = p.idempotency_key ?? `${p.correlation_id}:${type}`;
  let id: string | undefined;
  return {
    // Deterministic: the same event (type, source, key) of a bar always gets the same id, so a
    // redelivery is recognised; different events of one bar (a fill and a bracket leg) differ.
    // Time-ordered (event time first), so the audit table's key grows at its end. Made on first
    // read: most of a bar's events are handled in process and never stored or sent, and then
    // nobody asks (an own enumerable accessor, so spreads, JSON and Avro see a plain string).
    get id(): string {
      return (id ??= timeId(p.ts, `${p.correlation_id}|${type}|${p.source}|${idempotency_key}`));
    },
    type,
    ts: p.ts,
    correlation_id: p.correlation_id,
    idempotency_key,
    source: p.source,
    symbol: p.symbol,
    schema_version: SCHEMA_VERSION,
    payload: p.payload,
  };
}

/** A one-minute (or daily) OHLCV bar. */
export interface Bar {
  symbol: string;
  ts: number; // bar start, epoch ms UTC
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

export type Side = "buy" | "sell";

/** Prediction payload: quantiles of the next-horizon return and a signal. */
export interface Forecast {
  model: string;
  model_version: string;
  horizon_bars: number;
  p10: number;
  p50: number;
  p90: number;
  signal: "buy" | "sell" | "hold";
  score: number; // p50 / spread, the strength behind the signal
  close: number;
  horizons: { horizon_bars: number; p10: number; p50: number; p90: number }[]; // every horizon the model forecasts (the first is the one above)
  confidence: number | null; // TFT: probability its p50 has the right sign; null for models without one
}

/** What Risk approves and Execution turns into (at most) one order. */
export interface OrderIntent {
  symbol: string;
  side: Side;
  qty: number;
  reference_price: number; // last trade price when the intent was made
  ts: number; // event time of the bar that caused it
  correlation_id: string;
  idempotency_key: string;
  reason: string;
  exit_reason?: "take_profit" | "stop_loss" | "time_exit" | null;
}

export interface RiskRejection {
  symbol: string;
  side: Side;
  reason: string;
  detail: string;
}
