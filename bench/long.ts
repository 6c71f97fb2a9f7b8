/**
 * The long replay of `npm run bench`, run as its own process so that its peak RSS is its own:
 * the bundled minute bars (SPY AIG BAC IBM, one week) repeated COPIES times, each copy shifted two
 * weeks later than the one before (same weekdays and session times; holidays fall where they
 * fall), fed from a generator so the source itself holds nothing per bar. Prints one JSON line.
 *
 *   bun bench/long.ts [--copies N] [--pg URL]
 */
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Supervisor, runSeed } from "../src/agents/supervisor";
import { loadSettings, packageRoot } from "../src/config";
import type { CsvItem } from "../src/market/csv";
import { ReplaySource, type MarketSource } from "../src/market/replay";
import { loadTradeChain } from "../src/ops/chain";

const arg = (k: string) => {
  const i = process.argv.indexOf(k);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const COPIES = Number(arg("--copies") ?? 75);
const SHIFT = 14 * 86_400_000;
const WINDOW = 100_000;

class ShiftedCopies implements MarketSource {
  readonly name = "bench-shifted-copies";
  readonly total: number;
  constructor(private base: CsvItem[], private copies: number) {
    this.total = base.length * copies;
  }
  async *items(): AsyncIterable<CsvItem> {
    for (let c = 0; c < this.copies; c++)
      for (const it of this.base) {
        if (it.kind !== "bar") continue;
        yield { kind: "bar", bar: { ...it.bar, ts: it.bar.ts + c * SHIFT }, file: it.file, line: it.line };
      }
  }
}

const DATA = join(packageRoot(), "data", "minute");
const base: CsvItem[] = [];
for await (const it of new ReplaySource([DATA], "max").items()) base.push(it);
const src = new ShiftedCopies(base, COPIES);

const home = mkdtempSync(join(tmpdir(), "awet-bench-long-"));
try {
  mkdirSync(join(home, ".tmp"));
  writeFileSync(join(home, ".tmp", "APPROVE_EXECUTION"), "");
  const settings = loadSettings({ home, env: { AWET_EXECUTION_DRY_RUN: "false", LLM_ENABLED: "false" } });
  const sup = new Supervisor({ settings });
  await sup.init(runSeed([DATA, String(COPIES)], settings));
  // bars/s per window of WINDOW bars, from ingestion progress (wall time)
  const marks: { read: number; t: number }[] = [{ read: 0, t: performance.now() }];
  let peakRss = process.memoryUsage.rss();
  const summary = await sup.runSource(src, {
    onProgress: (p) => {
      const rss = process.memoryUsage.rss();
      if (rss > peakRss) peakRss = rss;
      if (p.read % WINDOW === 0) marks.push({ read: p.read, t: performance.now() });
    },
  });
  marks.push({ read: summary.bars_read, t: performance.now() });
  const last = marks[marks.length - 1]!;
  const from = marks.findLast((m) => last.read - m.read >= WINDOW) ?? marks[0]!;
  const lastRate = ((last.read - from.read) / (last.t - from.t)) * 1000;
  const firstEnd = marks.find((m) => m.read >= WINDOW) ?? last;
  const firstRate = (firstEnd.read / (firstEnd.t - marks[0]!.t)) * 1000;
  // every order's chain complete: check a sample spread over the run (first, middle, last)
  const trades = await sup.store.listTrades({ limit: 10_000_000 });
  const sample = [trades[0], trades[Math.floor(trades.length / 2)], trades[trades.length - 1]].filter((t) => t !== undefined);
  let chainsOk = 0;
  for (const t of sample) {
    const c = await loadTradeChain(sup.store, { trade: t!.id });
    const types = new Set(c?.audit.map((a) => a.event_type));
    const ok = c !== null && c.bar !== null && (t!.exit_reason !== null ? types.has("exit.signals") : types.has("market.engineered") && types.has("predictions") && types.has("risk.approved"));
    if (ok) chainsOk++;
  }
  const rss = Math.max(peakRss, process.resourceUsage().maxRSS * 1024);
  await sup.close();
  const db = settings.paths.db;
  let bytes = 0;
  for (const f of [db, `${db}-wal`, `${db}-shm`]) if (existsSync(f)) bytes += statSync(f).size;
  console.log(
    JSON.stringify({
      copies: COPIES, bars: summary.bars_read, bars_per_sec: summary.bars_per_sec, first_window_bars: firstEnd.read,
      first_window_bars_per_sec: Math.round(firstRate), last_window_bars: last.read - from.read,
      last_window_bars_per_sec: Math.round(lastRate), peak_rss_mb: Math.round(rss / 1048576), db_bytes: bytes,
      db_bytes_per_bar: Math.round(bytes / summary.bars_read), trades: trades.length, chains_checked: sample.length, chains_complete: chainsOk,
      orders_submitted: summary.orders_submitted, fills: summary.fills,
    }),
  );
} finally {
  rmSync(home, { recursive: true, force: true });
}
