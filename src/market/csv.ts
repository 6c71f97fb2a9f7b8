import type { Bar } from "../core/events";
import { nyOffsetMs } from "../core/time";
import { isSymbol } from "../core/symbol";
import { oneLine } from "../core/text";

/** One parsed CSV record: a bar, or a row that could not be read, with why. */
export type CsvItem =
  | { kind: "bar"; bar: Bar; file: string; line: number }
  | { kind: "bad"; reason: string; detail: string; file: string; line: number; symbol: string; ts: number | null };

const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

export type CsvFormat = "minute" | "daily";

/** Detect the format from the header line; throws with the header when it is not one we read. */
export function detectFormat(header: string, file: string): CsvFormat {
  const h = header.trim().toLowerCase().replace(/\s+/g, "");
  if (h === "ts,symbol,open,high,low,close,volume") return "minute";
  if (h === "date,symbol,open,high,low,close,volume") return "daily";
  throw new Error(
    `${file}: unrecognised CSV header '${oneLine(header.trim().slice(0, 120))}' (expected 'ts,symbol,open,high,low,close,volume' or 'date,symbol,open,high,low,close,volume')`,
  );
}

/** A daily bar is stamped at the regular session's open, 09:30 New York time. */
function dailyTs(y: number, m: number, d: number): number {
  const localAsUtc = Date.UTC(y, m - 1, d, 9, 30);
  return localAsUtc - nyOffsetMs(localAsUtc + 5 * 3_600_000);
}

/**
 * A price or volume as a plain decimal: digits, an optional fraction, an optional sign. No hex
 * (`0x10`), no exponent (`1e308`), no `Infinity`: what JavaScript's Number() would also accept is
 * not a market price. At most 15 integer digits, so every product stays finite.
 */
const DECIMAL_RE = /^[+-]?\d{1,15}(\.\d{1,12})?$/;

/** The number in a CSV field, or NaN when the field is empty or not a plain decimal. */
export function csvNumber(s: string | undefined): number {
  const t = (s ?? "").trim();
  return DECIMAL_RE.test(t) ? Number(t) : NaN;
}

/**
 * Parse one data line. Numbers are parsed but not judged here (a NaN price is DataIngestion's to
 * reject with its own reason); only rows that cannot be read as a bar at all are `bad`.
 */
export function parseLine(line: string, fmt: CsvFormat, file: string, lineNo: number): CsvItem {
  const f = line.split(",");
  const symbol = (f[1] ?? "").trim();
  if (f.length !== 7) {
    return { kind: "bad", reason: "malformed_row", detail: `${file}:${lineNo}: expected 7 fields, got ${f.length}: '${oneLine(line.slice(0, 120))}'`, file, line: lineNo, symbol: isSymbol(symbol) ? symbol : "", ts: null };
  }
  const tsRaw = f[0]!.trim();
  let ts: number;
  if (fmt === "minute") {
    ts = ISO_RE.test(tsRaw) ? Date.parse(tsRaw) : NaN;
  } else {
    const m = DATE_RE.exec(tsRaw);
    ts = m ? dailyTs(Number(m[1]), Number(m[2]), Number(m[3])) : NaN;
  }
  if (!Number.isFinite(ts)) {
    return { kind: "bad", reason: "bad_timestamp", detail: `${file}:${lineNo}: cannot read timestamp '${oneLine(tsRaw.slice(0, 40))}'`, file, line: lineNo, symbol: isSymbol(symbol) ? symbol : "", ts: null };
  }
  if (!symbol) {
    return { kind: "bad", reason: "missing_symbol", detail: `${file}:${lineNo}: empty symbol`, file, line: lineNo, symbol, ts };
  }
  // The symbol is checked before anything uses it (a factor file name, a gate, a query): a row
  // whose symbol is `../../x` is refused here and never reaches the file system.
  if (!isSymbol(symbol)) {
    return { kind: "bad", reason: "bad_symbol", detail: `${file}:${lineNo}: symbol '${oneLine(symbol.slice(0, 20))}' is not an upper-case ticker like SPY or BRK.B`, file, line: lineNo, symbol: "", ts };
  }
  const num = csvNumber;
  return {
    kind: "bar",
    bar: { symbol, ts, open: num(f[2]), high: num(f[3]), low: num(f[4]), close: num(f[5]), volume: num(f[6]) },
    file,
    line: lineNo,
  };
}

/** Parse a whole CSV text. Blank lines are skipped; the header must be the first line. */
export function parseCsv(text: string, file: string): CsvItem[] {
  const lines = text.split(/\r?\n/);
  let i = 0;
  while (i < lines.length && lines[i]!.trim() === "") i++;
  if (i >= lines.length) return [];
  const fmt = detectFormat(lines[i]!, file);
  const out: CsvItem[] = [];
  for (let n = i + 1; n < lines.length; n++) {
    const line = lines[n]!;
    if (line.trim() === "") continue;
    out.push(parseLine(line, fmt, file, n + 1));
  }
  return out;
}
