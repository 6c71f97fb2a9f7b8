import { Database } from "bun:sqlite";
import postgres from "postgres";
import { loadMigrations } from "./migrations";
import { TIMESCALE_DEFAULTS, checkTimescale, type TimescaleOptions } from "./timescale";

export interface SchemaShape {
  tables: Record<string, string[]>; // table -> columns
  indexes: string[];
}

export interface SchemaDiff {
  missingTables: string[];
  missingColumns: string[]; // table.column
  missingIndexes: string[];
}

/** Pure: what `expected` has that `live` lacks. */
export function diffSchema(expected: SchemaShape, live: SchemaShape): SchemaDiff {
  const d: SchemaDiff = { missingTables: [], missingColumns: [], missingIndexes: [] };
  for (const [t, cols] of Object.entries(expected.tables)) {
    const have = live.tables[t];
    if (!have) {
      d.missingTables.push(t);
      continue;
    }
    for (const c of cols) if (!have.includes(c)) d.missingColumns.push(`${t}.${c}`);
  }
  for (const i of expected.indexes) if (!live.indexes.includes(i)) d.missingIndexes.push(i);
  return d;
}

function sqliteShape(db: Database): SchemaShape {
  const tables: Record<string, string[]> = {};
  for (const r of db.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as { name: string }[])
    tables[r.name] = (db.query(`PRAGMA table_info("${r.name}")`).all() as { name: string }[]).map((c) => c.name);
  const indexes = (db.query("SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%'").all() as { name: string }[]).map((r) => r.name);
  return { tables, indexes };
}

/** Compare a SQLite database with what the migrations create. */
export function checkSqlite(path: string): SchemaDiff {
  const expected = new Database(":memory:");
  try {
    for (const m of loadMigrations("sqlite")) expected.exec(m.sql);
    const live = new Database(path, { readonly: true });
    try {
      return diffSchema(sqliteShape(expected), sqliteShape(live));
    } finally {
      live.close();
    }
  } finally {
    expected.close();
  }
}

/**
 * Compare a PostgreSQL schema with what the migrations create (applied to a scratch schema) and,
 * when TimescaleDB is in use, its hypertables, compression settings and policies with what the
 * config asks (`timescale`: one line per problem).
 */
export async function checkPostgres(url: string, schema = "public", ts: TimescaleOptions = TIMESCALE_DEFAULTS): Promise<SchemaDiff & { timescale: string[] }> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  const scratch = `awet_check_${process.pid}_${Date.now().toString(36)}`;
  const shape = async (s: string): Promise<SchemaShape> => {
    const tables: Record<string, string[]> = {};
    for (const r of await sql`SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = ${s} ORDER BY ordinal_position`)
      (tables[r.table_name] ??= []).push(r.column_name);
    const indexes = (await sql`SELECT indexname FROM pg_indexes WHERE schemaname = ${s}`).map((r) => r.indexname as string);
    return { tables, indexes };
  };
  try {
    await sql.unsafe(`CREATE SCHEMA "${scratch}"`);
    // One simple-protocol query: its statements run as one implicit transaction (no sql.begin,
    // see PostgresStore.writeBatch).
    await sql.unsafe([`SET LOCAL search_path TO "${scratch}"`, ...loadMigrations("postgres").map((m) => m.sql)].join("\n;\n"));
    const diff = diffSchema(await shape(scratch), await shape(schema));
    return { ...diff, timescale: await checkTimescale(sql, schema, ts) };
  } finally {
    await sql.unsafe(`DROP SCHEMA IF EXISTS "${scratch}" CASCADE`).catch(() => undefined);
    await sql.end({ timeout: 5 });
  }
}
