import { nyOffsetMs } from "../core/time";

/**
 * The NYSE calendar, computed by rule (not a list of dates): full holidays with their weekend
 * observance, and the 13:00 early closes. All times are America/New_York, DST-correct. Pure.
 * Rules as NYSE applies them since 1998 (MLK Day from 1998, Juneteenth from 2022; New Year's
 * Day falling on a Saturday is not observed on the Friday before, which would close a year-end).
 */

export interface Session {
  date: string; // YYYY-MM-DD, New York
  open: number; // epoch ms
  close: number; // epoch ms
  early: boolean; // 13:00 close
}

const pad = (n: number) => String(n).padStart(2, "0");
const ymd = (y: number, m: number, d: number) => `${y}-${pad(m)}-${pad(d)}`;

/** Weekday (0 = Sunday) of a calendar date, by UTC arithmetic (no zone involved). */
function weekday(y: number, m: number, d: number): number {
  return new Date(Date.UTC(y, m - 1, d)).getUTCDay();
}

function nthWeekday(y: number, m: number, wd: number, n: number): number {
  const first = weekday(y, m, 1);
  return 1 + ((wd - first + 7) % 7) + (n - 1) * 7;
}

function lastWeekday(y: number, m: number, wd: number): number {
  const days = new Date(Date.UTC(y, m, 0)).getUTCDate();
  const last = weekday(y, m, days);
  return days - ((last - wd + 7) % 7);
}

/** Easter Sunday (Gregorian, anonymous algorithm). */
export function easter(y: number): { m: number; d: number } {
  const a = y % 19, b = Math.floor(y / 100), c = y % 100, d = Math.floor(b / 4), e = b % 4;
  const f = Math.floor((b + 8) / 25), g = Math.floor((b - f + 1) / 3), h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4), k = c % 4, l = (32 + 2 * e + 2 * i - h - k) % 7, m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31), day = ((h + l - 7 * m + 114) % 31) + 1;
  return { m: month, d: day };
}

function addDays(y: number, m: number, d: number, n: number): string {
  const t = new Date(Date.UTC(y, m - 1, d + n));
  return ymd(t.getUTCFullYear(), t.getUTCMonth() + 1, t.getUTCDate());
}

/** Fixed-date holidays move to Friday when on Saturday, Monday when on Sunday. */
function observed(y: number, m: number, d: number): string {
  const wd = weekday(y, m, d);
  if (wd === 6) return addDays(y, m, d, -1);
  if (wd === 0) return addDays(y, m, d, 1);
  return ymd(y, m, d);
}

const holidayCache = new Map<number, Map<string, string>>();

/** Full-day NYSE holidays of a year: date → name. */
export function holidays(y: number): Map<string, string> {
  const hit = holidayCache.get(y);
  if (hit) return hit;
  const h = new Map<string, string>();
  // New Year's Day: Sunday → Monday; Saturday → not observed (NYSE rule 7.2).
  if (weekday(y, 1, 1) !== 6) h.set(observed(y, 1, 1), "New Year's Day");
  if (y >= 1998) h.set(ymd(y, 1, nthWeekday(y, 1, 1, 3)), "Martin Luther King Jr. Day");
  h.set(ymd(y, 2, nthWeekday(y, 2, 1, 3)), "Washington's Birthday");
  const e = easter(y);
  h.set(addDays(y, e.m, e.d, -2), "Good Friday");
  h.set(ymd(y, 5, lastWeekday(y, 5, 1)), "Memorial Day");
  if (y >= 2022) h.set(observed(y, 6, 19), "Juneteenth");
  h.set(observed(y, 7, 4), "Independence Day");
  h.set(ymd(y, 9, nthWeekday(y, 9, 1, 1)), "Labor Day");
  h.set(ymd(y, 11, nthWeekday(y, 11, 4, 4)), "Thanksgiving Day");
  h.set(observed(y, 12, 25), "Christmas Day");
  holidayCache.set(y, h);
  return h;
}

