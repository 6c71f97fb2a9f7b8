import { describe, expect, test } from "bun:test";
import { spawnSync } from "bun";
import { chmodSync, mkdirSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensureApiToken, approve } from "../../src/ops/control";
import { homeTrust } from "../../src/ops/trust";
import { SqliteStore } from "../../src/store/sqlite";
import { makeLogger } from "../../src/obs/log";
import { ROOT, newTrade, tempHome, testSettings } from "../helpers";

const PLANTED = "planted-token-0123456789abcdef0123456789";
const modeOf = (p: string) => statSync(p).mode & 0o777;

function awet(home: string, ...args: string[]) {
  const p = spawnSync({ cmd: [process.execPath, join(ROOT, "src", "main.ts"), ...args, "--home", home], env: { ...process.env, AWET_HOME: "", AWET_API_TOKEN: "" }, stdout: "pipe", stderr: "pipe" });
  return { code: p.exitCode, out: p.stdout.toString() + p.stderr.toString() };
}

describe("trust of the home (issue 13.6)", () => {
  test("a planted 0644 token in a world-writable .tmp is refused, not used", () => {
    const h = tempHome();
    try {
      const s = testSettings(h.home);
      mkdirSync(s.paths.tmp);
      chmodSync(s.paths.tmp, 0o777);
      writeFileSync(s.paths.apiToken, PLANTED);
      chmodSync(s.paths.apiToken, 0o644);
      expect(() => ensureApiToken(s)).toThrow(/api-token has mode 0644, not 0600/);
      chmodSync(s.paths.apiToken, 0o600);
      expect(() => ensureApiToken(s)).toThrow(/\.tmp is writable by every user/);
      const problems = homeTrust(s).map((p) => [p.what, p.fatal]);
      expect(problems).toContainEqual([".tmp", true]);
    } finally {
      h.cleanup();
    }
  });

  test("a symlinked token file is refused", () => {
    const h = tempHome();
    try {
      const s = testSettings(h.home);
      mkdirSync(s.paths.tmp, { mode: 0o700 });
      const elsewhere = join(h.home, "their-token");
      writeFileSync(elsewhere, PLANTED, { mode: 0o600 });
      symlinkSync(elsewhere, s.paths.apiToken);
      expect(() => ensureApiToken(s)).toThrow(/is a symlink/);
    } finally {
      h.cleanup();
    }
  });

  test("doctor fails and start refuses on a planted token; start does not print 'mode 0600' for it", () => {
    const h = tempHome();
    try {
      mkdirSync(join(h.home, ".tmp"));
      chmodSync(join(h.home, ".tmp"), 0o777);
      writeFileSync(join(h.home, ".tmp", "api-token"), PLANTED);
      chmodSync(join(h.home, ".tmp", "api-token"), 0o644);
      const doc = JSON.parse(awet(h.home, "doctor", "--json").out);
      const trust = doc.checks.filter((c: any) => c.name.startsWith("trust "));
      expect(trust.filter((c: any) => !c.ok).map((c: any) => c.name).sort()).toEqual(["trust .tmp", "trust api-token"]);
      const start = awet(h.home, "start", "--no-replay", "--port", "0");
      expect(start.code).not.toBe(0);
      expect(start.out).toContain("writable by every user");
      expect(start.out).not.toContain("mode 0600");
      expect(start.out).not.toContain("running");
    } finally {
      h.cleanup();
    }
  }, 60_000);

  test("a world-writable home is a doctor failure", () => {
    const h = tempHome();
    try {
      chmodSync(h.home, 0o777);
      expect(homeTrust(testSettings(h.home))).toContainEqual(expect.objectContaining({ what: "home", fatal: false }));
    } finally {
      chmodSync(h.home, 0o700);
      h.cleanup();
    }
  });
});

describe("private files are 0600 in 0700 folders whatever the umask (issue 13.6)", () => {
  test("database, WAL, logs, approval file and token; their folders", async () => {
    const h = tempHome();
    const old = process.umask(0);
    try {
      const s = testSettings(h.home);
      const store = new SqliteStore(s.paths.db);
      await store.migrate();
      await store.insertTrade(newTrade());
      const log = makeLogger({ logsDir: s.paths.logs, stderr: false });
      log.info("x");
      approve(s);
      ensureApiToken(s);
      for (const f of [s.paths.db, `${s.paths.db}-wal`, `${s.paths.db}-shm`, join(s.paths.logs, "awet.log"), s.paths.approvalFile, s.paths.apiToken]) expect([f, modeOf(f).toString(8)]).toEqual([f, "600"]);
      for (const d of [join(h.home, ".awet"), s.paths.logs, s.paths.tmp]) expect([d, modeOf(d).toString(8)]).toEqual([d, "700"]);
      await store.close();
    } finally {
      process.umask(old);
      h.cleanup();
    }
  });
});
