import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Supervisor, runSeed } from "../../src/agents/supervisor";
import type { Bar } from "../../src/core/events";
import { nyDate } from "../../src/core/time";
import { ReplaySource } from "../../src/market/replay";
import { ROOT, tempHome, testSettings } from "../helpers";
import { CountingBroker } from "../helpers";

async function run(env: Record<string, string>, approve: boolean, files = ["SPY.csv", "BAC.csv"], broker = new CountingBroker(5)) {
  const h = tempHome();
  if (approve) {
    mkdirSync(join(h.home, ".tmp"), { recursive: true });
    writeFileSync(join(h.home, ".tmp", "APPROVE_EXECUTION"), "");
  }
  const settings = testSettings(h.home, env);
  const sup = new Supervisor({ settings, broker });
  const paths = files.map((f) => join(ROOT, "data", "minute", f));
  await sup.init(runSeed(paths, settings));
  const summary = await sup.runSource(new ReplaySource(paths, "max"));
  await sup.close();
  const db = new Database(settings.paths.db, { readonly: true });
  return { h, summary, broker, db, settings };
}

describe("pipeline safety invariants on real data", () => {
  test("dry run (the default) ⇒ zero broker calls, every intent one blocked row", async () => {
    const r = await run({}, true);
    try {
      expect(r.broker.calls.length).toBe(0);
      const n = (r.db.query("SELECT COUNT(*) AS n FROM trades").get() as any).n;
      expect(n).toBe(r.summary.intents + r.summary.exit_signals);
      expect((r.db.query("SELECT COUNT(*) AS n FROM trades WHERE status='blocked' AND error_message='dry_run'").get() as any).n).toBe(n);
    } finally {
      r.db.close();
      r.h.cleanup();
    }
  });

  test("dry run off but no approval file ⇒ zero broker calls, all not_approved", async () => {
    const r = await run({ AWET_EXECUTION_DRY_RUN: "false" }, false);
    try {
      expect(r.broker.calls.length).toBe(0);
      expect(Object.keys(r.summary.blocked_by_reason)).toEqual(["not_approved"]);
    } finally {
      r.db.close();
      r.h.cleanup();
    }
  });

  test("execution on: one row per intent, unique client ids, limits checkable from the trades table", async () => {
    const r = await run({ AWET_EXECUTION_DRY_RUN: "false", AWET_ALLOW_ADD_TO_POSITION: "false" }, true, ["SPY.csv", "BAC.csv", "IBM.csv", "AIG.csv"]);
    try {
      const s = r.settings.app;
      const rows = r.db.query("SELECT * FROM trades ORDER BY ts, id").all() as any[];
      expect(rows.length).toBe(r.summary.intents + r.summary.exit_signals);
      expect(r.broker.calls.length).toBe(r.summary.orders_submitted);
      expect(r.summary.orders_submitted).toBeGreaterThan(0);
      expect(new Set(r.broker.calls.map((c) => c.client_order_id)).size).toBe(r.broker.calls.length);
      for (const row of rows) {
        if (row.status === "blocked") expect(row.error_message).toBeTruthy();
        expect(row.paper_trade).toBe(1);
      }
      const placed = rows.filter((x) => x.status !== "blocked" && x.status !== "rejected");
      // Entries obey the per-symbol-day limit and the cooldown, counting every earlier placed order;
      // exits are reduce-only and never wait behind throttles, so they are not checked themselves.
      const perDay = new Map<string, number>();
      const last = new Map<string, number>();
      for (const p of placed) {
        const t = Date.parse(p.ts);
        const k = `${p.symbol}|${nyDate(t)}`;
        if (p.exit_reason === null) {
          expect(perDay.get(k) ?? 0).toBeLessThan(s.max_orders_per_symbol_per_day);
          const prev = last.get(p.symbol);
          if (prev !== undefined) expect(t - prev).toBeGreaterThanOrEqual(s.cooldown_seconds_per_symbol * 1000);
        }
        perDay.set(k, (perDay.get(k) ?? 0) + 1);
        last.set(p.symbol, t);
      }
      expect(placed.some((p) => p.exit_reason !== null)).toBe(true);
      // every submitted order filled at a later bar
      const filled = placed.filter((p) => p.status === "filled");
      expect(filled.length).toBe(r.summary.fills);
      for (const f of filled) expect(Date.parse(f.filled_at)).toBeGreaterThan(Date.parse(f.ts));
      // exposure: replay buys/sells in time order at fill prices; never above the caps at entry price
      const held = new Map<string, number>();
      for (const p of placed) {
        const q = held.get(p.symbol) ?? 0;
        if (p.side === "buy") {
          expect((q + p.qty) * p.price).toBeLessThanOrEqual(s.max_exposure_per_symbol_usd + 1e-6);
          held.set(p.symbol, q + p.qty);
        } else {
          expect(p.qty).toBeLessThanOrEqual(q);
          held.set(p.symbol, q - p.qty);
        }
      }
      const positions = r.db.query("SELECT symbol, qty FROM positions").all() as any[];
      for (const pos of positions) expect(pos.qty).toBe(
        filled.filter((f) => f.symbol === pos.symbol).reduce((a, f) => a + (f.side === "buy" ? f.filled_qty : -f.filled_qty), 0),
      );
    } finally {
      r.db.close();
      r.h.cleanup();
    }
  });

  test("a throwing handler is logged, counted and its event kept in dead_letters; the run goes on", async () => {
    class Exploding extends CountingBroker {
      override onBar(bar: Bar) {
        if (bar.ts === Date.parse("2013-10-07T14:00:00Z")) throw new Error("simulated broker fault");
        return super.onBar(bar);
      }
    }
    const r = await run({}, false, ["SPY.csv"], new Exploding(5));
    try {
      expect(r.summary.handler_errors).toBe(1);
      expect(r.summary.bars_processed).toBe(r.summary.bars_read);
      const dl = r.db.query("SELECT topic, handler, error, event FROM dead_letters").all() as any[];
      expect(dl.length).toBe(1);
      expect(dl[0].topic).toBe("market.raw");
      expect(dl[0].handler).toBe("Execution.fills");
      expect(dl[0].error).toBe("simulated broker fault");
      expect(JSON.parse(dl[0].event).payload.ts).toBe(Date.parse("2013-10-07T14:00:00Z"));
    } finally {
      r.db.close();
      r.h.cleanup();
    }
  });
});
