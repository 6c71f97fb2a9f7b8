import type { TradeRow } from "../store/port";

/** A trade row as the CLI's --json and the REST API show it: times as ISO strings. */
export function tradeJson(t: TradeRow) {
  const iso = (x: number | null) => (x === null ? null : new Date(x).toISOString());
  return {
    ...t, ts: iso(t.ts), filled_at: iso(t.filled_at), updated_at: iso(t.updated_at), submit_wall_at: iso(t.submit_wall_at),
    first_contact_wall_at: iso(t.first_contact_wall_at), last_contact_wall_at: iso(t.last_contact_wall_at), adopted_at: iso(t.adopted_at),
  };
}
