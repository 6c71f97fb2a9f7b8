/**
 * New York market time helpers. All market-hours logic uses America/New_York via Intl, never the
 * host's zone. The offset is cached per UTC hour: Intl is slow and the offset only changes on the
 * hour of a DST switch.
 */
const NY = "America/New_York";
const fmt = new Intl.DateTimeFormat("en-US", {
  timeZone: NY,
  hourCycle: "h23",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  weekday: "short",
});

export interface NyParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  weekday: number; // 0 = Sunday
  date: string; // YYYY-MM-DD (New York trading day)
  minutesOfDay: number;
}

const WD: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };
const offsetCache = new Map<number, number>();

/** Offset of New York from UTC in ms (negative: -4h or -5h) at instant `ts`. */
export function nyOffsetMs(ts: number): number {
  const hourKey = Math.floor(ts / 3_600_000);
  const hit = offsetCache.get(hourKey);
  if (hit !== undefined) return hit;
  const p = slowParts(hourKey * 3_600_000);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  const off = asUtc - hourKey * 3_600_000;
  if (offsetCache.size > 100_000) offsetCache.clear();
  offsetCache.set(hourKey, off);
  return off;
}

function slowParts(ts: number) {
  const o: Record<string, string> = {};
  for (const part of fmt.formatToParts(new Date(ts))) o[part.type] = part.value;
  return {
    year: Number(o.year),
    month: Number(o.month),
    day: Number(o.day),
    hour: Number(o.hour),
    minute: Number(o.minute),
    second: Number(o.second),
    weekday: WD[o.weekday ?? "Sun"] ?? 0,
  };
}

export function nyParts(ts: number): NyParts {
  const local = new Date(ts + nyOffsetMs(ts));
  const year = local.getUTCFullYear();
  const month = local.getUTCMonth() + 1;
  const day = local.getUTCDate();
  const hour = local.getUTCHours();
  const minute = local.getUTCMinutes();
  return {
    year,
    month,
    day,
    hour,
    minute,
    second: local.getUTCSeconds(),
    weekday: local.getUTCDay(),
    date: `${year}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`,
    minutesOfDay: hour * 60 + minute,
  };
}

/** Per UTC hour: the New York date and the UTC ms of its midnight (a New York day starts on a UTC hour). */
const dayCache = new Map<number, { date: string; start: number }>();

function nyDay(ts: number): { date: string; start: number } {
  const hourKey = Math.floor(ts / 3_600_000);
  let d = dayCache.get(hourKey);
  if (d === undefined) {
    const p = nyParts(ts);
    const guess = Date.UTC(p.year, p.month - 1, p.day) - nyOffsetMs(ts);
    // A DST switch happens at 02:00, so midnight has the same offset as the rest of the morning
    // only on ordinary days; correct once using the offset at the guessed midnight.
    d = { date: p.date, start: Date.UTC(p.year, p.month - 1, p.day) - nyOffsetMs(guess) };
    if (dayCache.size > 100_000) dayCache.clear();
    dayCache.set(hourKey, d);
  }
  return d;
}

/** The New York trading date (YYYY-MM-DD) of an instant. */
export function nyDate(ts: number): string {
  return nyDay(ts).date;
}

/** UTC epoch ms of New York local midnight starting the day that contains `ts`. */
export function nyDayStart(ts: number): number {
  return nyDay(ts).start;
}

/** Regular session 09:30–16:00 New York time, Monday to Friday (holidays come with the calendar). */
export function inRegularSession(ts: number): boolean {
  const p = nyParts(ts);
  if (p.weekday === 0 || p.weekday === 6) return false;
  return p.minutesOfDay >= 570 && p.minutesOfDay < 960;
}

export function isoTs(ts: number): string {
  return new Date(ts).toISOString();
}
