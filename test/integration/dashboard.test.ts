import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Supervisor } from "../../src/agents/supervisor";
import { ReplaySource } from "../../src/market/replay";
import { buildApp } from "../../src/server/app";
import { takeSseEvents } from "../../src/dashboard/sse";
import { DASHBOARD_CSP } from "../../src/server/dashboard";
import { ROOT, T0, newTrade, tempHome, testSettings } from "../helpers";

const TOKEN = "d".repeat(40);
const IBM = join(ROOT, "data", "minute", "IBM.csv");

/** The dashboard's routes through app.handle(): no socket, a temp home. */
describe("dashboard routes", () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function daemon(env: Record<string, string> = {}, feed?: { kind: "replay"; total: number }) {
    const h = tempHome("awet-dash-");
    const sup = new Supervisor({ settings: testSettings(h.home, { LLM_ENABLED: "false", ...env }) });
    await sup.init("test");
    const app = buildApp(sup, { version: "test", token: TOKEN, feed });
    cleanups.push(h.cleanup, () => sup.close());
    const get = (path: string, token: string | null = null) =>
      app.handle(new Request(`http://localhost${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} }));
    return { sup, app, get };
  }

  test("the page and its assets are served with a same-origin-only CSP and no inline script or style", async () => {
    const { get } = await daemon();
    const page = await get("/");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(page.headers.get("content-security-policy")).toBe(DASHBOARD_CSP);
    expect(DASHBOARD_CSP).toContain("script-src 'self'");
    expect(DASHBOARD_CSP).toContain("connect-src 'self'");
    expect(DASHBOARD_CSP).not.toContain("unsafe-inline");
    const html = await page.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)/); // every script is a file from the daemon
    expect(html).not.toMatch(/\sstyle=/);
    expect(html).not.toMatch(/https?:\/\//); // nothing from another origin

    const js = await get("/assets/app.js");
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toContain("javascript");
    const body = await js.text();
    expect(body.length).toBeGreaterThan(50_000); // lightweight-charts is bundled in
    expect(body).toContain("/api/dashboard/events");
    expect(body).not.toMatch(/unpkg|jsdelivr|cdnjs|googleapis/);
    const etag = js.headers.get("etag")!;
    const again = await (await daemon()).app.handle(new Request("http://localhost/assets/app.js", { headers: { "if-none-match": etag } }));
    expect(again.status).toBe(304);
    expect((await get("/assets/app.css")).headers.get("content-type")).toContain("text/css");
  }, 60_000);

  test("on loopback the dashboard reads are open; beyond loopback a read without the token is 401", async () => {
    const local = await daemon();
    expect((await local.get("/api/dashboard/overview")).status).toBe(200);

    const wide = await daemon({ AWET_HTTP_HOST: "0.0.0.0", AWET_API_TOKEN: TOKEN });
    for (const path of ["/api/dashboard/overview", "/api/dashboard/trades", "/api/dashboard/pnl", "/api/dashboard/market?symbol=IBM", "/api/dashboard/events"]) {
      const r = await wide.get(path);
      expect(r.status).toBe(401);
      expect(r.headers.get("www-authenticate")).toContain("Bearer");
      expect((await wide.get(path, "wrong-token")).status).toBe(401);
    }
    const ok = await wide.get("/api/dashboard/overview", TOKEN);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as any).state.trading_state).toBe("ACTIVE");
    expect((await wide.get("/health")).status).toBe(200); // probes stay open
  });

  test("after a replay: candles, status with dry run, trades filtered by status and reason, bad input named", async () => {
    const { sup, get } = await daemon({}, { kind: "replay", total: 2566 });
    await sup.runSource(new ReplaySource([IBM], "max"));
    await sup.watchtower!.tick(); // one Watchtower round measures every handler's queue (drained: 0)

    const o = (await (await get("/api/dashboard/overview")).json()) as any;
    expect(o.state.execution_dry_run).toBe(true);
    expect(o.feed).toMatchObject({ kind: "replay", read: 2566, total: 2566 });
    expect(o.agents.map((a: any) => a.name)).toContain("Execution");
    const lagOf = (n: string) => o.agents.find((a: any) => a.name === n)?.lag;
    expect(lagOf("FeatureEngineering")).toBe(0);
    expect(lagOf("Execution")).toBe(0); // Execution, Execution.fills and Execution.exits summed

    const m = (await (await get("/api/dashboard/market?symbol=IBM")).json()) as any;
    expect(m.bars).toHaveLength(2566);
    expect(m.bars[0].ts).toBeLessThan(m.bars[1].ts);
    expect(m.forecasts.length).toBeGreaterThan(2000);
    expect(m.fills).toEqual([]); // dry run: nothing filled
    const since = m.bars[2560].ts;
    const tail = (await (await get(`/api/dashboard/market?symbol=IBM&since=${since}`)).json()) as any;
    expect(tail.bars.map((b: any) => b.ts)).toEqual(m.bars.slice(2560).map((b: any) => b.ts));

    const all = (await (await get("/api/dashboard/trades")).json()) as any;
    expect(all.count).toBeGreaterThan(0);
    const byReason = (await (await get("/api/dashboard/trades?status=blocked&reason=dry_run&limit=1000")).json()) as any;
    expect(byReason.count).toBe(all.blocked_by_reason.dry_run);
    expect(byReason.trades.every((t: any) => t.status === "blocked" && t.error_message === "dry_run")).toBe(true);
    expect(((await (await get("/api/dashboard/trades?reason=no_such_reason")).json()) as any).count).toBe(0);

    for (const [path, field] of [["/api/dashboard/trades?status=bogus", "status"], ["/api/dashboard/market?symbol=ibm", "symbol"], ["/api/dashboard/market?symbol=IBM&since=x", "since"]] as const) {
      const r = await get(path);
      expect(r.status).toBe(400);
      expect(((await r.json()) as any).field).toBe(field);
    }
    const pnl = (await (await get("/api/dashboard/pnl")).json()) as any;
    expect(pnl.date).toBe("2013-10-11");
    expect(pnl.report.num_trades).toBe(0);
    expect(pnl.curve).toEqual([]);
  }, 60_000);

  test("an open position's bracket levels and its entry fill are on the market view; PnL counts the fill", async () => {
    const { sup, get } = await daemon();
    await sup.store.appendBars([{ symbol: "SPY", ts: T0, open: 100, high: 101, low: 99, close: 100, volume: 5 }, { symbol: "SPY", ts: T0 + 60_000, open: 100, high: 103, low: 100, close: 102, volume: 5 }], "test");
    await sup.store.insertTrade(newTrade({
      symbol: "SPY", side: "buy", qty: 10, price: 100, status: "filled", error_message: null, filled_qty: 10, avg_fill_price: 100.5, filled_at: T0,
      order_type: "bracket", take_profit_price: 104, stop_loss_price: 98, dry_run: false, client_order_id: "c-1", alpaca_order_id: "b-1",
    }));
    await sup.store.upsertPosition({ symbol: "SPY", qty: 10, avg_entry_price: 100.5, last_price: 102, market_value: 1020, unrealized_pl: 15, opened_at: T0, updated_at: T0 + 60_000 });
    const m = (await (await get("/api/dashboard/market?symbol=SPY")).json()) as any;
    expect(m.bracket).toMatchObject({ take_profit: 104, stop_loss: 98 });
    expect(m.fills).toMatchObject([{ side: "buy", qty: 10, price: 100.5, ts: T0, correlation_id: "c-1" }]);
    expect(m.position.qty).toBe(10);
    const pnl = (await (await get("/api/dashboard/pnl")).json()) as any;
    expect(pnl.report.unrealized_pnl_usd).toBe(15); // 10 × (102 − 100.5), the same FIFO as `awet pnl`
    expect(pnl.curve[pnl.curve.length - 1].total_pnl_usd).toBe(15);
    expect(pnl.positions.map((p: any) => p.symbol)).toEqual(["SPY"]);
  });

  test("the live stream sends one batch per tick however many events happened", async () => {
    const { sup, app } = await daemon({}, { kind: "replay", total: 2566 });
    const ac = new AbortController();
    const res = await app.handle(new Request("http://localhost/api/dashboard/events", { signal: ac.signal }));
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    const replay = sup.runSource(new ReplaySource([IBM], "max"));
    const ticks: any[] = [];
    let buf = "";
    // read until a tick reports the whole file read (the stream sends nothing while nothing changes)
    while (!ticks.some((t) => t.progress.read === 2566)) {
      const { value, done } = await reader.read();
      if (done) break;
      const { events, rest } = takeSseEvents(buf + value);
      buf = rest;
      for (const ev of events) if (ev.type === "tick") ticks.push(JSON.parse(ev.data));
    }
    await replay;
    ac.abort();
    expect(ticks.map((t) => t.seq)).toEqual(ticks.map((_, i) => ticks[0].seq + i));
    expect(ticks[0].progress.total).toBe(2566);
    expect(ticks[0].state.execution_dry_run).toBe(true);
    const withEvents = ticks.filter((t) => t.events);
    expect(withEvents.length).toBeGreaterThan(0);
    for (const t of withEvents) {
      expect(Object.keys(t.events.bars)).toEqual(["IBM"]); // the newest bar per symbol per batch, not every bar
      expect(t.events.notable.length).toBeLessThanOrEqual(50);
    }
    // every bar is counted once across the batches, in far fewer messages than bars
    const bars = withEvents.reduce((n, t) => n + (t.events.counts["market.raw"] ?? 0), 0);
    expect(bars).toBe(2566);
    expect(ticks.length).toBeLessThan(100);
    expect(withEvents.reduce((n, t) => n + t.events.notable.length + t.events.dropped, 0)).toBe(sup.stats.orders_blocked + sup.stats.risk_rejected);
  }, 60_000);
});

describe("where the dashboard is announced", () => {
  test("`awet portals` lists the dashboard URL first", () => {
    const h = tempHome("awet-portals-");
    try {
      const p = Bun.spawnSync({ cmd: [process.execPath, join(ROOT, "src", "main.ts"), "portals", "--json", "--home", h.home], env: { ...process.env, AWET_HOME: "", AWET_HTTP_PORT: "8123" } });
      expect(p.exitCode).toBe(0);
      const rows = JSON.parse(p.stdout.toString());
      expect(rows[0]).toMatchObject({ name: "AWET dashboard", url: "http://127.0.0.1:8123/" });
    } finally {
      h.cleanup();
    }
  });
});
