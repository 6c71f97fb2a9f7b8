/**
 * `bun bench/timescale-append.ts <timescaledb-url>`: what compressing replayed history costs the
 * next replay. Replays the bundled data twice into each of two fresh schemas on TimescaleDB; in
 * one, every chunk is compressed between the two runs (what a now-relative compression policy
 * does to years-old replayed bars at once). Prints the second run's bars/s for both.
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
  console.error("usage: bun bench/timescale-append.ts <timescaledb-url>");
  process.exit(2);
}
const DATA = join(packageRoot(), "data", "minute");
const admin = postgres(url, { max: 1, onnotice: () => {} });

async function replay(schema: string, compressAfterDays: number): Promise<number> {
  const home = mkdtempSync(join(tmpdir(), "awet-tsa-"));
  try {
    mkdirSync(join(home, ".tmp"));
    writeFileSync(join(home, ".tmp", "APPROVE_EXECUTION"), "");
    const settings = loadSettings({ home, env: { AWET_EXECUTION_DRY_RUN: "false", LLM_ENABLED: "false" } });
    const store = new PostgresStore({ url, schema, timescale: { mode: "on", compressAfterDays } });
    const sup = new Supervisor({ settings, store });
    await sup.init(runSeed([DATA], settings));
    const t0 = performance.now();
    const s = await sup.runSource(new ReplaySource([DATA], "max"));
    await sup.store.flush();
    const bps = Math.round(s.bars_processed / ((performance.now() - t0) / 1000));
    await sup.close();
    return bps;
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

for (const compressed of [false, true]) {
  const schema = `awet_tsa_${process.pid}_${compressed ? "c" : "p"}`;
  try {
    const first = await replay(schema, compressed ? 7 : 0);
    let chunks = 0;
    if (compressed)
      for (const t of ["market_bars", "audit_events", "llm_traces"])
        chunks += (await admin.unsafe(`SELECT compress_chunk(c, if_not_compressed => TRUE) FROM show_chunks('"${schema}".${t}') c`)).length;
    const second = await replay(schema, compressed ? 7 : 0);
    console.log(JSON.stringify({ chunks_compressed_between: compressed ? chunks : 0, first_bars_per_sec: first, second_bars_per_sec: second }));
  } finally {
    await admin.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  }
}
await admin.end();
