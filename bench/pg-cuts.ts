/**
 * `bun bench/pg-cuts.ts <postgres-url> [every-ms ...]`: replays of the bundled data on PostgreSQL
 * while the server terminates the replays' own backends (`pg_terminate_backend`, as a restart or a
 * failover does) every N ms, for at least AWET_BENCH_SECONDS (30) per interval. Prints, per cut
 * interval, bars/s, the number of backends terminated and whether every run's
 * stored counts equal the first, uncut run (interval 0 = no cuts). Only backends with this run's
 * application_name are terminated.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { Supervisor, runSeed } from "../src/agents/supervisor";
import { loadSettings, packageRoot } from "../src/config";
import { ReplaySource } from "../src/market/replay";
import { PostgresStore } from "../src/store/postgres";

const url = process.argv[2] ?? "";
if (!url) {
  console.error("usage: bun bench/pg-cuts.ts <postgres-url> [every-ms ...]");
  process.exit(2);
}
const intervals = process.argv.slice(3).map(Number);
const DATA = join(packageRoot(), "data", "minute");
const admin = postgres(url, { max: 1, onnotice: () => {} });

async function replay(everyMs: number | null) {
  const home = mkdtempSync(join(tmpdir(), "awet-cuts-"));
  const schema = `awet_cuts_${process.pid}_${Date.now().toString(36)}`;
  const app = `awet-cuts-${process.pid}-${everyMs ?? "none"}`;
  try {
    mkdirSync(join(home, ".tmp"));
    writeFileSync(join(home, ".tmp", "APPROVE_EXECUTION"), "");
    const settings = loadSettings({ home, env: { AWET_EXECUTION_DRY_RUN: "false", LLM_ENABLED: "false" } });
    const store = new PostgresStore({ url, schema, applicationName: app });
    const sup = new Supervisor({ settings, store });
    await sup.init(runSeed([DATA], settings));
    const t0 = performance.now();
    const s = await sup.runSource(new ReplaySource([DATA], "max"));
    await sup.store.flush();
    const secs = (performance.now() - t0) / 1000;
    const counts = await sup.store.counts();
    await sup.close();
    return { everyMs, bars: s.bars_processed, secs, counts };
  } finally {
    await admin.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    rmSync(home, { recursive: true, force: true });
  }
}

// Each cut interval runs replays back to back (a fresh schema each) for at least MIN_SECONDS, so
// that even a fast replay sees many cuts; bars/s is over all of them.
const MIN_SECONDS = Number(process.env.AWET_BENCH_SECONDS ?? 30);
const ref = await replay(null);
console.log(JSON.stringify({ uncut_bars_per_sec: Math.round(ref.bars / ref.secs) }), JSON.stringify(ref.counts));
for (const ms of intervals) {
  // One killer per interval, running across the back-to-back replays.
  const app = `awet-cuts-${process.pid}-${ms}`;
  let cuts = 0;
  let inflight: Promise<unknown> = Promise.resolve();
  const timer = ms > 0
    ? setInterval(() => {
      inflight = admin`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ${app}`.then((r) => (cuts += r.length)).catch(() => undefined);
    }, ms)
    : undefined;
  let bars = 0, secs = 0, runs = 0, same = true;
  while (secs < MIN_SECONDS) {
    const r = await replay(ms);
    bars += r.bars;
    secs += r.secs;
    runs++;
    same &&= JSON.stringify(r.counts) === JSON.stringify(ref.counts);
  }
  clearInterval(timer);
  await inflight;
  console.log(JSON.stringify({ everyMs: ms, runs, bars, barsPerSec: Math.round(bars / secs), backends_terminated: cuts, same_counts_as_uncut: same }));
}
await admin.end();
