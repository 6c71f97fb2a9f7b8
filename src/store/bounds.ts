/**
 * Time filters from outside (`since=+010000-01-01…` on the API) are clamped to years 0001..9999:
 * SQLite stores times as ISO text, compared as text, which only orders correctly in that range
 * ("+010000-…" sorts before "2013-…"), and PostgreSQL refuses the ISO form of such a year. Pure.
 */
export const MIN_TS = Date.parse("0001-01-01T00:00:00.000Z");
export const MAX_TS = Date.parse("9999-12-31T23:59:59.999Z");

export function clampTs(ts: number): number {
  return Math.min(MAX_TS, Math.max(MIN_TS, ts));
}