function parse(date: string): [number, number, number] {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) throw new Error(`not a YYYY-MM-DD date: '${date}'`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

export function holidayName(date: string): string | null {
  const [y] = parse(date);
  return holidays(y).get(date) ?? null;
}

export function isTradingDay(date: string): boolean {
  const [y, m, d] = parse(date);
  const wd = weekday(y, m, d);
  return wd !== 0 && wd !== 6 && !holidays(y).has(date);
}

/** 13:00 closes: July 3rd (before a weekday Independence Day), the day after Thanksgiving, Christmas Eve. */
export function isEarlyClose(date: string): boolean {
  if (!isTradingDay(date)) return false;
  const [y, m, d] = parse(date);
  if (m === 7 && d === 3 && weekday(y, 7, 4) >= 1 && weekday(y, 7, 4) <= 5) return true;
  if (m === 11 && d === nthWeekday(y, 11, 4, 4) + 1) return true;
  if (m === 12 && d === 24) return true;
  return false;
}

/** Epoch ms of a New York wall-clock time on a date. */
export function nyTime(date: string, hh: number, mm: number): number {
  const [y, m, d] = parse(date);
  const asUtc = Date.UTC(y, m - 1, d, hh, mm);
  // The offset at that local time: try the offset of the instant guessed with -5h, correct once.
  let t = asUtc - nyOffsetMs(asUtc + 5 * 3_600_000);
  t = asUtc - nyOffsetMs(t);
  return t;
}

const sessions = new Map<string, Session | null>();

/** The regular session of a New York date (null on a weekend or holiday); answers are cached per date. */
export function sessionFor(date: string): Session | null {
  const hit = sessions.get(date);
  if (hit !== undefined) return hit;
  let s: Session | null = null;
  if (isTradingDay(date)) {
    const early = isEarlyClose(date);
    s = Object.freeze({ date, open: nyTime(date, 9, 30), close: nyTime(date, early ? 13 : 16, 0), early });
  }
  if (sessions.size > 20_000) sessions.clear(); // ~80 years of dates: bounded
  sessions.set(date, s);
  return s;
}

function nyDateOf(ts: number): string {
  const t = new Date(ts + nyOffsetMs(ts));
  return ymd(t.getUTCFullYear(), t.getUTCMonth() + 1, t.getUTCDate());
}

/** The New York day [start, end) of the last isMarketOpen call and its session: one day's answers need no date math. */
let lastDay = { start: 1, end: 0, session: null as Session | null };

export function isMarketOpen(ts: number): boolean {
  if (ts < lastDay.start || ts >= lastDay.end) {
    const date = nyDateOf(ts);
    const start = nyTime(date, 0, 0);
    const [y, m, d] = parse(date);
    lastDay = { start, end: nyTime(addDays(y, m, d, 1), 0, 0), session: sessionFor(date) };
  }
  const s = lastDay.session;
  return s !== null && ts >= s.open && ts < s.close;
}

/** The next session open at or after `ts` (today's if it is still ahead). */
export function nextOpen(ts: number): number {
  let date = nyDateOf(ts);
  for (let i = 0; i < 15; i++) {
    const s = sessionFor(date);
    if (s && s.open >= ts) return s.open;
    const [y, m, d] = parse(date);
    date = addDays(y, m, d, 1);
  }
  throw new Error("no session within 15 days");
}

/** The close of the session in progress, or of the next one. */
export function nextClose(ts: number): number {
  let date = nyDateOf(ts);
  for (let i = 0; i < 15; i++) {
    const s = sessionFor(date);
    if (s && s.close > ts) return s.close;
    const [y, m, d] = parse(date);
    date = addDays(y, m, d, 1);
  }
  throw new Error("no session within 15 days");
}

/** The end-of-day job: 16:30 New York, or 30 minutes after an early close. Null on a non-trading day. */
export function eodRunTime(date: string): number | null {
  const s = sessionFor(date);
  return s ? s.close + 30 * 60_000 : null;
}
