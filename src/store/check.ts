import { Database } from "bun:sqlite";
import postgres, { type Sql } from "postgres";
import { loadMigrations } from "./migrations";
import { ALL_TABLES, SQL_TYPES } from "./tables";
import { TIMESCALE_DEFAULTS, checkTimescale, type TimescaleOptions } from "./timescale";

/** A database's tables: each column's SQL type (lower case), and its index names. */
export interface SchemaShape {
  tables: Record<string, Record<string, string>>;
  indexes: string[];
}

export interface SchemaDiff {
  missingTables: string[];
  missingColumns: string[]; // table.column
  /** Columns whose SQL type is not one the description's kind allows: "table.column: text, expected real". */
  columnTypes: string[];
  missingIndexes: string[];
}

/** Tables and columns the database has that tables.ts does not describe (the migration runner's own table aside). */
export interface SchemaExtras {
  tables: string[];
  columns: string[];
}

const RUNNER_TABLES = new Set(["schema_migrations", "sqlite_sequence"]);

/**
 * Pure: what the store needs that `live` lacks — the tables and columns of tables.ts with SQL types
 * their kinds allow on `dialect`, and the indexes the migrations create (`indexes`).
 */
export function diffSchema(dialect: "sqlite" | "postgres", live: SchemaShape, indexes: readonly string[]): SchemaDiff {
  const d: SchemaDiff = { missingTables: [], missingColumns: [], columnTypes: [], missingIndexes: [] };
  for (const t of ALL_TABLES) {
    const have = live.tables[t.name];
    if (!have) {
      d.missingTables.push(t.name);
      continue;
    }
    for (const c of t.columns) {
      const type = have[c.name];
      if (type === undefined) d.missingColumns.push(`${t.name}.${c.name}`);
      else if (!SQL_TYPES[dialect][c.kind].includes(type)) d.columnTypes.push(`${t.name}.${c.name}: ${type}, expected ${SQL_TYPES[dialect][c.kind].join(" or ")}`);
    }
  }
  for (const i of indexes) if (!live.indexes.includes(i)) d.missingIndexes.push(i);
  return d;
}

/** Pure: what `live` has beyond tables.ts. */
export function extraSchema(live: SchemaShape): SchemaExtras {
  const described = new Map(ALL_TABLES.map((t) => [t.name, new Set(t.columns.map((c) => c.name))]));
  const x: SchemaExtras = { tables: [], columns: [] };
  for (const [t, cols] of Object.entries(live.tables)) {
    if (RUNNER_TABLES.has(t)) continue;
    const known = described.get(t);
    if (!known) x.tables.push(t);
    else for (const c of Object.keys(cols)) if (!known.has(c)) x.columns.push(`${t}.${c}`);
  }
  return x;
}

/** The shape of a SQLite database. */
export function sqliteShape(db: Database): SchemaShape {
  const tables: SchemaShape["tables"] = {};
  for (const r of db.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as { name: string }[])
    tables[r.name] = Object.fromEntries((db.query(`PRAGMA table_info("${r.name}")`).all() as { name: string; type: string }[]).map((c) => [c.name, c.type.toLowerCase()]));
  const indexes = (db.query("SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%'").all() as { name: string }[]).map((r) => r.name);
  return { tables, indexes };
}

/** The shape of one PostgreSQL schema. */
export async function postgresShape(sql: Sql, schema: string): Promise<SchemaShape> {
  const tables: SchemaShape["tables"] = {};
  for (const r of await sql`SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = ${schema} ORDER BY ordinal_position`)
    (tables[r.table_name] ??= {})[r.column_name] = String(r.data_type).toLowerCase();
  const indexes = (await sql`SELECT indexname FROM pg_indexes WHERE schemaname = ${schema}`).map((r) => r.indexname as string);
  return { tables, indexes };
}

/** Compare a SQLite database with tables.ts and the indexes the migrations create. */
export function checkSqlite(path: string): SchemaDiff {
  const expected = new Database(":memory:");
  try {
    for (const m of loadMigrations("sqlite")) expected.exec(m.sql);
    const live = new Database(path, { readonly: true });
    try {
      return diffSchema("sqlite", sqliteShape(live), sqliteShape(expected).indexes);
    } finally {
      live.close();
    }
  } finally {
    expected.close();
  }
}

/**
 * Compare a PostgreSQL schema with tables.ts and the indexes the migrations create (applied to a
 * scratch schema) and, when TimescaleDB is in use, its hypertables, compression settings and
 * policies with what the config asks (`timescale`: one line per problem).
 */
export async function checkPostgres(url: string, schema = "public", ts: TimescaleOptions = TIMESCALE_DEFAULTS): Promise<SchemaDiff & { timescale: string[] }> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  const scratch = `awet_check_${process.pid}_${Date.now().toString(36)}`;
  try {
    await sql.unsafe(`CREATE SCHEMA "${scratch}"`);
    // One simple-protocol query: its statements run as one implicit transaction (no sql.begin,
    // see PostgresStore.writeBatch).
    await sql.unsafe([`SET LOCAL search_path TO "${scratch}"`, ...loadMigrations("postgres").map((m) => m.sql)].join("\n;\n"));
    const diff = diffSchema("postgres", await postgresShape(sql, schema), (await postgresShape(sql, scratch)).indexes);
    return { ...diff, timescale: await checkTimescale(sql, schema, ts) };
  } finally {
    await sql.unsafe(`DROP SCHEMA IF EXISTS "${scratch}" CASCADE`).catch(() => undefined);
    await sql.end({ timeout: 5 });
  }
}
