import type { Envelope, Forecast } from "../core/events";
import type { Store } from "../store/port";

export type AuditLevel = "decisions" | "all";

/**
 * What goes into audit_events (ARCHITECTURE.md §9), kept cheap without losing any order's chain:
 *
 * - market.raw is never copied: the bar is its market_bars row (symbol, ts), found from the chain.
 * - market.engineered is stored as its features only (the bar is not encoded twice).
 * - level `all`: every other event as it is.
 * - level `decisions` (default): a bar's features and forecast are held back (one per symbol, so
 *   memory stays flat) and written only when the same correlation reaches a decision — a forecast
 *   that is not "hold", a risk verdict, an exit, an order, a fill — so every trade's chain is
 *   complete, while a bar that decided nothing leaves only its market_bars row.
 *
 * Used by each process for the events it emits and, where Prediction runs, the features it
 * receives, so a split deployment keeps complete chains too.
 */
export class AuditTrail {
  private heldFeatures = new Map<string, Envelope>();
  private heldForecast = new Map<string, Envelope>();
  /** The latest correlation per symbol that reached a decision: its later events are written at once. */
  private decided = new Map<string, string>();

  constructor(
    private store: Store,
    private level: AuditLevel,
  ) {}

  /** Audit one event (buffered by the store; flushed by count, by time and before a broker call). */
  record(e: Envelope): Promise<void> | void {
    switch (e.type) {
      case "market.raw":
        return;
      case "market.engineered": {
        if (this.level === "all" || this.decided.get(e.symbol) === e.correlation_id) return this.store.appendAudit([featuresOnly(e)]);
        // Held as it came (no copy, no id made): most bars decide nothing and are dropped unwritten.
        this.heldFeatures.set(e.symbol, e);
        return;
      }
      case "predictions": {
        const hold = (e.payload as Forecast).signal === "hold";
        if (this.level === "all" || this.decided.get(e.symbol) === e.correlation_id) return this.store.appendAudit([e]);
        if (hold) {
          this.heldForecast.set(e.symbol, e);
          return;
        }
        return this.decide(e);
      }
      default:
        return this.decide(e);
    }
  }

  /** Write `e` after whatever was held back for its correlation. */
  private decide(e: Envelope): Promise<void> | void {
    if (this.level === "all") return this.store.appendAudit([e]);
    const out: Envelope[] = [];
    const f = this.heldFeatures.get(e.symbol);
    if (f && f.correlation_id === e.correlation_id) {
      out.push(featuresOnly(f));
      this.heldFeatures.delete(e.symbol);
    }
    const p = this.heldForecast.get(e.symbol);
    if (p && p.correlation_id === e.correlation_id) {
      out.push(p);
      this.heldForecast.delete(e.symbol);
    }
    if (e.symbol !== "*") this.decided.set(e.symbol, e.correlation_id);
    out.push(e);
    return this.store.appendAudit(out);
  }
}

/** market.engineered as audited: its features only (the bar is its market_bars row). */
function featuresOnly(e: Envelope): Envelope {
  return { ...e, payload: { features: (e.payload as { features?: unknown }).features ?? null } };
}
