import { describe, expect, test } from "bun:test";
import { spawnSync } from "bun";
import { Database } from "bun:sqlite";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, tempHome } from "../helpers";

const awet = (args: string[], env: Record<string, string> = {}) => {
  const p = spawnSync({ cmd: [process.execPath, join(ROOT, "src", "main.ts"), ...args], env: { ...process.env, AWET_HOME: "", ...env }, stdout: "pipe", stderr: "pipe" });
  return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() };
};

function tradeRows(home: string) {
  const db = new Database(join(home, ".awet", "awet.db"), { readonly: true });
  try {
    return db.query("SELECT ts, symbol, side, qty, price, status, error_message, filled_qty, avg_fill_price, filled_at FROM trades ORDER BY ts, symbol, side").all();
  } finally {
    db.close();
  }
}

describe("awet replay", () => {
  test("over the bundled data: every bar is accounted for, JSON has the documented keys", () => {
    const h = tempHome();
    try {
      const r = awet(["replay", join(ROOT, "data", "minute"), "--speed", "max", "--json", "--home", h.home]);
      expect(r.err).toBe("");
      expect(r.code).toBe(0);
      const s = JSON.parse(r.out);
      for (const k of ["bars_read", "bars_processed", "bars_rejected", "rejected_by_reason", "orders_submitted", "orders_blocked", "blocked_by_reason", "fills", "elapsed_ms", "bars_per_sec"])
        expect(s).toHaveProperty(k);
      expect(s.bars_read).toBe(13_429);
      expect(s.bars_processed + s.bars_rejected).toBe(s.bars_read);
      expect(s.orders_submitted).toBe(0); // dry run is the default
      expect(s.orders_blocked).toBeGreaterThan(0);
      expect(Object.keys(s.blocked_by_reason)).toEqual(["dry_run"]);
    } finally {
      h.cleanup();
    }
  });

  test("bad rows are rejected with reasons and the run goes on", () => {
    const h = tempHome();
    try {
      const f = join(h.home, "bad.csv");
      writeFileSync(
        f,
        [
          "ts,symbol,open,high,low,close,volume",
          "2013-10-07T13:30:00Z,SPY,168.0,168.5,167.9,168.2,1000",
          "2013-10-07T13:31:00Z,SPY,NaN,168.5,167.9,168.2,1000",
          "2013-10-07T13:31:00Z,SPY,168.1,168.5,167.9,168.2",
          "2013-10-07T13:32:00Z,SPY,168.1,167.0,168.9,168.2,1000",
          "2013-10-07T13:30:00Z,SPY,168.0,168.5,167.9,168.2,1000",
          "2013-10-07T13:29:00Z,SPY,168.0,168.5,167.9,168.2,1000",
          "2013-10-07T13:33:00Z,ZZZZ,1,1,1,1,1",
          "2013-10-07T13:34:00Z,SPY,168.1,168.5,167.9,168.2,-5",
          "2013-10-07T13:35:00Z,SPY,168.1,168.5,167.9,168.2,900",
        ].join("\n") + "\n",
      );
      const r = awet(["replay", f, "--symbols", "SPY", "--json", "--home", h.home]); // ZZZZ is in the file, not in --symbols
      expect(r.code).toBe(0);
      const s = JSON.parse(r.out);
      expect(s.bars_read).toBe(9);
      expect(s.bars_processed).toBe(2);
      expect(s.bars_rejected).toBe(7);
      expect(s.rejected_by_reason).toEqual({ non_finite_price: 1, malformed_row: 1, high_below_low: 1, duplicate_bar: 1, out_of_order: 1, unknown_symbol: 1, negative_volume: 1 });
      const db = new Database(join(h.home, ".awet", "awet.db"), { readonly: true });
      const q = db.query("SELECT COUNT(*) AS n FROM audit_events WHERE event_type = 'market.rejected'").get() as { n: number };
      db.close();
      expect(q.n).toBe(7);
    } finally {
      h.cleanup();
    }
  });

  test("a missing file exits 1 naming it; a config typo exits 2 naming key and file", () => {
    const h = tempHome();
    try {
      const r = awet(["replay", "/nope/missing.csv", "--home", h.home]);
      expect(r.code).toBe(1);
      expect(r.err).toContain("input not found: /nope/missing.csv");
      mkdirSync(join(h.home, "config"));
      writeFileSync(join(h.home, "config", "app.yaml"), "max_orders_per_minit: 5\n");
      const r2 = awet(["replay", join(ROOT, "data", "minute", "IBM.csv"), "--home", h.home]);
      expect(r2.code).toBe(2);
      expect(r2.err).toContain("unknown key 'max_orders_per_minit'");
      expect(r2.err).toContain(join(h.home, "config", "app.yaml"));
      const r3 = awet(["replay", "--speed", "fast", "--home", h.home]);
      expect(r3.code).toBe(2);
    } finally {
      h.cleanup();
    }
  });

  test("deterministic: the same data and config on fresh homes give the same trade rows", () => {
    const a = tempHome();
    const b = tempHome();
    try {
      const env = { AWET_EXECUTION_DRY_RUN: "false" };
      for (const h of [a, b]) {
        mkdirSync(join(h.home, ".tmp"), { recursive: true });
        writeFileSync(join(h.home, ".tmp", "APPROVE_EXECUTION"), "");
        const r = awet(["replay", join(ROOT, "data", "minute", "SPY.csv"), join(ROOT, "data", "minute", "BAC.csv"), "--json", "--home", h.home], env);
        expect(r.code).toBe(0);
        expect(JSON.parse(r.out).fills).toBeGreaterThan(0);
      }
      const ra = tradeRows(a.home);
      expect(ra.length).toBeGreaterThan(0);
      expect(tradeRows(b.home)).toEqual(ra);
    } finally {
      a.cleanup();
      b.cleanup();
    }
  });
});
