import { describe, expect, test } from "bun:test";
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseDocument } from "yaml";
import { Supervisor } from "../../src/agents/supervisor";
import { paperStatus, setAppKey } from "../../src/ops/control";
import { buildApp } from "../../src/server/app";
import { ROOT, tempHome, testSettings } from "../helpers";

const SHIPPED = readFileSync(join(ROOT, "config", "app.yaml"), "utf8");
const keysOf = (text: string) => Object.keys((parseDocument(text).toJS() ?? {}) as object);

/** A home whose config/app.yaml is the shipped one. */
function homeWithConfig() {
  const h = tempHome();
  mkdirSync(join(h.home, "config"));
  const file = join(h.home, "config", "app.yaml");
  writeFileSync(file, SHIPPED);
  return { ...h, file, s: testSettings(h.home) };
}

describe("config edits never lose the operator's settings (issue 13.3)", () => {
  test("while an editor saves app.yaml non-atomically, every edit that succeeds leaves every key in place", async () => {
    const h = homeWithConfig();
    try {
      const all = keysOf(SHIPPED);
      let writing = true;
      // The editor: truncate, then write the file in 10 pieces a few ms apart, again and again.
      const editor = (async () => {
        const end = Date.now() + 1500;
        while (Date.now() < end) {
          writeFileSync(h.file, "");
          for (let i = 1; i <= 10; i++) {
            writeFileSync(h.file, SHIPPED.slice(0, Math.floor((SHIPPED.length * i) / 10)));
            await Bun.sleep(3);
          }
          await Bun.sleep(3);
        }
        writing = false;
      })();
      const outcomes: string[] = [];
      while (writing) {
        try {
          await setAppKey(h.s, "execution_dry_run", false);
          const after = readFileSync(h.file, "utf8");
          outcomes.push("ok");
          expect(all.filter((k) => !keysOf(after).includes(k))).toEqual([]);
        } catch (e) {
          outcomes.push("refused");
          expect((e as Error).message).toMatch(/keeps changing|changed while it was being edited|would change/);
        }
      }
      await editor;
      expect(outcomes.length).toBeGreaterThan(0);
      // Once the editor is done the edit goes through, with every key kept.
      await setAppKey(h.s, "execution_dry_run", false);
      const final = readFileSync(h.file, "utf8");
      expect(keysOf(final)).toEqual(all);
      expect(final).toContain("execution_dry_run: false");
      expect(final).toContain("max_total_exposure_usd:");
    } finally {
      h.cleanup();
    }
  }, 30_000);

  test("a symlink planted at the old predictable temp name redirects nothing", async () => {
    const h = homeWithConfig();
    try {
      const victim = join(h.home, "victim.txt");
      writeFileSync(victim, "untouched\n");
      for (const name of [`app.yaml.tmp-${process.pid}`, `app.yaml.tmp`, `.app.yaml.tmp`]) symlinkSync(victim, join(h.home, "config", name));
      await setAppKey(h.s, "execution_dry_run", false);
      expect(readFileSync(victim, "utf8")).toBe("untouched\n");
      expect(lstatSync(h.file).isSymbolicLink()).toBe(false);
      expect(readFileSync(h.file, "utf8")).toContain("execution_dry_run: false");
    } finally {
      h.cleanup();
    }
  });

  test("the file keeps its mode, whatever the umask", async () => {
    const h = homeWithConfig();
    const old = process.umask(0o022);
    try {
      chmodSync(h.file, 0o640);
      await setAppKey(h.s, "execution_dry_run", false);
      expect(statSync(h.file).mode & 0o777).toBe(0o640);
    } finally {
      process.umask(old);
      h.cleanup();
    }
  });

  test("a symlinked app.yaml stays a symlink; the file it points to gets the edit", async () => {
    const h = homeWithConfig();
    try {
      const real = join(h.home, "dotfiles-app.yaml");
      writeFileSync(real, SHIPPED);
      const { rmSync } = await import("node:fs");
      rmSync(h.file);
      symlinkSync(real, h.file);
      await setAppKey(h.s, "execution_dry_run", false);
      expect(lstatSync(h.file).isSymbolicLink()).toBe(true);
      expect(readlinkSync(h.file)).toBe(real);
      expect(readFileSync(real, "utf8")).toContain("execution_dry_run: false");
    } finally {
      h.cleanup();
    }
  });

  test("an edit through the yaml fallback (a flow mapping) keeps every other key", async () => {
    const h = homeWithConfig();
    try {
      // a document whose key line cannot be matched in place: a flow mapping
      writeFileSync(h.file, "{max_orders_per_minute: 7, execution_dry_run: true}\n");
      await setAppKey(h.s, "execution_dry_run", false);
      const v = parseDocument(readFileSync(h.file, "utf8")).toJS();
      expect(v).toEqual({ max_orders_per_minute: 7, execution_dry_run: false });
    } finally {
      h.cleanup();
    }
  });
});

describe("a read never writes (issue 13.9)", () => {
  test("GET /api/paper/status and paperStatus create no <home>/config", async () => {
    const h = tempHome();
    const sup = new Supervisor({ settings: testSettings(h.home) });
    await sup.init("t");
    try {
      const app = buildApp(sup, { version: "t", token: "x".repeat(40) });
      const r = await app.handle(new Request("http://localhost/api/paper/status"));
      expect(r.status).toBe(200);
      expect(((await r.json()) as any).execution_dry_run).toBe(true);
      await paperStatus(sup.settings, sup.store);
      expect(existsSync(join(h.home, "config"))).toBe(false);
    } finally {
      await sup.close();
      h.cleanup();
    }
  });
});
