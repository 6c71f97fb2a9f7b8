import type { Settings } from "../config/load";
import type { Logger } from "../obs/log";
import type { Store } from "./port";
import { PostgresStore } from "./postgres";
import { SqliteStore } from "./sqlite";
import type { TimescaleMode, TimescaleOptions } from "./timescale";

/** store_timescale and the timescale_* policies of the settings. */
export function timescaleOptions(s: Settings): TimescaleOptions {
  return { mode: s.app.store_timescale as TimescaleMode, compressAfterDays: s.app.timescale_compress_after_days, retainDays: s.app.timescale_retain_days };
}

/** The store the settings name (not yet migrated). */
export function makeStore(s: Settings, log?: Logger, env: Record<string, string | undefined> = process.env): Store {
  if (s.app.store === "postgres")
    return new PostgresStore({
      url: env.DATABASE_URL!,
      schema: env.AWET_PG_SCHEMA || undefined,
      maxQueue: s.app.pg_max_queue,
      log,
      timescale: timescaleOptions(s),
    });
  return new SqliteStore(s.paths.db);
}

/** Open and migrate the store the settings name. */
export async function openStore(s: Settings, log?: Logger): Promise<Store> {
  const store = makeStore(s, log);
  await store.migrate();
  return store;
}
