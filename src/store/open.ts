import type { Settings } from "../config/load";
import type { Store } from "./port";
import { SqliteStore } from "./sqlite";

/** Open (and migrate) the store the settings name. */
export async function openStore(s: Settings): Promise<Store> {
  const store = new SqliteStore(s.paths.db);
  await store.migrate();
  return store;
}
