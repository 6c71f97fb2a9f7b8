import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { EMBEDDED_MINUTE_DATA } from "../embedded";
import { isAbsolute, join, resolve } from "node:path";
import { loadProcessSettings, packageRoot, type Settings } from "../config";
import { preferBackend } from "../model/tf-backend";
import type { Parsed } from "./args";
import { openStore } from "../compose/adapters";
import type { Store } from "../store/port";
import { terminalSafe } from "../core/text";

export const GLOBAL_VALUE_FLAGS = ["home", "config"];

export function settingsFrom(p: Parsed): Settings {
  const s = loadProcessSettings({ home: p.flags.home as string | undefined, configDir: p.flags.config as string | undefined });
  preferBackend(s.tfBackend);
  return s;
}

/**
 * A data path from config: relative to the home when it exists there, else to the install. The
 * single binary has no install directory: for the default data/minute it writes its embedded copy
 * of the bundled bars to <home>/.awet/bundled/minute once and replays that.
 */
export function resolveDataPath(path: string, home: string): string {
  if (isAbsolute(path)) return path;
  const inHome = join(home, path);
  if (existsSync(inHome)) return inHome;
  const inInstall = resolve(packageRoot(), path);
  if (existsSync(inInstall) || path.replace(/\/+$/, "") !== "data/minute") return inInstall;
  const dir = join(home, ".awet", "bundled", "minute");
  mkdirSync(dir, { recursive: true });
  for (const [f, text] of Object.entries(EMBEDDED_MINUTE_DATA)) if (!existsSync(join(dir, f))) writeFileSync(join(dir, f), text);
  return dir;
}

/**
 * Print one block to stdout. Everything printed can carry stored text (LLM answers, CSV headers,
 * broker messages), so control characters other than newline and tab are escaped (terminalSafe):
 * no stored text can clear the screen, move the cursor or recolour the terminal.
 */
export function out(s: string): void {
  const t = terminalSafe(s);
  process.stdout.write(t.endsWith("\n") ? t : t + "\n");
}

/** A terminal control sequence of our own (clear the screen for a watch), never stored text. */
export function outControl(seq: "clear"): void {
  if (seq === "clear") process.stdout.write("\x1b[2J\x1b[H");
}

/** Open the configured store for one CLI command and close it afterwards. */
export async function withStore<T>(s: Settings, f: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(s);
  try {
    return await f(store);
  } finally {
    await store.close();
  }
}
