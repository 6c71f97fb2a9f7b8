import { describe, expect, test } from "bun:test";
import { spawn } from "bun";
import { Database } from "bun:sqlite";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, tempHome } from "../helpers";

describe("a replay across AAPL's 7-for-1 split (2014-06-09)", () => {
  test("with factor files: no rejected bar, no stop-loss and no price_band block caused by the split", async () => {
    const h = tempHome();
    try {
      mkdirSync(join(h.home, ".tmp"), { recursive: true });
      writeFileSync(join(h.home, ".tmp", "APPROVE_EXECUTION"), "");
      const env = { ...process.env, AWET_HOME: "", AWET_SYMBOLS: "AAPL", AWET_EXECUTION_DRY_RUN: "false", AWET_ALLOW_ADD_TO_POSITION: "true", AWET_MAX_HOLDING_MINUTES: "100000" };
      const p = spawn({ cmd: [process.execPath, join(ROOT, "src", "main.ts"), "replay", join(ROOT, "data", "minute-split", "AAPL.csv"), "--json", "--home", h.home], env, stdout: "pipe", stderr: "pipe" });
      const [out, , code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
      expect(code).toBe(0);
      const s = JSON.parse(out);
      // one bar is quarantined: the first after the split opens at the old price inside the bar
      expect(s.rejected_by_reason).toEqual({ implausible_range: 1 });
      expect(s.orders_submitted).toBeGreaterThan(0);
      expect(s.blocked_by_reason.price_band ?? 0).toBe(0);
      const db = new Database(join(h.home, ".awet", "awet.db"), { readonly: true });
      const rows = db.query("SELECT ts, side, exit_reason, avg_fill_price FROM trades WHERE status = 'filled' ORDER BY ts").all() as any[];
      db.close();
      // Stop-losses happen on real moves; none is a split "crash": every exit is within a few
      // percent of the entry it closes (an unadjusted split would show -86%).
      let entry: number | null = null;
      let crossed = false;
      for (const r of rows) {
        if (r.side === "buy") {
          if (entry === null && r.ts < "2014-06-09") crossed = true;
          entry = r.avg_fill_price;
        } else {
          expect(r.avg_fill_price / entry!).toBeGreaterThan(0.95);
          entry = null;
        }
      }
      expect(crossed || rows.some((r) => r.ts < "2014-06-09")).toBe(true);
      // every fill price is in post-split terms (about $92), none at the raw pre-split ~$645
      for (const r of rows) expect(r.avg_fill_price).toBeLessThan(120);
    } finally {
      h.cleanup();
    }
  }, 60_000);
});

describe("a position held over AAPL's split", () => {
  async function holdOverSplit(factorDir: string | undefined) {
    const { Supervisor } = await import("../../src/agents/supervisor");
    const { ReplaySource } = await import("../../src/market/replay");
    const { testSettings } = await import("../helpers");
    const h = tempHome();
    try {
      mkdirSync(join(h.home, ".tmp"), { recursive: true });
      writeFileSync(join(h.home, ".tmp", "APPROVE_EXECUTION"), "");
      // the bars from the last hour before the split to the morning after it
      const lines = (await Bun.file(join(ROOT, "data", "minute-split", "AAPL.csv")).text()).trim().split("\n");
      const slice = [lines[0], ...lines.slice(1).filter((l) => l >= "2014-06-06T19:00" && l < "2014-06-09T15:00")];
      const f = join(h.home, "aapl-split.csv");
      writeFileSync(f, slice.join("\n") + "\n");
      // a 3% stop: real minute-to-minute moves stay inside it, an unadjusted split does not
      const settings = testSettings(h.home, { AWET_SYMBOLS: "AAPL", AWET_EXECUTION_DRY_RUN: "false", AWET_MAX_HOLDING_MINUTES: "100000", AWET_STOP_LOSS_PCT: "3" });
      const sup = new Supervisor({ settings });
      await sup.init("split");
      const src = new ReplaySource([f], "max", undefined, factorDir);
      const first = (src as any).merged[0].bar;
      // held since the first bar, entered at that bar's close in the source's terms
      await sup.store.upsertPosition({ symbol: "AAPL", qty: 10, avg_entry_price: first.close, last_price: first.close, market_value: first.close * 10, unrealized_pl: 0, opened_at: first.ts, updated_at: first.ts });
      const s = await sup.runSource(src);
      const exits = (await sup.store.listTrades({ limit: 100 })).filter((t) => t.exit_reason !== null);
      await sup.close();
      return { s, exits };
    } finally {
      h.cleanup();
    }
  }

  test("unadjusted, the split reads as an 86% crash and triggers a stop-loss; adjusted, nothing fires", async () => {
    const raw = await holdOverSplit(undefined);
    expect(raw.exits.map((e) => e.exit_reason)).toContain("stop_loss");
    const adj = await holdOverSplit(join(ROOT, "data", "factor_files"));
    expect(adj.s.rejected_by_reason).toEqual({ implausible_range: 1 });
    expect(adj.exits.filter((e) => e.exit_reason === "stop_loss")).toEqual([]);
  }, 60_000);
});
