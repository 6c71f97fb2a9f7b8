import { randomBytes, createHash, timingSafeEqual } from "node:crypto";
import { copyFileSync, existsSync, lstatSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { parseDocument } from "yaml";
import { reloadSettings, validateAppText, type Settings } from "../config/load";
import { ConfigError, StartupError } from "../core/errors";
import type { TradingState } from "../gates/types";
import { TradingStateService } from "../state/trading-state";
import type { Store } from "../store/port";
import { EMBEDDED_CONFIG } from "../embedded";
import { isLoopbackHost } from "../core/net";
import { readStable, replaceIfUnchanged, withFileLock } from "./safe-write";
import { homeTrust, tokenFileProblem, writePrivateFile } from "./trust";

const isSymlink = (p: string) => {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
};

/**
 * Operator actions, one function each, shared by the CLI and the REST API (which only parse and
 * render). Config edits go through the yaml Document API, so comments survive, and are written
 * atomically (temp file + rename) so the daemon never reads half a file.
 */

export interface PaperStatus {
  execution_dry_run: boolean;
  approval_file: string;
  approved: boolean;
  trading_state: TradingState;
  config_file: string;
  trading_enabled: boolean;
}

function isInside(child: string, parent: string): boolean {
  const r = relative(resolve(parent), resolve(child));
  return r === "" || (!r.startsWith("..") && !r.startsWith("/"));
}

/**
 * The config directory an edit may write to: the one in use when it belongs to the home (or was
 * given explicitly); otherwise the bundled defaults are first copied to <home>/config, so an
 * operator's edit never changes the install.
 */
export function editableConfigDir(s: Settings): { dir: string; copied: boolean } {
  if (isInside(s.configDir, s.home) || s.configDirPinned) return { dir: s.configDir, copied: false };
  const dir = join(s.home, "config");
  mkdirSync(dir, { recursive: true });
  for (const f of ["app.yaml", "llm.yaml"]) {
    const src = join(s.configDir, f);
    if (existsSync(join(dir, f))) continue;
    if (existsSync(src)) copyFileSync(src, join(dir, f));
    else if (EMBEDDED_CONFIG[f]) writeFileSync(join(dir, f), EMBEDDED_CONFIG[f]!); // the single binary
  }
  return { dir, copied: true };
}

/**
 * Set one key of app.yaml in place, keeping comments; validates the result before it lands. The
 * file is read once stable, the edit may only change this key (every other key and value is kept:
 * checked), and it lands by an exclusive temp file and an atomic rename, refused if the file
 * changed meanwhile (see safe-write.ts).
 */
export async function setAppKey(s: Settings, key: string, value: boolean | number | string): Promise<string> {
  const { dir } = editableConfigDir(s);
  const file = join(dir, "app.yaml");
  return withFileLock(file, async () => {
    const snap = await readStable(file);
    const before = snap.text;
    const doc = parseDocument(before);
    if (doc.errors.length) throw new ConfigError(`${file}: invalid YAML, not edited: ${doc.errors[0]!.message.split("\n")[0]}`);
    // Replace just the value on the key's line, so alignment and comments stay byte for byte;
    // the yaml Document API (which keeps comments but re-flows spacing) is the fallback.
    const line = new RegExp(`^(${key}:[ \\t]*)([^#\\n]*?)([ \\t]*(#.*)?)$`, "m");
    let text: string;
    if (line.test(before)) text = before.replace(line, (_m, a: string, _v: string, c: string) => `${a}${String(value)}${c}`);
    else {
      doc.set(key, value);
      text = String(doc);
    }
    const was = (doc.toJS() ?? {}) as Record<string, unknown>;
    const now = (parseDocument(text).toJS() ?? {}) as Record<string, unknown>;
    if (now[key] !== value) throw new ConfigError(`${file}: could not set ${key} to ${String(value)}`);
    const lost = Object.keys(was).filter((k) => k !== key && JSON.stringify(now[k]) !== JSON.stringify(was[k]));
    if (lost.length) throw new ConfigError(`${file}: editing ${key} would change ${lost.join(", ")}: not edited`);
    // Validate what would land (throws naming the key and file) before the real file changes.
    validateAppText(text, file);
    replaceIfUnchanged(file, snap, text);
    return file;
  });
}

export function approve(s: Settings): string {
  writePrivateFile(s.paths.approvalFile, `approved at ${new Date().toISOString()}\n`);
  return s.paths.approvalFile;
}

export function revoke(s: Settings): boolean {
  const had = existsSync(s.paths.approvalFile);
  rmSync(s.paths.approvalFile, { force: true });
  return had;
}

/** The config directory a read uses: like editableConfigDir, but never copies anything. */
function readableConfigDir(s: Settings): string {
  if (isInside(s.configDir, s.home) || s.configDirPinned) return s.configDir;
  const inHome = join(s.home, "config");
  return existsSync(join(inHome, "app.yaml")) ? inHome : s.configDir;
}

/** The file value of execution_dry_run (what a restart or the live reload would use). A read: writes nothing. */
function currentDryRun(s: Settings): { value: boolean; file: string } {
  const dir = readableConfigDir(s);
  const fresh = reloadSettings(s, dir);
  return { value: fresh.app.execution_dry_run, file: join(dir, "app.yaml") };
}

/** The control state an operator action can change: what the audit trail records before and after. A read. */
export async function controlState(s: Settings, store: Store): Promise<{ trading_state: string; execution_dry_run: boolean; enable_exit_logic: boolean; approved: boolean }> {
  const fresh = reloadSettings(s, readableConfigDir(s));
  return {
    trading_state: await new TradingStateService(store).current(),
    execution_dry_run: fresh.app.execution_dry_run,
    enable_exit_logic: fresh.app.enable_exit_logic,
    approved: existsSync(s.paths.approvalFile),
  };
}

export async function paperStatus(s: Settings, store: Store): Promise<PaperStatus> {
  const d = currentDryRun(s);
  const approved = existsSync(s.paths.approvalFile);
  const state = await new TradingStateService(store).current();
  return {
    execution_dry_run: d.value,
    approval_file: s.paths.approvalFile,
    approved,
    trading_state: state,
    config_file: d.file,
    trading_enabled: !d.value && approved && state !== "HALTED",
  };
}

export async function paperOn(s: Settings, store: Store): Promise<PaperStatus> {
  await setAppKey(s, "execution_dry_run", false);
  approve(s);
  return paperStatus(s, store);
}

export async function paperOff(s: Settings, store: Store): Promise<PaperStatus> {
  await setAppKey(s, "execution_dry_run", true);
  revoke(s);
  return paperStatus(s, store);
}

/** An operator's switch of the trading state (CLI and REST), recorded with its reason and actor. */
export async function setTradingState(states: TradingStateService, to: TradingState, reason: string, by: string, now = Date.now()): Promise<{ from: TradingState; to: TradingState }> {
  return states.set(to, reason, now, by);
}

export function setExitLogic(s: Settings, on: boolean): Promise<string> {
  return setAppKey(s, "enable_exit_logic", on);
}

// --- API token -----------------------------------------------------------------------------

export interface ApiToken {
  token: string;
  source: "env" | "file" | "generated";
  path: string | null;
}

/** Is this bind address reachable only from this machine? (one home: core/net.ts) */
export { isLoopbackHost };

/**
 * The bearer token for POST endpoints: AWET_API_TOKEN, else <home>/.tmp/api-token, generated on
 * first start with mode 0600. Never a default password. Binding beyond loopback needs a token of
 * at least 32 bytes.
 */
export function ensureApiToken(s: Settings, create = true): ApiToken | null {
  const fromEnv = s.apiToken;
  let t: ApiToken | null = null;
  if (fromEnv) t = { token: fromEnv.trim(), source: "env", path: null };
  else if (existsSync(s.paths.apiToken) || isSymlink(s.paths.apiToken)) {
    // A token file someone else could have written is never used (a planted token would let
    // them in): it must be a regular file of ours with mode 0600, in a .tmp only we can write.
    const bad = tokenFileProblem(s.paths.apiToken);
    if (bad) throw new StartupError(`${s.paths.apiToken} ${bad}: not used as the API token (remove it and a new one is generated, or set AWET_API_TOKEN)`);
    const tmp = homeTrust(s).find((p) => p.what === ".tmp" && p.fatal);
    if (tmp) throw new StartupError(`${tmp.path} ${tmp.problem}: its API token could have been planted (${tmp.fix})`);
    const token = readFileSync(s.paths.apiToken, "utf8").trim();
    if (token.length > 0) t = { token, source: "file", path: s.paths.apiToken };
  }
  if (!t && create) {
    const token = randomBytes(32).toString("hex");
    writePrivateFile(s.paths.apiToken, token + "\n");
    t = { token, source: "generated", path: s.paths.apiToken };
  }
  if (t && !isLoopbackHost(s.app.http_host) && Buffer.byteLength(t.token) < 32)
    throw new StartupError(`http_host ${s.app.http_host} is not loopback: AWET_API_TOKEN must be at least 32 bytes (it has ${Buffer.byteLength(t.token)})`);
  return t;
}

export function tokenFileMode(s: Settings): number | null {
  return existsSync(s.paths.apiToken) ? lstatSync(s.paths.apiToken).mode & 0o777 : null;
}

/** Constant-time comparison (hashes first so lengths never leak through timing). */
export function tokenMatches(given: string | null | undefined, expected: string): boolean {
  if (!given) return false;
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}
