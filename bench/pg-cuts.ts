/**
 * `bun bench/pg-cuts.ts <postgres-url> [every-ms ...]`: a replay of the bundled data on PostgreSQL
 * while the server terminates the replay's own backends (`pg_terminate_backend`, as a restart or a
 * failover does) every N ms. Prints, per cut interval, bars/s, the number of cuts and whether the
 * stored counts equal an uncut run (0 = one more uncut run). Only backends with this run's
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
  let cuts = 0;
  let timer: ReturnType<typeof setInterval> | null = null;
  let inflight: Promise<unknown> = Promise.resolve();
  try {
    mkdirSync(join(home, ".tmp"));
    writeFileSync(join(home, ".tmp", "APPROVE_EXECUTION"), "");
    const settings = loadSettings({ home, env: { AWET_EXECUTION_DRY_RUN: "false", LLM_ENABLED: "false" } });
    const store = new PostgresStore({ url, schema, applicationName: app });
    const sup = new Supervisor({ settings, store });
    await sup.init(runSeed([DATA], settings));
    if (everyMs)
      timer = setInterval(() => {
        inflight = admin`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ${app} AND pid <> pg_backend_pid()`
          .then((r) => (cuts += r.length))
          .catch(() => undefined);
      }, everyMs);
    const t0 = performance.now();
    const s = await sup.runSource(new ReplaySource([DATA], "max"));
    await sup.store.flush();
    const secs = (performance.now() - t0) / 1000;
    if (timer) clearInterval(timer);
    await inflight;
    const counts = await sup.store.counts();
    await sup.close();
    return { everyMs, bars: s.bars_processed, barsPerSec: Math.round(s.bars_processed / secs), cuts, counts };
  } finally {
    if (timer) clearInterval(timer);
    await admin.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    rmSync(home, { recursive: true, force: true });
  }
}

const ref = await replay(null);
console.log(JSON.stringify({ ...ref, counts: undefined }), JSON.stringify(ref.counts));
for (const ms of intervals) {
  const r = await replay(ms);
  const same = JSON.stringify(r.counts) === JSON.stringify(ref.counts);
  console.log(JSON.stringify({ ...r, counts: undefined, same_counts_as_uncut: same }));
}
await admin.end();
