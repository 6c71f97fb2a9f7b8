import { Database } from "bun:sqlite";
import { SQLITE, codecs, postgresDialect } from "./codec";
import type { PostgresStore } from "./postgres";
import { ALL_TABLES, type Table } from "./tables";

type Row = Record<string, unknown>;

/** Where a table's rows are in a SQLite database that may predate renames (tables.ts `formerly`), or null. */
function source(src: Database, t: Table): { name: string; columns: { name: string; from: string }[]; serials: string[] } | null {
  const has = (name: string) => src.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== null;
  const name = has(t.name) ? t.name : t.formerly?.name && has(t.formerly.name) ? t.formerly.name : null;
  if (!name) return null;
  const present = new Set((src.query(`PRAGMA table_info("${name}")`).all() as { name: string }[]).map((c) => c.name));
  const columns: { name: string; from: string }[] = [];
  for (const c of t.columns) {
    if (c.internal) continue; // an insertion order: PostgreSQL assigns it, rows are copied in that order
    const from = present.has(c.name) ? c.name : t.formerly?.columns?.[c.name];
    if (from && present.has(from)) columns.push({ name: c.name, from });
  }
  const serials = t.columns.filter((c) => c.kind === "serial" && !c.internal && columns.some((x) => x.name === c.name)).map((c) => c.name);
  return { name, columns, serials };
}

/**
 * Copy every row of an embedded SQLite database into a migrated PostgreSQL store (the way from the
 * zero-setup start to the production stack): every table of tables.ts, each value read with its
 * SQLite kind and written with its PostgreSQL kind; a database not yet migrated to the current
 * names is read under its former ones. Idempotent: rows already there are skipped by their keys;
 * ids are carried over and identity sequences moved past them. Returns rows copied per table.
 */
export async function copySqliteToPostgres(sqlitePath: string, pg: PostgresStore, onProgress?: (table: string, n: number) => void): Promise<Record<string, number>> {
  const src = new Database(sqlitePath, { readonly: true });
  const out: Record<string, number> = {};
  const sql = pg.sql;
  const from = codecs(SQLITE);
  const to = codecs(postgresDialect((v) => sql.json(v as never)));
  try {
    for (const t of ALL_TABLES) {
      const s = source(src, t);
      let n = 0;
      if (s && s.columns.length) {
        const read = from(t.name as never);
        const write = to(t.name as never);
        const rows = src.query(`SELECT ${s.columns.map((c) => `"${c.from}" AS "${c.name}"`).join(", ")} FROM "${s.name}" ORDER BY rowid`).all() as Row[];
        const cols = s.columns.map((c) => c.name);
        for (let i = 0; i < rows.length; i += 500) {
          const chunk = rows.slice(i, i + 500).map((r) => {
            const o: Row = {};
            for (const c of cols) o[c] = write.value(c, read.read(c, r[c]));
            return o;
          });
          // The postgres package's row helper; its typings do not model a dynamic column list.
          const rowsHelper = (sql as unknown as (rows: unknown[], cols: string[]) => never)(chunk, cols);
          n += (await sql`INSERT INTO ${sql(t.name)} ${rowsHelper} ON CONFLICT DO NOTHING`).count;
        }
        if (rows.length)
          for (const id of s.serials)
            await sql.unsafe(`SELECT setval(pg_get_serial_sequence('${t.name}', '${id}'), GREATEST((SELECT COALESCE(MAX(${id}), 1) FROM ${t.name}), 1))`);
      }
      out[t.name] = n;
      onProgress?.(t.name, n);
    }
  } finally {
    src.close();
  }
  return out;
}
