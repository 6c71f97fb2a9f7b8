import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { InputError } from "../core/errors";
import { parseCsv, type CsvItem } from "./csv";
import { PriceAdjuster, loadFactors } from "./factors";

/** The MarketSource port: an ordered stream of CSV items (bars or unreadable rows). */
export interface MarketSource {
  readonly name: string;
  /** Total items known up front, when the source knows it (replay), for progress. */
  readonly total: number | null;
  items(signal?: AbortSignal): AsyncIterable<CsvItem>;
  /**
   * Optional: the same items as a plain iterable when none of them needs waiting for (a replay at
   * speed `max`), so the reader pays no promise per item; null when items() must be used.
   */
  itemsNow?(): Iterable<CsvItem> | null;
}

/** Expand files and directories into a sorted list of .csv files; a missing path is an error. */
export function expandPaths(paths: string[]): string[] {
  if (paths.length === 0) throw new InputError("no input: give at least one CSV file or directory");
  const out: string[] = [];
  for (const p of paths) {
    const abs = resolve(p);
    if (!existsSync(abs)) throw new InputError(`input not found: ${p}`);
    const st = statSync(abs);
    if (st.isDirectory()) {
      const files = readdirSync(abs).filter((f) => f.toLowerCase().endsWith(".csv")).sort();
      if (files.length === 0) throw new InputError(`no .csv files in directory ${p}`);
      out.push(...files.map((f) => join(abs, f)));
    } else out.push(abs);
  }
  return [...new Set(out)];
}

function itemTs(it: CsvItem): number {
  return it.kind === "bar" ? it.bar.ts : (it.ts ?? -Infinity);
}

/**
 * Replays CSV bars from files or directories, merged into one time-ordered stream (stable: equal
 * times keep file order). With a speed, it waits (event-time gap / speed) between bars, each wait
 * capped at one second so an overnight gap does not stall a demo; `max` never waits.
 */
export class ReplaySource implements MarketSource {
  readonly name = "replay";
  private merged: CsvItem[];

  /** Symbols whose prices were adjusted by factor files. */
  readonly adjusted: string[] = [];
  /** The .csv files read, in order. */
  readonly files: string[];
  /** Every symbol with a bar in the files, in or out of `range`, sorted. */
  readonly fileSymbols: string[];
  /** Rows left out because their time is outside `range` (they are not replayed). */
  readonly outsideRange: number = 0;

  constructor(
    paths: string[],
    private speed: number | "max" = "max",
    private sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
    factorDir?: string,
    /** Replay only rows with from <= time <= to (rows without a time are kept). */
    range: { from?: number; to?: number } = {},
  ) {
    const files = (this.files = expandPaths(paths));
    const all: CsvItem[][] = [];
    for (const f of files) {
      let text: string;
      try {
        text = readFileSync(f, "utf8");
      } catch (e) {
        throw new InputError(`cannot read ${f}: ${(e as Error).message}`);
      }
      try {
        all.push(parseCsv(text, f));
      } catch (e) {
        throw new InputError((e as Error).message);
      }
    }
    this.merged = mergeByTime(all);
    this.fileSymbols = [...new Set(this.merged.flatMap((it) => (it.kind === "bar" ? [it.bar.symbol] : [])))].sort();
    if (range.from !== undefined || range.to !== undefined) {
      const lo = range.from ?? -Infinity, hi = range.to ?? Infinity;
      const n = this.merged.length;
      this.merged = this.merged.filter((it) => {
        const ts = it.kind === "bar" ? it.bar.ts : it.ts;
        return ts === null || !Number.isFinite(ts) || (ts >= lo && ts <= hi);
      });
      this.outsideRange = n - this.merged.length;
    }
    if (factorDir && existsSync(factorDir)) this.adjust(factorDir);
  }

  /** Corporate actions: adjust each symbol's bars to the terms of its last bar in this replay. */
  private adjust(dir: string): void {
    const last = new Map<string, number>();
    for (const it of this.merged) if (it.kind === "bar") last.set(it.bar.symbol, Math.max(last.get(it.bar.symbol) ?? -Infinity, it.bar.ts));
    const adj = new PriceAdjuster(loadFactors(dir, last.keys()));
    for (const [s, ts] of last) if (adj.has(s)) (adj.setReference(s, ts), this.adjusted.push(s));
    if (this.adjusted.length === 0) return;
    this.merged = this.merged.map((it) => (it.kind === "bar" && adj.has(it.bar.symbol) && Number.isFinite(it.bar.close) ? { ...it, bar: adj.adjustBar(it.bar) } : it));
  }

  get total(): number {
    return this.merged.length;
  }

  /** Per symbol in the replay: its bars and the time of its first and last bar. */
  barsBySymbol(): Map<string, { bars: number; first: number; last: number }> {
    const m = new Map<string, { bars: number; first: number; last: number }>();
    for (const it of this.merged) {
      if (it.kind !== "bar") continue;
      const e = m.get(it.bar.symbol);
      if (!e) m.set(it.bar.symbol, { bars: 1, first: it.bar.ts, last: it.bar.ts });
      else (e.bars++, (e.first = Math.min(e.first, it.bar.ts)), (e.last = Math.max(e.last, it.bar.ts)));
    }
    return m;
  }

  itemsNow(): Iterable<CsvItem> | null {
    return this.speed === "max" ? this.merged : null;
  }

  async *items(signal?: AbortSignal): AsyncIterable<CsvItem> {
    let prev: number | null = null;
    for (const it of this.merged) {
      if (signal?.aborted) return;
      const ts = itemTs(it);
      if (this.speed !== "max" && prev !== null && Number.isFinite(ts) && ts > prev) {
        await this.sleep(Math.min(1000, (ts - prev) / this.speed));
      }
      if (Number.isFinite(ts)) prev = ts;
      yield it;
    }
  }
}

/**
 * k-way merge by time that keeps each file's own order: a row that goes back in time inside its
 * file stays where it is, so DataIngestion sees it out of order and rejects it with a reason
 * instead of the merge silently fixing the data. Rows without a time go out as soon as they reach
 * the head of their file.
 */
export function mergeByTime(lists: CsvItem[][]): CsvItem[] {
  const heads = lists.map(() => 0);
  const out: CsvItem[] = [];
  const total = lists.reduce((n, l) => n + l.length, 0);
  while (out.length < total) {
    let best = -1;
    let bestTs = Infinity;
    for (let f = 0; f < lists.length; f++) {
      const it = lists[f]![heads[f]!];
      if (!it) continue;
      const ts = itemTs(it);
      if (ts < bestTs) {
        best = f;
        bestTs = ts;
        if (ts === -Infinity) break;
      }
    }
    out.push(lists[best]![heads[best]!]!);
    heads[best]!++;
  }
  return out;
}
