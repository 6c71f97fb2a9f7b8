import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { Bar } from "../core/events";
import { InputError } from "../core/errors";
import { nyDate } from "../core/time";
import { isSymbol } from "../core/symbol";
import { oneLine } from "../core/text";

/** One row of a LEAN factor file: `date(YYYYMMDD),price_factor,split_factor,reference_price`. */
export interface FactorRow {
  date: number; // YYYYMMDD
  priceFactor: number;
  splitFactor: number;
}

/**
 * Parse a LEAN factor file; a malformed line is an error naming the file, the line and what is
 * wrong with it, never the line itself (a file name built from data could point anywhere). Pure.
 */
export function parseFactorFile(text: string, file: string): FactorRow[] {
  const out: FactorRow[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line) return;
    const f = line.split(",");
    const date = Number(f[0]);
    const pf = Number(f[1]);
    const sf = Number(f[2]);
    const why = f.length < 3 ? `${f.length} field(s)` : !/^\d{8}$/.test(f[0]!) ? "the date is not YYYYMMDD" : !(pf > 0) ? "price_factor is not a number > 0" : !(sf > 0) ? "split_factor is not a number > 0" : null;
    if (why) throw new InputError(`${file}:${i + 1}: malformed factor row: ${why} (expected YYYYMMDD,price_factor,split_factor,reference_price)`);
    if (out.length && date <= out[out.length - 1]!.date) throw new InputError(`${file}:${i + 1}: factor rows must be in increasing date order`);
    out.push({ date, priceFactor: pf, splitFactor: sf });
  });
  if (out.length === 0) throw new InputError(`${file}: no factor rows`);
  return out;
}

/** The factors that apply to a raw price on `date`: those of the first row dated on or after it. */
export function factorsOn(rows: FactorRow[], date: number): { price: number; split: number } {
  let lo = 0;
  let hi = rows.length - 1;
  if (date > rows[hi]!.date) return { price: 1, split: 1 };
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (rows[mid]!.date >= date) hi = mid;
    else lo = mid + 1;
  }
  return { price: rows[lo]!.priceFactor, split: rows[lo]!.splitFactor };
}

const ymdNum = (ts: number) => Number(nyDate(ts).replace(/-/g, ""));

/**
 * Adjusts raw bars for splits and dividends to the terms of a reference date (the last day of the
 * replay), so that consecutive bars across a corporate action are comparable: AAPL's 7-for-1 split
 * of 2014-06-09 no longer looks like an 86% crash, while prices on the reference day stay as
 * traded. Volumes scale inversely with the split factor.
 */
export class PriceAdjuster {
  private ref = new Map<string, { price: number; split: number }>();
  constructor(private factors: Map<string, FactorRow[]>) {}

  /** Set the reference day of each symbol (call with the last bar's time of the window). */
  setReference(symbol: string, ts: number): void {
    const rows = this.factors.get(symbol);
    if (rows) this.ref.set(symbol, factorsOn(rows, ymdNum(ts)));
  }

  has(symbol: string): boolean {
    return this.factors.has(symbol);
  }

  adjustBar(b: Bar): Bar {
    const rows = this.factors.get(b.symbol);
    const ref = this.ref.get(b.symbol);
    if (!rows || !ref) return b;
    const f = factorsOn(rows, ymdNum(b.ts));
    const k = (f.price * f.split) / (ref.price * ref.split);
    if (k === 1) return b;
    const r6 = (x: number) => Math.round(x * k * 1e6) / 1e6;
    return { ...b, open: r6(b.open), high: r6(b.high), low: r6(b.low), close: r6(b.close), volume: Math.round((b.volume * ref.split) / f.split) };
  }
}

/** The factor file of a symbol: `<dir>/<SYMBOL>.csv`, or null when the name would leave `dir`. */
export function factorFile(dir: string, symbol: string): string | null {
  if (!isSymbol(symbol)) return null;
  const root = resolve(dir);
  const f = resolve(root, `${symbol}.csv`);
  return dirname(f) === root ? f : null;
}

/**
 * Load `<dir>/<SYMBOL>.csv` factor files for the given symbols (missing files: no adjustment).
 * Symbols come from data, so each is checked first: one that is not a ticker is an error and no
 * file is opened for it.
 */
export function loadFactors(dir: string, symbols: Iterable<string>): Map<string, FactorRow[]> {
  const out = new Map<string, FactorRow[]>();
  for (const s of symbols) {
    const f = factorFile(dir, s);
    if (f === null) throw new InputError(`factor files: symbol '${oneLine(s.slice(0, 20))}' is not an upper-case ticker; no factor file opened for it`);
    if (existsSync(f)) out.set(s, parseFactorFile(readFileSync(f, "utf8"), f));
  }
  return out;
}
