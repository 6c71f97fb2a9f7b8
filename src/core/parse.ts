/**
 * Strict readers for numbers and dates that come from outside (query strings, flags). JavaScript's
 * Number() takes `0x10`, `1e3`, ` 16 `, and Date.parse rolls 2013-02-30 over to March 2: neither
 * is what an operator typed. Pure.
 */

/** A whole number written in plain decimal digits, else NaN. */
export function wholeNumber(s: string | undefined | null): number {
  return typeof s === "string" && /^\d{1,15}$/.test(s) ? Number(s) : NaN;
}

/** Is `s` a real calendar date YYYY-MM-DD (no 2013-02-30, no 2013-13-01)? */
export function isCalendarDate(s: string | undefined | null): boolean {
  const m = typeof s === "string" ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(s) : null;
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = new Date(0);
  t.setUTCFullYear(y, mo - 1, d); // Date.UTC would read years 0..99 as 1900..1999
  return t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d;
}
