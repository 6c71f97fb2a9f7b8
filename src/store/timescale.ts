/**
 * TimescaleDB for the PostgreSQL store: hypertables, compression and retention on market_bars,
 * audit_events and llm_traces — used only when asked for, from the schema the extension lives in.
 *
 *  - store_timescale: off   never touch TimescaleDB: plain tables with time indexes.
 *  - store_timescale: auto  use it when the extension is already created in THIS database (never
 *                           creates it; the cluster merely having the files does not count).
 *  - store_timescale: on    create the extension (in schema public) when missing; an error when the
 *                           server cannot (not installed, not preloaded). `awet db migrate
 *                           --timescale` is `on` for one run.
 *
 * Policies are relative to the wall clock (TimescaleDB computes compress_after / drop_after from
 * now() for timestamptz columns), so on replayed history they would act on every row at once: both
 * are off (0 days) unless the operator sets a number of days. A policy that cannot be created (e.g.
 * compression on the Apache-licensed build) is a warning — logged and shown by /health — not a
 * silent gap; a hypertable that cannot be created stops the migration.
 */
import type { Sql } from "postgres";
import { StoreError, errorMessage } from "../core/errors";
import type { Logger } from "../obs/log";

export type TimescaleMode = "auto" | "on" | "off";

export interface TimescaleOptions {
  mode: TimescaleMode;
  /** Compress chunks older than this many days; 0 = no compression settings and no policy. */
  compressAfterDays: number;
  /** Drop chunks older than this many days; 0 = no retention policy (keep everything). */
  retainDays: number;
}

export const TIMESCALE_DEFAULTS: TimescaleOptions = { mode: "auto", compressAfterDays: 0, retainDays: 0 };

/**
 * Compression layout per hypertable, measured by bench/timescale-compression.ts (README
 * "TimescaleDB"). segmentby groups the rows compressed together; TimescaleDB's own choice grew
 * audit_events to 107% and llm_traces to 144% of their uncompressed size, these shrink them to
 * 18% (bars), 30% (audit events) and 28% (LLM traces).
 */
export const HYPERTABLES: Record<string, { segmentBy: string; orderBy: string }> = {
  market_bars: { segmentBy: "symbol", orderBy: "ts DESC" },
  audit_events: { segmentBy: "symbol", orderBy: "ts DESC" },
  llm_traces: { segmentBy: "agent_name", orderBy: "ts DESC" },
};
export const CHUNK_DAYS = 7;

export interface TimescaleState {
  /** TimescaleDB is used in this database. */
  active: boolean;
  /** The schema the extension lives in (its functions are called qualified by it). */
  extensionSchema: string | null;
  /** Policies or settings asked for that could not be made (shown by /health). */
  warnings: string[];
}

const q = (id: string) => `"${id.replace(/"/g, '""')}"`;
const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;

export const NOT_PRELOADED =
  "TimescaleDB is installed on this PostgreSQL server but not preloaded: add shared_preload_libraries = 'timescaledb' to postgresql.conf and restart the server (or set store_timescale: off)";

/** The schema the timescaledb extension was created in, in the connected database; null if not created. */
export async function extensionSchema(sql: Sql): Promise<string | null> {
  const r = await sql`SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'timescaledb'`;
  return r[0] ? (r[0].nspname as string) : null;
}

/** true / false when shared_preload_libraries is readable (superuser or pg_read_all_settings), else null. */
async function preloaded(sql: Sql): Promise<boolean | null> {
  try {
    const [r] = await sql`SELECT current_setting('shared_preload_libraries') AS v`;
    return String(r!.v).split(",").some((x) => x.trim().replace(/^"|"$/g, "") === "timescaledb");
  } catch {
    return null;
  }
}

async function installed(sql: Sql): Promise<boolean> {
  return (await sql`SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'`).length > 0;
}

/** The connection went away (not an answer from TimescaleDB): rethrown, so the caller retries. */
const isClosed = (e: unknown) =>
  /^(CONNECTION_\w+|ECONN\w+|EPIPE|57P0\d|08\d\d\d)$/.test(String((e as { code?: unknown })?.code ?? "")) || /CONNECTION_CLOSED|ECONNRESET|terminating connection/i.test(errorMessage(e));

/**
 * Decide whether TimescaleDB is used and, when it is, make sure it is usable: the extension exists
 * (created in `on` mode only) and its library is preloaded. Throws a one-line StoreError otherwise.
 */
