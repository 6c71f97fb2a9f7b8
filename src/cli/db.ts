import { existsSync } from "node:fs";
import { UsageError } from "../core/errors";
import { checkPostgres, checkSqlite } from "../store/check";
import { makeStore } from "../store/open";
import { PostgresStore } from "../store/postgres";
import { copySqliteToPostgres } from "../store/copy";
import { parseArgs } from "./args";
import { GLOBAL_VALUE_FLAGS, out, settingsFrom } from "./common";

export const DB_HELP = `Usage: awet db migrate | check | copy-to-postgres   [--json] [--home DIR]

  migrate   apply the numbered migrations in sql/<sqlite|postgres>/ that are not yet applied, each
            in a transaction, recorded in schema_migrations (idempotent; the daemon also runs it
            at start)
  check     compare the live schema with what the migrations create and name every missing table,
            column or index; exit 1 if anything is missing
  copy-to-postgres
            copy every row of <home>/.awet/awet.db into the PostgreSQL of DATABASE_URL (migrated
            first); rows already there are skipped, so it can be re-run

The store is the configured one: SQLite at <home>/.awet/awet.db, or PostgreSQL when DATABASE_URL
is set (or store: postgres); AWET_PG_SCHEMA picks a schema other than public.`;

export async function dbCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { bool: ["help", "json"], value: GLOBAL_VALUE_FLAGS });
  const sub = p.positionals[0];
  if (p.flags.help || !sub) return out(DB_HELP), p.flags.help ? 0 : 2;
  const s = settingsFrom(p);
  if (sub === "migrate") {
    const store = makeStore(s);
    try {
      const applied = await store.migrate();
      out(p.flags.json ? JSON.stringify({ store: store.kind, applied }) : applied.length ? `applied: ${applied.join(", ")}` : `${store.kind}: schema up to date`);
    } finally {
      await store.close();
    }
    return 0;
  }
  if (sub === "check") {
    let diff;
    if (s.app.store === "postgres") diff = await checkPostgres(process.env.DATABASE_URL!, process.env.AWET_PG_SCHEMA || "public");
    else {
      if (!existsSync(s.paths.db)) throw new UsageError(`no database at ${s.paths.db} (run awet db migrate)`);
      diff = checkSqlite(s.paths.db);
    }
    const missing = [...diff.missingTables.map((t) => `table ${t}`), ...diff.missingColumns.map((c) => `column ${c}`), ...diff.missingIndexes.map((i) => `index ${i}`)];
    if (p.flags.json) out(JSON.stringify({ store: s.app.store, ok: missing.length === 0, ...diff }, null, 2));
    else if (missing.length === 0) out(`✅ ${s.app.store} schema matches the migrations`);
    else {
      out(`❌ ${s.app.store} schema is missing ${missing.length} item(s):`);
      for (const m of missing) out(`   - ${m}`);
      out("   fix: awet db migrate");
    }
    return missing.length === 0 ? 0 : 1;
  }
  if (sub === "copy-to-postgres") {
    const url = process.env.DATABASE_URL;
    if (!url) throw new UsageError("awet db copy-to-postgres: set DATABASE_URL to the target PostgreSQL");
    if (!existsSync(s.paths.db)) throw new UsageError(`no embedded database at ${s.paths.db} to copy`);
    const pg = new PostgresStore({ url, schema: process.env.AWET_PG_SCHEMA || undefined });
    try {
      await pg.migrate();
      const copied = await copySqliteToPostgres(s.paths.db, pg, p.flags.json ? undefined : (t, n) => out(`  ${t.padEnd(18)} ${n} rows copied`));
      if (p.flags.json) out(JSON.stringify({ from: s.paths.db, copied }, null, 2));
      else out(`copied ${s.paths.db} → PostgreSQL; now start with DATABASE_URL set`);
    } finally {
      await pg.close();
    }
    return 0;
  }
  throw new UsageError(`awet db: expected migrate, check or copy-to-postgres; got '${sub}'`);
}
