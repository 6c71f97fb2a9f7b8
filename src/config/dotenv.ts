import { existsSync, readFileSync } from "node:fs";

/** Parse a .env file: KEY=VALUE lines, optional quotes, # comments. Pure. */
export function parseDotenv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    let v = m[2]!;
    if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) v = v.slice(1, -1);
    else v = v.replace(/\s+#.*$/, "");
    out[m[1]!] = v;
  }
  return out;
}

/** Load <file> into env without overriding what is already set (the environment wins). */
export function loadDotenv(file: string, env: Record<string, string | undefined> = process.env): string[] {
  if (!existsSync(file)) return [];
  const vals = parseDotenv(readFileSync(file, "utf8"));
  const set: string[] = [];
  for (const [k, v] of Object.entries(vals)) {
    if (env[k] === undefined) {
      env[k] = v;
      set.push(k);
    }
  }
  return set;
}