export async function resolveTimescale(sql: Sql, mode: TimescaleMode): Promise<string | null> {
  if (mode === "off") return null;
  let ext = await extensionSchema(sql);
  if (!ext && mode === "auto") return null;
  if (!ext && !(await installed(sql)))
    throw new StoreError("store_timescale: on, but the timescaledb extension is not installed on this PostgreSQL server (pg_available_extensions has no timescaledb)", "migrate");
  if ((await preloaded(sql)) === false) throw new StoreError(NOT_PRELOADED, "migrate");
  if (!ext) {
    try {
      // In public, never in the store's own schema: dropping a per-run schema must not drop the extension.
      await sql`CREATE EXTENSION IF NOT EXISTS timescaledb SCHEMA public`;
    } catch (e) {
      // Without preload the server ends the session (FATAL "must be preloaded", only in its log).
      if (isClosed(e)) throw new StoreError(`${NOT_PRELOADED} (the server closed the connection on CREATE EXTENSION timescaledb)`, "migrate", e);
      throw new StoreError(`CREATE EXTENSION timescaledb failed: ${errorMessage(e)}`, "migrate", e);
    }
    ext = await extensionSchema(sql);
  }
  return ext;
}

/** Policy job config for one hypertable, by kind. */
async function policies(sql: Sql, schema: string, table: string): Promise<{ compress: string | null; drop: string | null }> {
  const rows = await sql`SELECT proc_name, config FROM timescaledb_information.jobs WHERE hypertable_schema = ${schema} AND hypertable_name = ${table}
    AND proc_name IN ('policy_compression', 'policy_retention')`;
  const get = (p: string, k: string) => {
    const r = rows.find((x) => x.proc_name === p);
    return r ? String((r.config as Record<string, unknown>)[k]) : null;
  };
  return { compress: get("policy_compression", "compress_after"), drop: get("policy_retention", "drop_after") };
}

/** Whether a policy interval text (e.g. "7 days", "@ 7 days") equals N days. */
async function sameDays(sql: Sql, interval: string, days: number): Promise<boolean> {
  const [r] = await sql`SELECT ${interval}::interval = make_interval(days => ${days}) AS same`;
  return r!.same === true;
}

/**
 * Hypertables, compression settings and policies in `schema` as `o` asks (idempotent; run by every
 * migrate). Policies not asked for are removed, policies with another interval are replaced.
 */
export async function setupTimescale(sql: Sql, schema: string, o: TimescaleOptions, log?: Logger): Promise<TimescaleState> {
  const ext = await resolveTimescale(sql, o.mode);
  if (!ext) {
    log?.info(
      { store_timescale: o.mode },
      o.mode === "off"
        ? "TimescaleDB off (store_timescale: off): market_bars, audit_events and llm_traces are plain tables with time indexes"
        : "TimescaleDB not created in this database (store_timescale: auto): plain tables with time indexes; `awet db migrate --timescale` creates it",
    );
    return { active: false, extensionSchema: null, warnings: [] };
  }
  const fn = (name: string) => `${q(ext)}.${name}`;
  const warnings: string[] = [];
  const warn = (table: string, what: string, e: unknown) => {
    if (isClosed(e)) throw e;
    const w = `${table}: ${what}: ${errorMessage(e)}`;
    warnings.push(w);
    log?.warn({ table, err: errorMessage(e) }, `TimescaleDB ${what}`);
  };
  for (const [table, c] of Object.entries(HYPERTABLES)) {
    const rel = lit(`${q(schema)}.${q(table)}`);
    try {
      await sql.unsafe(`SELECT ${fn("create_hypertable")}(${rel}::regclass, 'ts', chunk_time_interval => INTERVAL '${CHUNK_DAYS} days', if_not_exists => TRUE, migrate_data => TRUE)`);
    } catch (e) {
      throw new StoreError(`TimescaleDB: create_hypertable(${schema}.${table}) failed: ${errorMessage(e)}`, "migrate", e);
    }
    const have = await policies(sql, schema, table);
    // compression
    if (o.compressAfterDays > 0) {
      try {
        const [cur] = await sql`SELECT segmentby, orderby FROM timescaledb_information.hypertable_compression_settings WHERE hypertable = ${`${q(schema)}.${q(table)}`}::regclass`;
        if (!cur || (cur.segmentby ?? "") !== c.segmentBy || (cur.orderby ?? "") !== c.orderBy)
          await sql.unsafe(`ALTER TABLE ${q(schema)}.${q(table)} SET (timescaledb.compress, timescaledb.compress_segmentby = ${lit(c.segmentBy)}, timescaledb.compress_orderby = ${lit(c.orderBy)})`);
        const same = have.compress !== null && (await sameDays(sql, have.compress, o.compressAfterDays));
        if (have.compress !== null && !same) await sql.unsafe(`SELECT ${fn("remove_compression_policy")}(${rel}::regclass)`);
        if (!same) await sql.unsafe(`SELECT ${fn("add_compression_policy")}(${rel}::regclass, INTERVAL '${o.compressAfterDays} days', if_not_exists => TRUE)`);
      } catch (e) {
        warn(table, `compression (after ${o.compressAfterDays} days) not set up`, e);
      }
    } else if (have.compress !== null) {
      await sql.unsafe(`SELECT ${fn("remove_compression_policy")}(${rel}::regclass)`);
      log?.info({ table }, "TimescaleDB compression policy removed (timescale_compress_after_days: 0)");
    }
    // retention
    if (o.retainDays > 0) {
      try {
        const same = have.drop !== null && (await sameDays(sql, have.drop, o.retainDays));
        if (have.drop !== null && !same) await sql.unsafe(`SELECT ${fn("remove_retention_policy")}(${rel}::regclass)`);
        if (!same) await sql.unsafe(`SELECT ${fn("add_retention_policy")}(${rel}::regclass, INTERVAL '${o.retainDays} days', if_not_exists => TRUE)`);
      } catch (e) {
        warn(table, `retention policy (${o.retainDays} days) not created`, e);
      }
    } else if (have.drop !== null) {
      await sql.unsafe(`SELECT ${fn("remove_retention_policy")}(${rel}::regclass)`);
      log?.info({ table }, "TimescaleDB retention policy removed (timescale_retain_days: 0 keeps everything)");
    }
  }
  return { active: true, extensionSchema: ext, warnings };
}

