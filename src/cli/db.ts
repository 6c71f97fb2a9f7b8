import { existsSync } from "node:fs";
import { UsageError } from "../core/errors";
import { checkPostgres, checkSqlite } from "../store/check";
import { makeStore, postgresStore, timescaleOptions } from "../compose/adapters";
import { PostgresStore } from "../store/postgres";
import { copySqliteToPostgres } from "../store/copy";
import { makeLogger } from "../obs/log";
import { parseArgs } from "./args";
import { GLOBAL_VALUE_FLAGS, out, settingsFrom } from "./common";

export const DB_HELP = `Usage: awet db migrate [--timescale] | check | copy-to-postgres   [--json] [--home DIR]

  migrate   apply the numbered migrations in sql/<sqlite|postgres>/ that are not yet applied, each
            in a transaction, recorded in schema_migrations (idempotent; the daemon also runs it
            at start). On PostgreSQL it then sets up TimescaleDB as store_timescale says (auto: only
            when the extension is already created in this database)
    --timescale  PostgreSQL: create the timescaledb extension (in schema public) if missing and
            turn market_bars, audit_events and llm_traces into hypertables (store_timescale: on
            for this run); fails with the reason when the server cannot (not installed, not preloaded)
  check     compare the live schema with what the migrations create and name every missing table,
            column or index; on TimescaleDB also every missing hypertable and every compression
            setting or policy that differs from timescale_compress_after_days / timescale_retain_days;
            exit 1 if anything is missing or differs
  copy-to-postgres
            copy every row of <home>/.awet/awet.db into the PostgreSQL of DATABASE_URL (migrated
            first); rows already there are skipped, so it can be re-run

The store is the configured one: SQLite at <home>/.awet/awet.db, or PostgreSQL when DATABASE_URL
is set (or store: postgres); AWET_PG_SCHEMA picks a schema other than public.`;

export async function dbCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { bool: ["help", "json", "timescale"], value: GLOBAL_VALUE_FLAGS });
  const sub = p.positionals[0];
  if (p.flags.help || !sub) return out(DB_HELP), p.flags.help ? 0 : 2;
  const s = settingsFrom(p);
  if (p.flags.timescale && (sub !== "migrate" || s.app.store !== "postgres"))
    throw new UsageError("awet db: --timescale goes with `db migrate` on PostgreSQL (set DATABASE_URL)");
  if (sub === "migrate") {
    if (p.flags.timescale) s.app.store_timescale = "on";
    const store = makeStore(s, makeLogger({ logsDir: s.paths.logs, level: s.app.log_level, name: "db" }));
    try {
      const applied = await store.migrate();
      const ts = store instanceof PostgresStore ? { timescale: store.timescale === true, warnings: store.warnings() } : {};
      if (p.flags.json) out(JSON.stringify({ store: store.kind, applied, ...ts }));
      else {
        out(applied.length ? `applied: ${applied.join(", ")}` : `${store.kind}: schema up to date`);
        if (store instanceof PostgresStore)
          out(store.timescale ? `timescaledb: market_bars, audit_events, llm_traces are hypertables${store.warnings().length ? ` (${store.warnings().length} warning(s) above)` : ""}` : `timescaledb: not used (store_timescale: ${s.app.store_timescale})`);
      }
    } finally {
      await store.close();
    }
    return 0;
  }
  if (sub === "check") {
    let diff;
    if (s.app.store === "postgres") diff = await checkPostgres(s.database.url!, s.database.schema ?? "public", timescaleOptions(s));
    else {
      if (!existsSync(s.paths.db)) throw new UsageError(`no database at ${s.paths.db} (run awet db migrate)`);
      diff = { ...checkSqlite(s.paths.db), timescale: [] };
    }
    const missing = [
      ...diff.missingTables.map((t) => `table ${t}`), ...diff.missingColumns.map((c) => `column ${c}`), ...diff.columnTypes.map((c) => `column ${c}`),
      ...diff.missingIndexes.map((i) => `index ${i}`),
      ...diff.timescale.map((t) => `timescaledb: ${t}`),
    ];
    if (p.flags.json) out(JSON.stringify({ store: s.app.store, ok: missing.length === 0, ...diff }, null, 2));
    else if (missing.length === 0) out(`✅ ${s.app.store} schema matches the migrations${s.app.store === "postgres" ? " and store_timescale / timescale_* settings" : ""}`);
    else {
      out(`❌ ${s.app.store} schema is missing or differs in ${missing.length} item(s):`);
      for (const m of missing) out(`   - ${m}`);
      out("   fix: awet db migrate");
    }
    return missing.length === 0 ? 0 : 1;
  }
  if (sub === "copy-to-postgres") {
    if (!s.database.url) throw new UsageError("awet db copy-to-postgres: set DATABASE_URL to the target PostgreSQL");
    if (!existsSync(s.paths.db)) throw new UsageError(`no embedded database at ${s.paths.db} to copy`);
    const pg = postgresStore(s);
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
