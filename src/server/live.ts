import type { Bar, Envelope, Forecast } from "../core/events";

/**
 * The dashboard's live feed, without timers or I/O: events are pushed in as the daemon emits them
 * and drained into one batch per tick, so a replay at full speed sends the browser a few messages a
 * second however many events it makes. Bars and forecasts are coalesced to the newest per symbol
 * (the page fetches any gap over REST); the events an operator reads one by one (orders, blocks,
 * fills, rejections) are kept up to a cap per tick and the rest are counted as dropped.
 */

export interface ForecastPoint {
  ts: number;
  close: number;
  /** p10 / p50 / p90 of the next-horizon log return, priced from the bar's close. */
  p10: number;
  p50: number;
  p90: number;
  horizon_bars: number;
}

export interface NotableEvent {
  ts: number;
  type: string;
  symbol: string;
  correlation_id: string;
  text: string;
}

export interface LiveBatch {
  /** Events per topic since the previous batch. */
  counts: Record<string, number>;
  bars: Record<string, Bar>;
  forecasts: Record<string, ForecastPoint>;
  notable: NotableEvent[];
  /** Notable events left out of this batch because of the cap. */
  dropped: number;
}

/** Price levels of a forecast: close · e^p for each quantile of the log return. */
export function forecastPoint(ts: number, f: Forecast): ForecastPoint {
  const px = (p: number) => Math.round(f.close * Math.exp(p) * 1e4) / 1e4;
  return { ts, close: f.close, p10: px(f.p10), p50: px(f.p50), p90: px(f.p90), horizon_bars: f.horizon_bars };
}

/** One line for an event an operator cares about, or null for the plumbing (bars, features, forecasts). */
export function describeEvent(e: Envelope): string | null {
  const p = (e.payload ?? {}) as Record<string, unknown>;
  switch (e.type) {
    case "execution.completed":
      return `${String(p.side).toUpperCase()} ${p.qty} ${e.symbol} submitted (${p.order_type}${p.exit_reason ? `, ${p.exit_reason}` : ""})`;
    case "execution.blocked":
      return `${String(p.side ?? "").toUpperCase()} ${p.qty ?? ""} ${e.symbol} blocked: ${p.reason}`.replace(/\s+/g, " ").trim();
    case "risk.rejected":
      return `${e.symbol} rejected by risk: ${p.reason}`;
    case "market.rejected":
      return `${e.symbol} bar quarantined: ${p.reason}`;
    case "exit.signals":
      return `${e.symbol} exit signal: ${p.exit_reason ?? p.reason} (${String(p.side).toUpperCase()} ${p.qty})`;
    case "audit":
      if (p.event === "trading_state") return `trading state ${p.from} → ${p.to} (${p.reason}${p.by ? `, by ${p.by}` : ""})`;
      if (p.event === "fill") return `${String(p.side).toUpperCase()} ${p.qty} ${e.symbol} filled @ ${p.price}${p.leg ? ` (${p.leg})` : ""}`;
      return typeof p.event === "string" ? `${e.symbol} ${p.event}` : null;
    default:
      return null;
  }
}

export class LiveBuffer {
  private counts: Record<string, number> = {};
  private bars: Record<string, Bar> = {};
  private forecasts: Record<string, ForecastPoint> = {};
  private notable: NotableEvent[] = [];
  private dropped = 0;
  /** The newest forecasts per symbol, for the chart's band after a (re)load. */
  private history = new Map<string, ForecastPoint[]>();

  constructor(
    private maxNotable = 50,
    private historyPerSymbol = 5000,
  ) {}

  push(e: Envelope): void {
    this.counts[e.type] = (this.counts[e.type] ?? 0) + 1;
    if (e.type === "market.raw") {
      this.bars[e.symbol] = e.payload as Bar;
      return;
    }
    if (e.type === "predictions") {
      const f = forecastPoint(e.ts, e.payload as Forecast);
      this.forecasts[e.symbol] = f;
      let h = this.history.get(e.symbol);
      if (!h) this.history.set(e.symbol, (h = []));
      h.push(f);
      // Trim in chunks so the cost per event stays O(1) amortised.
      if (h.length > this.historyPerSymbol * 1.25) h.splice(0, h.length - this.historyPerSymbol);
      return;
    }
    const text = describeEvent(e);
    if (text === null) return;
    if (this.notable.length >= this.maxNotable) {
      this.dropped++;
      return;
    }
    this.notable.push({ ts: e.ts, type: e.type, symbol: e.symbol, correlation_id: e.correlation_id, text });
  }

  /** Everything since the last drain, or null when nothing happened. */
  drain(): LiveBatch | null {
    if (Object.keys(this.counts).length === 0) return null;
    const b: LiveBatch = { counts: this.counts, bars: this.bars, forecasts: this.forecasts, notable: this.notable, dropped: this.dropped };
    this.counts = {};
    this.bars = {};
    this.forecasts = {};
    this.notable = [];
    this.dropped = 0;
    return b;
  }

  /** Stored forecasts of a symbol with ts >= since, oldest first (at most the history size). */
  forecastsOf(symbol: string, since = -Infinity): ForecastPoint[] {
    const h = this.history.get(symbol) ?? [];
    const out = h.filter((f) => f.ts >= since);
    return out.length > this.historyPerSymbol ? out.slice(-this.historyPerSymbol) : out;
  }
}
