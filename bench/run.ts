/**
 * `npm run bench`: the pipeline's throughput and latency on the bundled real data, beside the raw
 * bun:sqlite insert ceiling for the same number of rows, measured in the same run.
 */
import { Database } from "bun:sqlite";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Supervisor, runSeed } from "../src/agents/supervisor";
import { loadSettings, packageRoot } from "../src/config";
import { ReplaySource } from "../src/market/replay";
import { loadMigrations } from "../src/store/migrations";
import { runChain, type Limits, type Snapshot } from "../src/gates";
import { PostgresStore } from "../src/store/postgres";
import postgres from "postgres";
import { limitsFrom } from "../src/agents/execution";
import { defaultApp } from "../src/config";
import type { OrderIntent } from "../src/core/events";
import { forecastBench } from "./forecast";

const DATA = join(packageRoot(), "data", "minute");
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const fmt = (x: number) => Math.round(x).toLocaleString("en-US");

async function pipeline(pg?: { url: string; schema: string }) {
  const home = mkdtempSync(join(tmpdir(), "awet-bench-"));
  try {
    mkdirSync(join(home, ".tmp"));
    writeFileSync(join(home, ".tmp", "APPROVE_EXECUTION"), "");
    // Execution on (dry run off, approval given) so every stage, gates and the paper broker run.
    // The LLM review is off here: this measures the pipeline itself, not a model's latency.
    const settings = loadSettings({ home, env: { AWET_EXECUTION_DRY_RUN: "false", LLM_ENABLED: "false" } });
    const store = pg ? new PostgresStore({ url: pg.url, schema: pg.schema }) : undefined;
    const sup = new Supervisor({ settings, store });
    await sup.init(runSeed([DATA], settings));
    sup.ingestion.recordLatencies = true;
    const src = new ReplaySource([DATA], "max");
    const summary = await sup.runSource(src);
    const lat = sup.ingestion.latencies;
    await sup.close();
    return { summary, p50: pct(lat, 50), p99: pct(lat, 99) };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

function rawInsert(n: number): number {
  const dir = mkdtempSync(join(tmpdir(), "awet-bench-raw-"));
  try {
    const db = new Database(join(dir, "raw.db"));
    db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
    for (const m of loadMigrations("sqlite")) db.exec(m.sql);
    const ins = db.prepare("INSERT INTO market_bars (symbol, ts, open, high, low, close, volume, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    const base = Date.parse("2013-10-04T08:00:00Z");
    const t0 = performance.now();
    const batch = 512;
    for (let i = 0; i < n; i += batch) {
      db.transaction(() => {
        for (let j = i; j < Math.min(n, i + batch); j++) ins.run("SPY", new Date(base + j * 60_000).toISOString(), 1, 2, 0.5, 1.5, 100, "bench");
      })();
    }
    const s = (performance.now() - t0) / 1000;
    db.close();
    return n / s;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function gateChainNs(): number {
  const limits: Limits = limitsFrom(defaultApp());
  const snap: Snapshot = { brokerName: "sim", brokerIsPaper: true, dryRun: false, approved: true, tradingState: "ACTIVE", duplicate: false, ordersLastMinute: 1, symbolOrdersToday: 1, openOrders: 2, lastSymbolOrderTs: 0, positionQty: 0, openSellQty: 0, totalExposureUsd: 1000, symbolExposureUsd: 0, lastPrice: 100, equityUsd: 100_000, dayTradesLast5Days: 0, boughtToday: false, stopLossExitTs: [], globalStopLossExitTs: [], dayPnlUsd: 0 };
  const intent: OrderIntent = { symbol: "SPY", side: "buy", qty: 10, reference_price: 100, ts: 1e12, correlation_id: "c", idempotency_key: "k", reason: "bench" };
  const n = 1_000_000;
  let allowed = 0;
  for (let i = 0; i < 10_000; i++) runChain(intent, snap, limits, 1e12); // warm-up
  const t0 = Bun.nanoseconds();
  for (let i = 0; i < n; i++) if (runChain(intent, snap, limits, 1e12 + i).allow) allowed++;
  const ns = (Bun.nanoseconds() - t0) / n;
  if (allowed !== n) throw new Error("bench intent was unexpectedly blocked");
  return ns;
}

async function rawPgInsert(url: string, n: number): Promise<number> {
  const schema = `awet_bench_raw_${process.pid}`;
  const sql = postgres(url, { max: 1, onnotice: () => {}, connection: { search_path: schema } });
  try {
    await sql.unsafe(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await sql.unsafe(loadMigrations("postgres")[0]!.sql);
    const base = Date.parse("2013-10-04T08:00:00Z");
    const rows = Array.from({ length: n }, (_, j) => ({ symbol: "SPY", ts: new Date(base + j * 60_000), open: 1, high: 2, low: 0.5, close: 1.5, volume: 100, source: "bench" }));
    const t0 = performance.now();
    for (let i = 0; i < n; i += 500) {
      const chunk = rows.slice(i, i + 500);
      await sql`INSERT INTO market_bars ${sql(chunk, "symbol", "ts", "open", "high", "low", "close", "volume", "source")}`;
    }
    return n / ((performance.now() - t0) / 1000);
  } finally {
    await sql.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await sql.end();
  }
}

const p = await pipeline();
const raw = rawInsert(p.summary.bars_read);
const gate = gateChainNs();
const s = p.summary;
console.log(`AWET bench — bundled data (${fmt(s.bars_read)} one-minute bars, SPY AIG BAC IBM, 2013-10-04..11), speed max, execution on (sim broker), LLM review off`);
console.log(`  pipeline           ${fmt(s.bars_per_sec)} bars/s  (${fmt(s.elapsed_ms)} ms; ${s.orders_submitted} submitted, ${s.orders_blocked} blocked, ${s.fills} fills)`);
console.log(`  bar → decision     p50 ${(p.p50 * 1000).toFixed(1)} µs   p99 ${(p.p99 * 1000).toFixed(1)} µs   (wall time from ingestion to the end of the bar's chain)`);
console.log(`  raw sqlite insert  ${fmt(raw)} rows/s  (same ${fmt(s.bars_read)} rows into market_bars, 512-row transactions)`);
console.log(`  ratio              pipeline / raw insert = ${(s.bars_per_sec / raw).toFixed(3)}`);
const pgUrl = process.env.AWET_TEST_PG_URL ?? process.env.DATABASE_URL;
if (pgUrl) {
  const schema = `awet_bench_${process.pid}`;
  const admin = postgres(pgUrl, { max: 1, onnotice: () => {} });
  try {
    const q = await pipeline({ url: pgUrl, schema });
    const rawPg = await rawPgInsert(pgUrl, q.summary.bars_read);
    console.log(`  pipeline on PostgreSQL  ${fmt(q.summary.bars_per_sec)} bars/s  (p50 ${(q.p50 * 1000).toFixed(1)} µs, p99 ${(q.p99 * 1000).toFixed(1)} µs)`);
    console.log(`  raw PostgreSQL insert   ${fmt(rawPg)} rows/s  (same rows, 500-row multi-row INSERTs, same server)`);
    console.log(`  ratio              pipeline on PostgreSQL / raw insert = ${(q.summary.bars_per_sec / rawPg).toFixed(3)}`);
  } finally {
    await admin.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  }
} else console.log("  PostgreSQL part skipped: set AWET_TEST_PG_URL (or DATABASE_URL) to measure it");
console.log(`  gate chain         ${gate.toFixed(0)} ns per intent (full entry chain, allow path, 1,000,000 evaluations)`);
for (const line of await forecastBench()) console.log(line);
