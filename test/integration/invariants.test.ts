import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Supervisor } from "../../src/agents/supervisor";
import { nyDate } from "../../src/core/time";
import { tempHome, testSettings } from "../helpers";
import { CountingBroker } from "../helpers";

const SYMS = ["AAA", "BBB", "CCC"] as const;
const step = fc.record({
  kind: fc.constantFrom("buy", "sell", "bar", "bar"),
  sym: fc.constantFrom(...SYMS),
  dt: fc.integer({ min: 0, max: 1200 }), // seconds the clock moves before this step
  price: fc.integer({ min: 2000, max: 30000 }).map((c) => c / 100),
  qty: fc.integer({ min: 1, max: 120 }),
});

type Step = { kind: string; sym: (typeof SYMS)[number]; dt: number; price: number; qty: number };

/** Drive the real Execution agent (gates, store, sim broker) with a random sequence; return what happened. */
async function drive(steps: Step[], env: Record<string, string>, approve: boolean) {
  const h = tempHome();
  if (approve) {
    mkdirSync(join(h.home, ".tmp"), { recursive: true });
    writeFileSync(join(h.home, ".tmp", "APPROVE_EXECUTION"), "");
  }
  const settings = testSettings(h.home, { AWET_SYMBOLS: SYMS.join(","), AWET_ENABLE_EXIT_LOGIC: "false", ...env });
  const broker = new CountingBroker(0);
  const sup = new Supervisor({ settings, broker });
  await sup.init("prop");
  let t = Date.parse("2013-10-07T13:30:00Z");
  const last = new Map<string, number>();
  const submittedBuys: { ts: number; exposureAfter: number; symbolExposureAfter: number }[] = [];
  try {
    let n = 0;
    for (const s of steps) {
      t += s.dt * 1000;
      n++;
      if (s.kind === "bar") {
        last.set(s.sym, s.price);
        await sup.ingestion.accept({ symbol: s.sym, ts: t, open: s.price, high: s.price, low: s.price, close: s.price, volume: 100 });
        continue;
      }
      (sup.clock as unknown as { advanceTo(x: number): void }).advanceTo(t);
      const px = last.get(s.sym) ?? s.price;
      const r = await sup.execution.process(
        { symbol: s.sym, side: s.kind as "buy" | "sell", qty: s.qty, reference_price: px, ts: t, correlation_id: `c${n}`, idempotency_key: `k${n}-${s.sym}`, reason: "prop" },
        "entry",
      );
      if (r.status === "submitted" && s.kind === "buy") {
        // Independent recomputation from the store: positions at the last price plus open buys.
        const ps = await sup.store.positions();
        const open = (await sup.store.placedTradesSince(0)).filter((x) => x.side === "buy" && (x.status === "submitted" || x.status === "pending_submit"));
        let total = 0;
        let sym = 0;
        for (const p of ps) {
          const v = p.qty * (last.get(p.symbol) ?? p.last_price ?? 0);
          total += v;
          if (p.symbol === s.sym) sym += v;
        }
        for (const o of open) {
          const v = (o.qty - o.filled_qty) * (o.price ?? 0);
          total += v;
          if (o.symbol === s.sym) sym += v;
        }
        submittedBuys.push({ ts: t, exposureAfter: total, symbolExposureAfter: sym });
      }
    }
    await sup.store.flush();
    const rows = await sup.store.listTrades({ limit: 1000 });
    return { rows: rows.reverse(), calls: broker.calls, submittedBuys, app: settings.app, intents: steps.filter((s) => s.kind !== "bar").length };
  } finally {
    await sup.close();
    h.cleanup();
  }
}

describe("safety invariants over random sequences (fast-check, real Execution agent)", () => {
  test("dry run or a missing approval file ⇒ zero broker calls; every intent is one row with a reason", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 40 }), fc.boolean(), async (steps, dry) => {
        const r = await drive(steps, { AWET_EXECUTION_DRY_RUN: dry ? "true" : "false" }, dry ? true : false);
        expect(r.calls.length).toBe(0);
        expect(r.rows.length).toBe(r.intents);
        for (const row of r.rows) expect(["dry_run", "not_approved"]).toContain(row.error_message ?? "none");
      }),
      { numRuns: 15 },
    );
  });

  test("with execution on: per-symbol-day limit, cooldown, caps and unique client ids always hold", async () => {
    let submitted = 0;
    let blockedByCap = 0;
    let blockedByTotal = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 5, maxLength: 60 }), async (steps) => {
        const r = await drive(steps, { AWET_EXECUTION_DRY_RUN: "false", AWET_COOLDOWN_SECONDS_PER_SYMBOL: "600", AWET_MAX_EXPOSURE_PER_SYMBOL_USD: "4000", AWET_MAX_TOTAL_EXPOSURE_USD: "6000" }, true);
        const app = r.app;
        expect(r.rows.length).toBe(r.intents);
        expect(new Set(r.calls.map((c) => c.client_order_id)).size).toBe(r.calls.length);
        const placed = r.rows.filter((x) => x.status !== "blocked" && x.status !== "rejected");
        expect(placed.length).toBe(r.calls.length);
        const perDay = new Map<string, number>();
        const lastTs = new Map<string, number>();
        for (const p of placed) {
          const k = `${p.symbol}|${nyDate(p.ts)}`;
          perDay.set(k, (perDay.get(k) ?? 0) + 1);
          expect(perDay.get(k)!).toBeLessThanOrEqual(app.max_orders_per_symbol_per_day);
          const prev = lastTs.get(p.symbol);
          if (prev !== undefined) expect(p.ts - prev).toBeGreaterThanOrEqual(app.cooldown_seconds_per_symbol * 1000);
          lastTs.set(p.symbol, p.ts);
        }
        for (const b of r.submittedBuys) {
          expect(b.exposureAfter).toBeLessThanOrEqual(app.max_total_exposure_usd + 1e-6);
          expect(b.symbolExposureAfter).toBeLessThanOrEqual(app.max_exposure_per_symbol_usd + 1e-6);
        }
        for (const row of r.rows) if (row.status === "blocked") expect(row.error_message).toBeTruthy();
        submitted += r.calls.length;
        blockedByCap += r.rows.filter((x) => x.error_message === "exposure_cap" || x.error_message === "symbol_exposure_cap").length;
        blockedByTotal += r.rows.filter((x) => x.error_message === "exposure_cap").length;
      }),
      { numRuns: 25, seed: 20261124 },
    );
    // The property is not vacuous: orders went through and caps did bite.
    expect(submitted).toBeGreaterThan(10);
    expect(blockedByCap).toBeGreaterThan(0);
    expect(blockedByTotal).toBeGreaterThan(0); // the total cap (below two symbols' caps) bit too, not only the per-symbol one
  });
});
