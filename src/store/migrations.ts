import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../config/paths";
import { StoreError } from "../core/errors";

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Numbered migrations from sql/<dialect>/NNN_name.sql, in order. */
export function loadMigrations(dialect: "sqlite" | "postgres", dir = join(packageRoot(), "sql", dialect)): Migration[] {
  if (!existsSync(dir)) throw new StoreError(`migrations directory ${dir} is missing`, "migrate");
  const out: Migration[] = [];
  for (const f of readdirSync(dir).sort()) {
    const m = /^(\d+)_([\w-]+)\.sql$/.exec(f);
    if (!m) continue;
    out.push({ version: Number(m[1]), name: m[2]!, sql: readFileSync(join(dir, f), "utf8") });
  }
  const seen = new Set<number>();
  for (const m of out) {
    if (seen.has(m.version)) throw new StoreError(`two migrations numbered ${m.version} in ${dir}`, "migrate");
    seen.add(m.version);
  }
  return out;
}
