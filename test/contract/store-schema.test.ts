import { afterAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { envelope } from "../../src/core/events";
import { checkSqlite, diffSchema, extraSchema, postgresShape, sqliteShape, type SchemaShape } from "../../src/store/check";
import { copySqliteToPostgres } from "../../src/store/copy";
import { loadMigrations } from "../../src/store/migrations";
import { PostgresStore } from "../../src/store/postgres";
import { SqliteStore } from "../../src/store/sqlite";
import { ALL_TABLES } from "../../src/store/tables";
import { HYPERTABLES } from "../../src/store/timescale";
import { T0 } from "../helpers";

// The migrations of both dialects must create exactly the tables and columns src/store/tables.ts
// describes, with SQL types their kinds allow, and the described keys: a column added on one side
// only (or to the description only) fails here.

/** Each table's unique column sets (primary key and unique indexes), sorted. */
type Uniques = Record<string, string[][]>;

function sqliteUniques(db: Database): Uniques {
  const out: Uniques = {};
  for (const t of ALL_TABLES) {
    const cols = db.query(`PRAGMA table_info("${t.name}")`).all() as { name: string; pk: number }[];
    const pk = cols.filter((c) => c.pk > 0).map((c) => c.name);
    out[t.name] = pk.length ? [pk.sort()] : [];
    for (const i of db.query(`PRAGMA index_list("${t.name}")`).all() as { name: string; unique: number }[])
      if (i.unique) out[t.name]!.push((db.query(`PRAGMA index_info("${i.name}")`).all() as { name: string }[]).map((c) => c.name).sort());
  }
  return out;
}

async function postgresUniques(sql: postgres.Sql, schema: string): Promise<Uniques> {
  const out: Uniques = Object.fromEntries(ALL_TABLES.map((t) => [t.name, []]));
  const rows = await sql`SELECT c.relname AS t, array_agg(a.attname::text ORDER BY a.attname) AS cols
    FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY(x.indkey)
    WHERE n.nspname = ${schema} AND x.indisunique GROUP BY c.relname, x.indexrelid`;
  for (const r of rows) out[r.t]?.push(String(r.cols).replace(/[{}]/g, "").split(",").sort());
  return out;
}

/** What differs between the description and a migrated database; all empty when they agree. */
function mismatches(dialect: "sqlite" | "postgres", shape: SchemaShape, uniques: Uniques) {
  const d = diffSchema(dialect, shape, []);
  const x = extraSchema(shape);
  const keys: string[] = [];
  for (const t of ALL_TABLES) {
    // a hypertable's unique keys hold its time column too (TimescaleDB requires it)
    const time = dialect === "postgres" && t.name in HYPERTABLES ? ["ts"] : [];
    for (const k of [t.key, ...(t.unique ?? [])]) {
      const want = [...new Set([...k, ...time])].sort().join(",");
      if (!uniques[t.name]!.some((u) => u.join(",") === want)) keys.push(`${t.name} (${k.join(", ")})`);
    }
  }
  return { missingTables: d.missingTables, missingColumns: d.missingColumns, columnTypes: d.columnTypes, extraTables: x.tables, extraColumns: x.columns, keys };
}
const NONE = { missingTables: [], missingColumns: [], columnTypes: [], extraTables: [], extraColumns: [], keys: [] };

/** A SQLite database migrated up to `upto` only (an existing home from before a migration). */
function sqliteAt(path: string, upto: number): Database {
  const db = new Database(path, { create: true });
  db.exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)");
  for (const m of loadMigrations("sqlite").filter((x) => x.version <= upto)) {
    db.exec(m.sql);
    db.query("INSERT INTO schema_migrations VALUES (?, ?, ?)").run(m.version, m.name, "2026-01-01T00:00:00.000Z");
  }
  return db;
}

