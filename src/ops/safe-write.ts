import { createHash, randomBytes } from "node:crypto";
import { closeSync, constants, existsSync, fchmodSync, fsyncSync, lstatSync, openSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { ConfigError } from "../core/errors";

/**
 * Safe edits of an operator's file (config/app.yaml). An editor may be saving it non-atomically
 * while we read, and a directory writable by someone else may hold a planted symlink, so:
 *  - read until the file is stable (size, mtime, inode and hash unchanged across `intervalMs`);
 *  - just before the rename, check it is still what we read, else refuse (the edit is lost, not
 *    the operator's);
 *  - write through a temp file opened O_CREAT|O_EXCL|O_NOFOLLOW with an unpredictable name, with
 *    the file's mode, fsync, then rename over the file;
 *  - a symlinked file stays a symlink: the real file behind it is the one replaced.
 * Edits by this process are serialised, and a lock file (also O_EXCL) keeps two awet processes
 * from editing at once.
 */

export interface Snapshot {
  text: string;
  exists: boolean;
  key: string; // size/mtime/inode/hash
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function snapshot(file: string): Snapshot {
  if (!existsSync(file)) return { text: "", exists: false, key: "absent" };
  const st = statSync(file);
  const text = readFileSync(file, "utf8");
  const hash = createHash("sha256").update(text).digest("hex");
  return { text, exists: true, key: `${st.size}/${st.mtimeMs}/${st.ino}/${hash}` };
}

/** Read a file once it has stopped changing; a file that keeps changing is a ConfigError. */
export async function readStable(file: string, opts: { intervalMs?: number; attempts?: number } = {}): Promise<Snapshot> {
  const interval = opts.intervalMs ?? 50;
  let prev = snapshot(file);
  for (let i = 0; i < (opts.attempts ?? 20); i++) {
    await sleep(interval);
    const cur = snapshot(file);
    if (cur.key === prev.key) return cur;
    prev = cur;
  }
  throw new ConfigError(`${file} keeps changing (is an editor saving it?): not edited; try again once it is saved`);
}

/** Write `text` over `file` (see above) if the file is still `expected`; else a ConfigError. */
export function replaceIfUnchanged(file: string, expected: Snapshot, text: string): void {
  // A symlinked config stays a symlink: write next to, and rename onto, the file it points to.
  const target = existsSync(file) && lstatSync(file).isSymbolicLink() ? realpathSync(file) : file;
  const mode = existsSync(target) ? statSync(target).mode & 0o777 : 0o600;
  const tmp = join(dirname(target), `.${basename(target)}.${randomBytes(8).toString("hex")}.tmp`);
  const fd = openSync(tmp, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW, 0o600);
  try {
    try {
      writeSync(fd, text);
      fchmodSync(fd, mode);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (snapshot(file).key !== expected.key) throw new ConfigError(`${file} changed while it was being edited: not edited (your change is not applied; try again)`);
    renameSync(tmp, target);
  } finally {
    rmSync(tmp, { force: true });
  }
}

let chain: Promise<unknown> = Promise.resolve();

/** Run `f` holding this process's edit queue and `<file>.lock` (O_EXCL; one older than 30 s is stale). */
export async function withFileLock<T>(file: string, f: () => Promise<T>): Promise<T> {
  const run = chain.then(async () => {
    const lock = `${file}.lock`;
    let fd: number | null = null;
    for (let i = 0; fd === null; i++) {
      try {
        fd = openSync(lock, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW, 0o600);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
        let stale = false;
        try {
          stale = Date.now() - lstatSync(lock).mtimeMs > 30_000;
        } catch {
          continue; // released meanwhile
        }
        if (stale) rmSync(lock, { force: true });
        else if (i >= 40) throw new ConfigError(`${file} is being edited by another awet process (${lock} exists): try again`);
        else await sleep(50);
      }
    }
    try {
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return await f();
    } finally {
      rmSync(lock, { force: true });
    }
  });
  chain = run.catch(() => undefined);
  return run;
}
