import { Database } from "bun:sqlite";
import type { PostgresStore } from "./postgres";

/** Tables copied, in an order that needs no foreign keys; identity columns are carried over. */
const TABLES: { name: string; key: string; times: string[]; bools: string[]; json: string[]; serial?: string; skip?: string[] }[] = [
  { name: "market_bars", key: "(symbol, ts)", times: ["ts"], bools: [], json: [] },
  { name: "audit_events", key: "(event_id, ts)", times: ["ts"], bools: [], json: ["payload"], skip: ["id"] },
  { name: "trades", key: "(idempotency_key)", times: ["ts", "filled_at", "updated_at", "submit_wall_at", "first_contact_wall_at", "last_contact_wall_at", "adopted_at"], bools: ["paper_trade", "dry_run"], json: [], serial: "id" },
  { name: "positions", key: "(symbol)", times: ["opened_at", "updated_at"], bools: ["inherited"], json: [] },
  { name: "llm_traces", key: "(id, ts)", times: ["ts"], bools: [], json: ["request", "response"], serial: "id" },
  { name: "daily_pnl_summary", key: "(report_date)", times: ["created_at"], bools: [], json: [] },
  { name: "models", key: "(version)", times: ["created_at", "promoted_at"], bools: [], json: ["metrics", "train_window", "features", "params"] },
  { name: "agent_runs", key: "(id)", times: ["started_at", "finished_at"], bools: [], json: ["steps"], serial: "id" },
  { name: "dead_letters", key: "(id)", times: ["ts"], bools: [], json: ["event"], serial: "id" },
  { name: "system_state", key: "(key)", times: ["updated_at"], bools: [], json: [] },
  { name: "backtest_runs", key: "(id)", times: ["started_at", "finished_at"], bools: [], json: ["symbols", "data_files", "config", "summary", "results"] },
];

/**
 * Copy every row of an embedded SQLite database into a migrated PostgreSQL store (the way from the
 * zero-setup start to the production stack). Idempotent: rows already there are skipped by their
 * keys; identity sequences are moved past the copied ids. Returns rows copied per table.
 */
export async function copySqliteToPostgres(sqlitePath: string, pg: PostgresStore, onProgress?: (table: string, n: number) => void): Promise<Record<string, number>> {
  const src = new Database(sqlitePath, { readonly: true });
  const out: Record<string, number> = {};
  const sql = pg.sql;
  try {
    for (const t of TABLES) {
      const rows = src.query(`SELECT * FROM ${t.name}`).all() as Record<string, any>[];
      let n = 0;
      for (let i = 0; i < rows.length; i += 500) {
        const chunk = rows.slice(i, i + 500).map((r) => {
          const o: Record<string, unknown> = { ...r };
          for (const k of t.skip ?? []) delete o[k];
          for (const k of t.times) if (o[k] !== null && o[k] !== undefined) o[k] = new Date(String(o[k]));
          for (const k of t.bools) o[k] = o[k] === 1 || o[k] === true;
          for (const k of t.json) if (typeof o[k] === "string") o[k] = sql.json(JSON.parse(o[k] as string));
          return o;
        });
        const cols = Object.keys(chunk[0]!);
        // The postgres package's row helper; its typings do not model a dynamic column list.
        const rowsHelper = (sql as unknown as (rows: unknown[], cols: string[]) => never)(chunk, cols);
        const res = await sql`INSERT INTO ${sql(t.name)} ${rowsHelper} ON CONFLICT DO NOTHING`;
        n += res.count;
      }
      if (t.serial && rows.length)
        await sql.unsafe(`SELECT setval(pg_get_serial_sequence('${t.name}', '${t.serial}'), GREATEST((SELECT COALESCE(MAX(${t.serial}), 1) FROM ${t.name}), 1))`);
      out[t.name] = n;
      onProgress?.(t.name, n);
    }
  } finally {
    src.close();
  }
  return out;
}