/** Rows a home written before migration 009 has: job runs under agent_runs, audit rows with `id`. */
const OLD_ROWS = `
  INSERT INTO agent_runs (agent, trigger, started_at, finished_at, status, steps, error) VALUES
    ('night_trainer', 'cron', '2013-10-07T06:00:00.000Z', '2013-10-07T06:01:00.000Z', 'ok', '[{"name":"train","input":"","output":"v1","duration_ms":5,"ok":true}]', NULL),
    ('eod', 'manual', '2013-10-07T20:05:00.000Z', NULL, 'running', '[]', NULL);
  INSERT INTO audit_events (event_id, ts, correlation_id, event_type, source, symbol, payload) VALUES
    ('z-first', '2013-10-07T14:00:00.000Z', 'c-old', 'market.raw', 'DataIngestion', 'SPY', '{"i":1}'),
    ('a-second', '2013-10-07T14:00:00.000Z', 'c-old', 'predictions', 'Prediction', 'SPY', '{"i":2}');`;

describe("the migrations create exactly the tables described in src/store/tables.ts", () => {
  test("SQLite", () => {
    const db = new Database(":memory:");
    for (const m of loadMigrations("sqlite")) db.exec(m.sql);
    expect(mismatches("sqlite", sqliteShape(db), sqliteUniques(db))).toEqual(NONE);
    db.close();
  });

  test("a column the migrations lack, one they add beyond the description, a wrong type and a missing key are all named", () => {
    const db = new Database(":memory:");
    for (const m of loadMigrations("sqlite")) db.exec(m.sql);
    db.exec("ALTER TABLE trades DROP COLUMN run_id; ALTER TABLE positions ADD COLUMN note TEXT; DROP INDEX job_runs_job_idx;");
    const shape = sqliteShape(db);
    shape.tables.trades!.price = "text";
    const u = sqliteUniques(db);
    u.trades = u.trades!.filter((k) => k.join() !== "idempotency_key");
    expect(mismatches("sqlite", shape, u)).toEqual({
      ...NONE, missingColumns: ["trades.run_id"], columnTypes: ["trades.price: text, expected real"], extraColumns: ["positions.note"], keys: ["trades (idempotency_key)"],
    });
    db.close();
  });

  test("awet db check on SQLite names a missing column and index, a wrong type, and passes after migrate", async () => {
    const dir = mkdtempSync(join(tmpdir(), "awet-check-"));
    try {
      const path = join(dir, "awet.db");
      const s = new SqliteStore(path);
      await s.migrate();
      await s.close();
      expect(checkSqlite(path)).toEqual({ missingTables: [], missingColumns: [], columnTypes: [], missingIndexes: [] });
      const db = new Database(path);
      db.exec("DROP INDEX trades_corr_idx; ALTER TABLE trades DROP COLUMN exit_reason; DROP TABLE system_state; CREATE TABLE system_state (key TEXT PRIMARY KEY, value REAL NOT NULL, updated_at TEXT NOT NULL);");
      db.close();
      expect(checkSqlite(path)).toEqual({ missingTables: [], missingColumns: ["trades.exit_reason"], columnTypes: ["system_state.value: real, expected text"], missingIndexes: ["trades_corr_idx"] });
      // a home from before migration 009: the renamed table and column are what is missing
      const old = join(dir, "old.db");
      sqliteAt(old, 8).close();
      const before = checkSqlite(old);
      expect(before.missingTables).toContain("job_runs");
      expect(before.missingColumns).toContain("audit_events.seq");
      expect(before.missingIndexes).toContain("job_runs_job_idx");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("SQLite: a home from before migration 009 upgrades keeping its job runs and audit order; new ids follow", async () => {
    const dir = mkdtempSync(join(tmpdir(), "awet-upgrade-"));
    try {
      const path = join(dir, "awet.db");
      const db = sqliteAt(path, 8);
      db.exec(OLD_ROWS);
      db.close();
      const s = new SqliteStore(path);
      expect(await s.migrate()).toContain("009_job_runs");
      const runs = await s.listJobRuns({});
      expect(runs.map((r) => [r.id, r.job, r.trigger, r.status, r.finished_at])).toEqual([[2, "eod", "manual", "running", null], [1, "night_trainer", "cron", "ok", T0 - 8 * 3_600_000 + 60_000]]);
      expect(runs[1]!.steps).toEqual([{ name: "train", input: "", output: "v1", duration_ms: 5, ok: true }]);
      expect(await s.startJobRun("trade_watchdog", "cron", T0)).toBe(3);
      await s.appendAudit([{ ...envelope("audit", { ts: T0, correlation_id: "c-old", source: "t", symbol: "SPY", payload: { i: 3 } }), id: "0-third" }]);
      expect((await s.auditByCorrelation("c-old")).map((r) => r.event_id)).toEqual(["z-first", "a-second", "0-third"]);
      await s.close();
      expect(checkSqlite(path)).toEqual({ missingTables: [], missingColumns: [], columnTypes: [], missingIndexes: [] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const url = process.env.AWET_TEST_PG_URL;
describe.skipIf(!url)("PostgreSQL: the migrations against the description, upgrades and copies from older homes", () => {
  const admin = url ? postgres(url, { max: 1, onnotice: () => {} }) : null!;
  const made: string[] = [];
  const schema = () => {
    const s = `awet_schema_${process.pid}_${Date.now().toString(36)}_${made.length}`;
    made.push(s);
    return s;
  };
  /** A fresh schema migrated up to `upto` the way PostgresStore.migrate records it. */
  const pgAt = async (upto: number) => {
    const s = schema();
    const ms = loadMigrations("postgres").filter((m) => m.version <= upto);
    await admin.unsafe(
      [
        `CREATE SCHEMA "${s}"`, `SET LOCAL search_path TO "${s}"`,
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL)",
        ...ms.map((m) => `${m.sql}\n;\nINSERT INTO schema_migrations VALUES (${m.version}, '${m.name}', now())`),
      ].join("\n;\n"),
    );
    return s;
  };
  afterAll(async () => {
    for (const s of made) await admin.unsafe(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    await admin.end();
  });

  test("PostgreSQL", async () => {
    const s = await pgAt(Number.POSITIVE_INFINITY);
    expect(mismatches("postgres", await postgresShape(admin, s), await postgresUniques(admin, s))).toEqual(NONE);
  });

  test("a schema from before migration 009 upgrades keeping its job runs and audit order; new ids follow", async () => {
    const s = await pgAt(8);
    await admin.unsafe(`SET search_path TO "${s}"; ${OLD_ROWS}`);
    await admin.unsafe("SET search_path TO public");
    const store = new PostgresStore({ url: url!, schema: s });
    try {
      expect(await store.migrate()).toContain("009_job_runs");
      const runs = await store.listJobRuns({});
      expect(runs.map((r) => [r.id, r.job, r.status])).toEqual([[2, "eod", "running"], [1, "night_trainer", "ok"]]);
      expect(await store.startJobRun("trade_watchdog", "cron", T0)).toBe(3);
      expect((await store.auditByCorrelation("c-old")).map((r) => r.event_id)).toEqual(["z-first", "a-second"]);
    } finally {
      await store.close();
    }
  });

  test("copy-to-postgres reads a SQLite home from before migration 009 under its former names", async () => {
    const dir = mkdtempSync(join(tmpdir(), "awet-copy-"));
    const store = new PostgresStore({ url: url!, schema: schema() });
    try {
      const path = join(dir, "awet.db");
      const db = sqliteAt(path, 8);
      db.exec(OLD_ROWS);
      db.close();
      await store.migrate();
      const copied = await copySqliteToPostgres(path, store);
      expect(copied).toMatchObject({ job_runs: 2, audit_events: 2, trades: 0 });
      expect((await store.listJobRuns({ job: "night_trainer" })).map((r) => [r.id, r.job, r.steps.length])).toEqual([[1, "night_trainer", 1]]);
      expect(await store.startJobRun("eod", "cron", T0)).toBe(3); // the sequence moved past the copied ids
      expect((await store.auditByCorrelation("c-old")).map((r) => r.event_id)).toEqual(["z-first", "a-second"]);
      expect((await copySqliteToPostgres(path, store)).job_runs).toBe(0); // idempotent
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
