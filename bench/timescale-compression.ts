/**
 * `bun bench/timescale-compression.ts <timescaledb-url>`: which compression layout shrinks each
 * hypertable. Replays the bundled data (LLM review on, answered by the test's fake Ollama so that
 * llm_traces fills) into a fresh schema with TimescaleDB, then for each table and each candidate
 * segment-by / order-by compresses every chunk and prints the table's total size (heap, indexes,
 * TOAST; hypertable_size) before and after. "default" is what TimescaleDB picks by itself.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { Supervisor, runSeed } from "../src/agents/supervisor";
import { loadSettings, packageRoot } from "../src/config";
import { ReplaySource } from "../src/market/replay";
import { PostgresStore } from "../src/store/postgres";
import { FakeOllama } from "../test/helpers/fake-ollama";

const url = process.argv[2] ?? "";
if (!url) {
  console.error("usage: bun bench/timescale-compression.ts <timescaledb-url>");
  process.exit(2);
}
const LAYOUTS: Record<string, (string | null)[][]> = {
  // [segmentby, orderby]; null = TimescaleDB's own choice
  market_bars: [[null, null], ["symbol", "ts DESC"], ["", "ts DESC"], ["", "symbol, ts DESC"]],
  audit_events: [[null, null], ["event_type", "ts DESC"], ["symbol", "ts DESC"], ["", "ts DESC"], ["event_type", "symbol, ts DESC"]],
  llm_traces: [[null, null], ["agent_name", "ts DESC"], ["", "ts DESC"], ["status", "ts DESC"]],
};
const DATA = join(packageRoot(), "data", "minute");
const home = mkdtempSync(join(tmpdir(), "awet-tsc-"));
const schema = `awet_tsc_${process.pid}`;
const ollama = new FakeOllama();
const admin = postgres(url, { max: 1, onnotice: () => {} });
const kb = (n: unknown) => `${(Number(n) / 1024).toFixed(0)} kB`;
try {
  mkdirSync(join(home, ".tmp"));
  writeFileSync(join(home, ".tmp", "APPROVE_EXECUTION"), "");
  const settings = loadSettings({ home, env: { AWET_EXECUTION_DRY_RUN: "false", OLLAMA_HOST: ollama.url } });
  const store = new PostgresStore({ url, schema, timescale: { mode: "on" } });
  const sup = new Supervisor({ settings, store });
  await sup.init(runSeed([DATA], settings));
  await sup.runSource(new ReplaySource([DATA], "max"));
  console.log("rows:", JSON.stringify(await store.counts()), "llm_traces:", (await admin.unsafe(`SELECT COUNT(*)::int AS n FROM "${schema}".llm_traces`))[0]!.n);
  await sup.close();
  for (const [table, layouts] of Object.entries(LAYOUTS)) {
    const rel = `"${schema}".${table}`;
    for (const [seg, ord] of layouts) {
      const [ht] = await admin.unsafe(`SELECT compression_enabled FROM timescaledb_information.hypertables WHERE hypertable_schema = '${schema}' AND hypertable_name = '${table}'`);
      if (ht!.compression_enabled) {
        await admin.unsafe(`SELECT decompress_chunk(c, true) FROM show_chunks('${rel}') c`);
        await admin.unsafe(`ALTER TABLE ${rel} SET (timescaledb.compress = false)`);
      }
      await admin.unsafe(seg === null ? `ALTER TABLE ${rel} SET (timescaledb.compress)`
        : `ALTER TABLE ${rel} SET (timescaledb.compress, timescaledb.compress_segmentby = '${seg}', timescaledb.compress_orderby = '${ord}')`);
      const [cs] = await admin.unsafe(`SELECT segmentby, orderby FROM timescaledb_information.hypertable_compression_settings WHERE hypertable = '${rel}'::regclass`);
      const [before] = await admin.unsafe(`SELECT hypertable_size('${rel}') AS b`);
      const chunks = await admin.unsafe(`SELECT compress_chunk(c) FROM show_chunks('${rel}') c`);
      const [after] = await admin.unsafe(`SELECT hypertable_size('${rel}') AS b`);
      console.log(`${table.padEnd(13)} ${(seg === null ? "default" : "set").padEnd(8)} segmentby=${String(cs?.segmentby ?? "").padEnd(11)} orderby=${String(cs?.orderby ?? "").padEnd(16)} chunks=${chunks.length}  ${kb(before!.b)} -> ${kb(after!.b)}  (${((100 * Number(after!.b)) / Number(before!.b)).toFixed(0)}%)`);
    }
  }
} finally {
  await admin.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await admin.end();
  ollama.stop();
  rmSync(home, { recursive: true, force: true });
}
