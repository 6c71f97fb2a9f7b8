import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Supervisor, runSeed } from "../../src/agents/supervisor";
import { ReplaySource } from "../../src/market/replay";
import { loadTradeChain } from "../../src/ops/chain";
import { ROOT, tempHome, testSettings } from "../helpers";

async function replay(env: Record<string, string>) {
  const h = tempHome();
  mkdirSync(join(h.home, ".tmp"), { recursive: true });
  writeFileSync(join(h.home, ".tmp", "APPROVE_EXECUTION"), "");
  const settings = testSettings(h.home, { AWET_EXECUTION_DRY_RUN: "false", LLM_ENABLED: "false", ...env });
  const sup = new Supervisor({ settings });
  const paths = ["SPY.csv", "BAC.csv"].map((f) => join(ROOT, "data", "minute", f));
  await sup.init(runSeed(paths, settings));
  const summary = await sup.runSource(new ReplaySource(paths, "max"));
  return { h, sup, summary };
}

describe("the audit trail (audit_level)", () => {
  test("decisions (default): every order's chain is complete — bar, features, forecast, decision, order, fills — and hold bars leave no audit row", async () => {
    const { h, sup, summary } = await replay({});
    try {
      expect(summary.fills).toBeGreaterThan(0);
      expect(summary.exit_signals).toBeGreaterThan(0);
      const trades = await sup.store.listTrades({ limit: 100_000 });
      expect(trades.length).toBe(summary.intents + summary.exit_signals); // brackets are off by default: one row per intent
      const counts = await sup.store.counts();
      expect(counts.audit_events).toBeLessThan(summary.bars_processed); // far below one row per event
      for (const t of trades) {
        const c = (await loadTradeChain(sup.store, { trade: t.id }))!;
        const types = c.audit.map((a) => a.event_type);
        expect(c.bar).not.toBeNull();
        expect(c.bar!.symbol).toBe(t.symbol);
        expect(c.trades.map((x) => x.id)).toContain(t.id);
        if (t.exit_reason === null) {
          // an entry: the bar's features and forecast, and Risk's verdict
          expect(c.bar!.ts).toBe(t.ts);
          expect(types).toContain("market.engineered");
          expect(types).toContain("predictions");
          expect(types).toContain("risk.approved");
          const f = c.audit.find((a) => a.event_type === "market.engineered")!.payload as { features: Record<string, number> };
          expect(Object.keys(f.features).length).toBeGreaterThan(3);
          expect((f as any).bar).toBeUndefined(); // the bar is not encoded twice
        } else {
          // an exit from the Exit agent: the signal that asked for it
          expect(types).toContain("exit.signals");
        }
        if (t.status === "filled") expect(c.audit.some((a) => a.event_type === "audit" && (a.payload as any).event === "fill" && (a.payload as any).trade_id === t.id)).toBe(true);
        expect(types).not.toContain("market.raw");
      }
      // a bar whose forecast was "hold" left nothing in audit_events
      const audited = new Set((await Promise.all(trades.map((t) => sup.store.auditByCorrelation(t.correlation_id)))).flat().map((a) => a.correlation_id));
      expect(audited.size).toBeLessThan(summary.bars_processed);
    } finally {
      await sup.close();
      h.cleanup();
    }
  });

  test("all: every event of every bar except the raw bar (its market_bars row), and the same trade rows as decisions", async () => {
    const a = await replay({ AWET_AUDIT_LEVEL: "all" });
    const d = await replay({});
    try {
      const counts = await a.sup.store.counts();
      // one market.engineered per processed bar at least, plus forecasts
      expect(counts.audit_events).toBeGreaterThan(a.summary.bars_processed + a.summary.predictions - 1);
      expect(await a.sup.store.countAudit("market.raw")).toBe(0);
      expect(await a.sup.store.countAudit("market.engineered")).toBe(a.summary.bars_processed);
      const strip = (ts: Awaited<ReturnType<typeof a.sup.store.listTrades>>) => ts.map(({ id, run_id, correlation_id, idempotency_key, client_order_id, alpaca_order_id, submit_wall_at, first_contact_wall_at, last_contact_wall_at, ...r }) => r); // wall-clock stamps differ run to run
      expect(strip(await a.sup.store.listTrades({ limit: 100_000 }))).toEqual(strip(await d.sup.store.listTrades({ limit: 100_000 })));
    } finally {
      await a.sup.close();
      await d.sup.close();
      a.h.cleanup();
      d.h.cleanup();
    }
  });
});
