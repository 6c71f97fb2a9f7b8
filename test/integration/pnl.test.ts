import { describe, expect, test } from "bun:test";
import { spawn } from "bun";
import { Database } from "bun:sqlite";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, tempHome } from "../helpers";

async function awet(home: string, env: Record<string, string>, ...args: string[]) {
  const p = spawn({ cmd: [process.execPath, join(ROOT, "src", "main.ts"), ...args, "--home", home], env: { ...process.env, AWET_HOME: "", LLM_ENABLED: "false", ...env }, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { out, err, code };
}

/** An independent FIFO recomputation straight from the trades table, in integer cents-of-a-cent. */
function recompute(db: Database, dayStart: string, dayEnd: string) {
  const rows = db.query("SELECT symbol, side, filled_qty AS q, avg_fill_price AS p, filled_at AS t FROM trades WHERE status = 'filled' AND filled_at < ? ORDER BY filled_at, id").all(dayEnd) as any[];
  const lots: Record<string, { q: number; p: number }[]> = {};
  let realized = 0;
  for (const r of rows) {
    const l = (lots[r.symbol] ??= []);
    const pm = Math.round(r.p * 1e6);
    if (r.side === "buy") l.push({ q: r.q, p: pm });
    else {
      let left = r.q;
      while (left > 0 && l.length) {
        const take = Math.min(left, l[0]!.q);
        if (r.t >= dayStart) realized += (pm - l[0]!.p) * take;
        l[0]!.q -= take;
        left -= take;
        if (l[0]!.q === 0) l.shift();
      }
    }
  }
  return realized / 1e6;
}

describe("PnL reports over a replay with execution on", () => {
  test("`awet pnl today --json` matches a recomputation from the trades table to the cent; eod stores a row", async () => {
    const h = tempHome();
    try {
      mkdirSync(join(h.home, ".tmp"), { recursive: true });
      writeFileSync(join(h.home, ".tmp", "APPROVE_EXECUTION"), "");
      const env = { AWET_EXECUTION_DRY_RUN: "false" };
      const r = await awet(h.home, env, "replay", join(ROOT, "data", "minute"), "--json");
      expect(r.code).toBe(0);
      const today = JSON.parse((await awet(h.home, env, "pnl", "today", "--json")).out);
      expect(today.report_date).toBe("2013-10-11"); // the last replayed day
      const db = new Database(join(h.home, ".awet", "awet.db"), { readonly: true });
      const dayStart = "2013-10-11T04:00:00.000Z";
      const dayEnd = "2013-10-12T04:00:00.000Z";
      expect(today.realized_pnl_usd).toBe(Math.round(recompute(db, dayStart, dayEnd) * 1e6) / 1e6);
      const fillsToday = (db.query("SELECT COUNT(*) AS n FROM trades WHERE status = 'filled' AND filled_at >= ? AND filled_at < ?").get(dayStart, dayEnd) as any).n;
      expect(today.num_trades).toBe(fillsToday);
      // every replayed day
      for (const d of ["2013-10-07", "2013-10-08", "2013-10-09"]) {
        const rep = JSON.parse((await awet(h.home, env, "pnl", "--date", d, "--json")).out);
        const start = new Date(Date.parse(`${d}T04:00:00Z`)).toISOString();
        const end = new Date(Date.parse(`${d}T04:00:00Z`) + 86_400_000).toISOString();
        expect([d, rep.realized_pnl_usd]).toEqual([d, Math.round(recompute(db, start, end) * 1e6) / 1e6]);
      }
      db.close();
      const text = (await awet(h.home, env, "pnl", "today")).out;
      expect(text).toContain("📊 Daily PnL Report: 2013-10-11");
      expect(text).toContain("Realized PnL:");
      const eod = await awet(h.home, env, "pnl", "eod", "--date", "2013-10-10");
      expect(eod.code).toBe(0);
      expect(eod.out).toContain("EOD_JOB_STARTING");
      expect(eod.out).toContain("EOD_JOB_COMPLETE");
      await awet(h.home, env, "pnl", "eod", "--date", "2013-10-10"); // a re-run overwrites
      const db2 = new Database(join(h.home, ".awet", "awet.db"), { readonly: true });
      const saved = db2.query("SELECT * FROM daily_pnl_summary").all() as any[];
      db2.close();
      expect(saved.length).toBe(1);
      expect(saved[0].report_date).toBe("2013-10-10");
      const week = await awet(h.home, env, "pnl", "week");
      expect(week.out.split("\n").filter((l) => /^2013-10-\d\d/.test(l)).length).toBe(7); // the 7 trading days 10-03 .. 10-11
      const none = JSON.parse((await awet(h.home, env, "pnl", "--date", "2013-10-05", "--json")).out);
      expect(none.hints.join(" ")).toContain("market closed");
      const snap = JSON.parse((await awet(h.home, env, "ops", "snapshot", "--json")).out);
      expect(snap).toHaveProperty("exposure.max_total_usd", 50000);
    } finally {
      h.cleanup();
    }
  }, 120_000);

  test("`awet doctor` names real faults with a fix and exits 1", async () => {
    const h = tempHome();
    try {
      mkdirSync(join(h.home, ".tmp"), { recursive: true });
      writeFileSync(join(h.home, ".env"), "APCA_API_SECRET_KEY=x\n");
      chmodSync(join(h.home, ".env"), 0o644);
      const r = await awet(h.home, { OLLAMA_HOST: "http://127.0.0.1:1", LLM_ENABLED: "true" }, "doctor", "--json", "--port", "1");
      expect(r.code).toBe(1);
      const checks = JSON.parse(r.out).checks as any[];
      const by = (n: string) => checks.find((c) => c.name === n);
      expect(by("config").ok).toBe(true);
      expect(by("llm")).toMatchObject({ ok: false });
      expect(by("perms .env")).toMatchObject({ ok: false, fix: expect.stringContaining("chmod 600") });
      expect(by("agents").fix).toContain("awet start");
      expect(by("disk").ok).toBe(true);
      mkdirSync(join(h.home, "config"));
      writeFileSync(join(h.home, "config", "app.yaml"), "bogus_key: 1\n");
      const bad = await awet(h.home, {}, "doctor", "--json");
      expect(bad.code).toBe(1);
      expect(JSON.parse(bad.out).checks[0]).toMatchObject({ name: "config", ok: false, verdict: expect.stringContaining("unknown key 'bogus_key'") });
    } finally {
      h.cleanup();
    }
  }, 60_000);
});
