import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteStore } from "../../src/store/sqlite";
import { storeContract } from "./store";

const dirs = new Map<SqliteStore, string>();
storeContract(
  "sqlite",
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "awet-store-"));
    const s = new SqliteStore(join(dir, "awet.db"));
    await s.migrate();
    dirs.set(s, dir);
    return s;
  },
  async (s) => {
    await s.close();
    rmSync(dirs.get(s as SqliteStore)!, { recursive: true, force: true });
  },
  // another connection to the same file
  (s) => new SqliteStore(join(dirs.get(s as SqliteStore)!, "awet.db")),
);
