import type { BrokerOrder } from "../broker/port";
import type { TradeRow } from "../store/port";

/**
 * Pure rules of order and position reconciliation (issue 12). Every window here is measured in
 * wall-clock milliseconds passed in by the caller, never in the event time of a replay.
 */

/** Broker `created_at` and our wall clock may disagree; listings reach this far further back. */
export const LISTING_SLACK_MS = 5 * 60_000;

/**
 * Wall time the in-flight and unfilled windows of a row start from: its submission attempt, else
 * (a row written before wall times were kept) the broker's first answer about it; null when
 * neither is known yet — the caller's lookup then records the first contact and the window starts.
 */
export function windowStart(row: Pick<TradeRow, "submit_wall_at" | "first_contact_wall_at">): number | null {
  return row.submit_wall_at ?? row.first_contact_wall_at;
}

export type MissingVerdict = { action: "wait"; waitedMs: number; leftMs: number } | { action: "unknown"; waitedMs: number };

/**
 * A `pending_submit` row whose client_order_id the broker does not know: inside the in-flight
 * window that is no answer (the POST may still be in the broker's hands); past it the row becomes
 * `unknown`, terminal but revisable. Never `rejected`: the broker said nothing of the kind.
 */
export function verdictForMissing(row: Pick<TradeRow, "submit_wall_at" | "first_contact_wall_at">, wallNow: number, inFlightMs: number): MissingVerdict {
  const start = windowStart(row) ?? wallNow;
  const waitedMs = Math.max(0, wallNow - start);
  return waitedMs >= inFlightMs ? { action: "unknown", waitedMs } : { action: "wait", waitedMs, leftMs: inFlightMs - waitedMs };
}

/** An open entry with nothing filled is cancelled once it has waited this long in wall time. */
export function unfilledTooLong(row: Pick<TradeRow, "submit_wall_at" | "first_contact_wall_at">, wallNow: number, unfilledMs: number): boolean {
  const start = windowStart(row);
  return start !== null && wallNow - start >= unfilledMs;
}

/**
 * Where the broker's order listing starts (`after`, wall ms): the previous listing's start (so
 * consecutive listings leave no gap), or `lookbackMs` ago on the first; earlier still for any open
 * row, and for any revisable row submitted within the look-back; minus the clock slack.
 */
export function listingAfter(o: {
  watermark: number | null; open: Pick<TradeRow, "submit_wall_at" | "first_contact_wall_at">[]; revisable: Pick<TradeRow, "submit_wall_at" | "first_contact_wall_at">[];
  wallNow: number; lookbackMs: number; slackMs?: number;
}): number {
  const horizon = o.wallNow - o.lookbackMs;
  let after = o.watermark ?? horizon;
  for (const r of o.open) {
    const s = windowStart(r);
    if (s !== null) after = Math.min(after, s);
  }
  for (const r of o.revisable) {
    const s = windowStart(r);
    if (s !== null && s >= horizon) after = Math.min(after, s);
  }
  return after - (o.slackMs ?? LISTING_SLACK_MS);
}

/**
 * The `after` of the next page of an ascending listing, or null when this page was the last.
 * One millisecond before the newest order seen (`after` is exclusive and several orders can share
 * a millisecond; the caller skips ids it has already seen). A full page with nothing new means at
 * least a page of orders share that millisecond: the listing then steps past it (the caller warns).
 */
export function nextPageAfter(page: Pick<BrokerOrder, "created_at">[], limit: number, after: number, fresh: number): number | null {
  if (page.length < limit) return null;
  let newest: number | null = null;
  for (const o of page) if (o.created_at !== null && (newest === null || o.created_at > newest)) newest = o.created_at;
  if (newest === null) return null;
  if (fresh > 0 && newest - 1 > after) return newest - 1;
  return newest > after ? newest : null;
}

/**
 * When did the position the broker holds open? Walks the symbol's fills newest first, undoing
 * them from the held quantity until it reaches zero: the buy that does so opened the position.
 * Null when the fills known do not account for the quantity (the caller then uses its wall time
 * and flags the position inherited).
 */
export function openedAtFromFills(qty: number, fills: { side: "buy" | "sell"; qty: number; at: number }[]): number | null {
  if (!(qty > 0)) return null;
  let left = qty;
  for (const f of [...fills].sort((a, b) => b.at - a.at)) {
    if (f.side === "buy") {
      left -= f.qty;
      if (left <= 1e-9) return f.at;
    } else left += f.qty;
  }
  return null;
}

/**
 * The time the reconciler writes into event-time columns: the pipeline's clock once it runs
 * (a replay's clock reads 0 until its first bar), the wall clock before that — so a start-up
 * reconcile never stamps 1970 on a row or a position.
 */
export function eventTimeOr(clockNow: number, wallNow: number): number {
  return clockNow > 0 ? clockNow : wallNow;
}