/**
 * What `db check` finds wrong with the TimescaleDB side of `schema` against `o`: one line per
 * missing hypertable, wrong compression setting, or missing / extra / different policy.
 */
export async function checkTimescale(sql: Sql, schema: string, o: TimescaleOptions): Promise<string[]> {
  if (o.mode === "off") return [];
  const ext = await extensionSchema(sql);
  if (!ext) return o.mode === "on" ? ["the timescaledb extension is not created in this database (store_timescale: on); fix: awet db migrate --timescale"] : [];
  const out: string[] = [];
  const hts = new Map<string, boolean>();
  for (const r of await sql`SELECT hypertable_name, compression_enabled FROM timescaledb_information.hypertables WHERE hypertable_schema = ${schema}`)
    hts.set(r.hypertable_name, r.compression_enabled === true);
  for (const [table, c] of Object.entries(HYPERTABLES)) {
    if (!hts.has(table)) {
      out.push(`${table} is not a hypertable`);
      continue;
    }
    const have = await policies(sql, schema, table);
    if (o.compressAfterDays > 0) {
      const [cur] = await sql`SELECT segmentby, orderby FROM timescaledb_information.hypertable_compression_settings WHERE hypertable = ${`${q(schema)}.${q(table)}`}::regclass`;
      if (!hts.get(table)) out.push(`${table}: compression is not enabled (timescale_compress_after_days: ${o.compressAfterDays})`);
      else {
        if ((cur?.segmentby ?? "") !== c.segmentBy) out.push(`${table}: compress_segmentby is '${cur?.segmentby ?? ""}', expected '${c.segmentBy}'`);
        if ((cur?.orderby ?? "") !== c.orderBy) out.push(`${table}: compress_orderby is '${cur?.orderby ?? ""}', expected '${c.orderBy}'`);
      }
      if (have.compress === null) out.push(`${table}: no compression policy (expected after ${o.compressAfterDays} days)`);
      else if (!(await sameDays(sql, have.compress, o.compressAfterDays))) out.push(`${table}: compression policy after ${have.compress}, expected ${o.compressAfterDays} days`);
    } else if (have.compress !== null) out.push(`${table}: compression policy after ${have.compress} exists but timescale_compress_after_days is 0`);
    if (o.retainDays > 0) {
      if (have.drop === null) out.push(`${table}: no retention policy (expected ${o.retainDays} days)`);
      else if (!(await sameDays(sql, have.drop, o.retainDays))) out.push(`${table}: retention policy drops after ${have.drop}, expected ${o.retainDays} days`);
    } else if (have.drop !== null) out.push(`${table}: retention policy drops after ${have.drop} but timescale_retain_days is 0 (keep everything)`);
  }
  return out;
}
