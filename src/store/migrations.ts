import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../config/paths";
import { StoreError } from "../core/errors";
import { EMBEDDED_MIGRATIONS } from "../embedded";

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * Numbered migrations sql/<dialect>/NNN_name.sql, in order: from disk in a checkout, else the copies
 * embedded in the single binary.
 */
export function loadMigrations(dialect: "sqlite" | "postgres", dir = join(packageRoot(), "sql", dialect)): Migration[] {
  const files: Record<string, string> = {};
  if (existsSync(dir)) for (const f of readdirSync(dir)) files[f] = readFileSync(join(dir, f), "utf8");
  else Object.assign(files, EMBEDDED_MIGRATIONS[dialect]);
  if (Object.keys(files).length === 0) throw new StoreError(`no ${dialect} migrations: ${dir} is missing and none are embedded`, "migrate");
  const out: Migration[] = [];
  for (const f of Object.keys(files).sort()) {
    const m = /^(\d+)_([\w-]+)\.sql$/.exec(f);
    if (!m) continue;
    out.push({ version: Number(m[1]), name: m[2]!, sql: files[f]! });
  }
  const seen = new Set<number>();
  for (const m of out) {
    if (seen.has(m.version)) throw new StoreError(`two migrations numbered ${m.version} in ${dir}`, "migrate");
    seen.add(m.version);
  }
  return out;
}
