import { chmodSync, closeSync, constants, existsSync, fchmodSync, fsyncSync, lstatSync, mkdirSync, openSync, realpathSync, renameSync, rmSync, writeSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { basename, dirname, join } from "node:path";
import type { Settings } from "../config/load";

/**
 * What the daemon trusts on disk, checked rather than assumed (issue 13.6): the home and its .tmp
 * (the API token, the approval file) must not be writable by other users, and the token file must
 * be a regular file of ours with mode 0600 — else someone else could plant the token the daemon
 * then accepts. Private files (database, WAL, logs, approval file, token) are created 0600 in
 * 0700 folders whatever the umask.
 */

export interface TrustProblem {
  what: "home" | ".tmp" | "api-token";
  path: string;
  problem: string;
  fix: string;
  /** Start refuses (the token or approval file could be someone else's), else it warns. */
  fatal: boolean;
}

const uid = () => process.getuid?.() ?? -1;
const mode = (m: number) => (m & 0o777).toString(8).padStart(4, "0");

/** Problems with a directory: a symlink, not ours, writable by group or others. */
function dirProblems(what: "home" | ".tmp", path: string, fatal: boolean): TrustProblem[] {
  if (!existsSync(path)) return [];
  const out: TrustProblem[] = [];
  const l = lstatSync(path);
  if (l.isSymbolicLink()) out.push({ what, path, problem: `is a symlink to ${realpathSync(path)}`, fix: `use the real directory as the home (--home ${realpathSync(path)})`, fatal: false });
  const st = l.isSymbolicLink() ? lstatSync(realpathSync(path)) : l;
  if (uid() >= 0 && st.uid !== uid()) out.push({ what, path, problem: `is owned by uid ${st.uid}, not by this user (uid ${uid()})`, fix: `chown $(id -u) ${path}`, fatal });
  if (st.mode & 0o022) out.push({ what, path, problem: `is writable by ${st.mode & 0o002 ? "every user" : "its group"} (mode ${mode(st.mode)})`, fix: `chmod go-w ${path}`, fatal });
  return out;
}

/** Why a token file must not be used, or null when it is a regular file of ours with mode 0600. */
export function tokenFileProblem(path: string): string | null {
  const l = lstatSync(path);
  if (l.isSymbolicLink()) return `is a symlink (to ${realpathSync(path)})`;
  if (!l.isFile()) return "is not a regular file";
  if (uid() >= 0 && l.uid !== uid()) return `is owned by uid ${l.uid}, not by this user (uid ${uid()})`;
  if ((l.mode & 0o777) !== 0o600) return `has mode ${mode(l.mode)}, not 0600`;
  return null;
}

/** Everything wrong with the home, its .tmp and the token file (empty when all is well). */
export function homeTrust(s: Settings): TrustProblem[] {
  const out = [...dirProblems("home", s.home, false), ...dirProblems(".tmp", s.paths.tmp, true)];
  if (existsSync(s.paths.apiToken) || lstatOrNull(s.paths.apiToken)) {
    const p = tokenFileProblem(s.paths.apiToken);
    if (p) out.push({ what: "api-token", path: s.paths.apiToken, problem: p, fix: `rm ${s.paths.apiToken} (a new one is generated at start) or chmod 600 it if it is yours`, fatal: true });
  }
  return out;
}

function lstatOrNull(p: string) {
  try {
    return lstatSync(p);
  } catch {
    return null;
  }
}

/** mkdir -p, then the leaf gets mode 0700 (mkdir's mode is cut by the umask; chmod is not). */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

/** Create `file` empty with mode 0600 if it is missing (never following a symlink); 0600 if it exists. */
export function ensurePrivateFile(file: string): void {
  ensurePrivateDir(dirname(file));
  const fd = openSync(file, constants.O_CREAT | constants.O_WRONLY | constants.O_APPEND | constants.O_NOFOLLOW, 0o600);
  try {
    fchmodSync(fd, 0o600);
  } finally {
    closeSync(fd);
  }
}

/** Write a private file atomically: an O_EXCL temp file with mode 0600, then rename (a planted symlink is replaced, not followed). */
export function writePrivateFile(file: string, text: string): void {
  ensurePrivateDir(dirname(file));
  const tmp = join(dirname(file), `.${basename(file)}.${randomBytes(8).toString("hex")}.tmp`);
  const fd = openSync(tmp, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW, 0o600);
  try {
    try {
      writeSync(fd, text);
      fchmodSync(fd, 0o600);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } finally {
    rmSync(tmp, { force: true });
  }
}
