import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { spawnSync } from "bun";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { Supervisor } from "../../src/agents/supervisor";
import { buildApp } from "../../src/server/app";
import { ensureApiToken, setAppKey, tokenMatches } from "../../src/ops/control";
import { loadSettings } from "../../src/config";
import { ROOT, T0, tempHome, testSettings } from "../helpers";

const TOKEN = "t".repeat(40);

describe("control API", () => {
  let h: ReturnType<typeof tempHome>;
  let sup: Supervisor;
  let app: ReturnType<typeof buildApp>;
  const req = (method: string, path: string, opts: { token?: string | null; body?: string } = {}) =>
    app.handle(
      new Request(`http://localhost${path}`, {
        method,
        headers: opts.token === null ? {} : { authorization: `Bearer ${opts.token ?? TOKEN}`, "content-type": "application/json" },
        body: opts.body,
      }),
    );

  beforeEach(async () => {
    h = tempHome();
    sup = new Supervisor({ settings: testSettings(h.home) });
    await sup.init("test");
    app = buildApp(sup, { version: "test", token: TOKEN });
  });
  afterEach(async () => {
    await sup.close();
    h.cleanup();
  });

  test("a POST without a token, or with a wrong one, is 401 and changes nothing", async () => {
    for (const token of [null, "wrong", TOKEN.slice(1)]) {
      const r = await req("POST", "/api/halt", { token });
      expect(r.status).toBe(401);
      const a = await req("POST", "/api/approve", { token });
      expect(a.status).toBe(401);
    }
    expect(await sup.store.getState("trading_state")).toBeNull();
    expect(existsSync(sup.settings.paths.approvalFile)).toBe(false);
  });

  test("halt, halt --reducing and resume switch the trading state", async () => {
    expect((await req("POST", "/api/halt")).status).toBe(200);
    expect(await sup.store.getState("trading_state")).toBe("HALTED");
    await req("POST", "/api/halt", { body: JSON.stringify({ mode: "reducing", reason: "drawdown" }) });
    expect(await sup.store.getState("trading_state")).toBe("REDUCING");
    await req("POST", "/api/resume");
    expect(await sup.store.getState("trading_state")).toBe("ACTIVE");
  });

  test("a malformed body is 400 naming the field, and changes nothing", async () => {
    let r = await req("POST", "/api/halt", { body: "{not json" });
    expect(r.status).toBe(400);
    expect(((await r.json()) as any).field).toBe("body");
    r = await req("POST", "/api/halt", { body: JSON.stringify({ mode: "sideways" }) });
    expect(r.status).toBe(400);
    expect(((await r.json()) as any).field).toBe("mode");
    r = await req("POST", "/api/halt", { body: JSON.stringify({ reason: 42 }) });
    expect(((await r.json()) as any).field).toBe("reason");
    expect(await sup.store.getState("trading_state")).toBeNull();
  });

  test("paper on/off edit config/app.yaml in the home, keep its comments, and set the approval file", async () => {
    let r = await req("POST", "/api/paper/on");
    expect(r.status).toBe(200);
    const st = (await r.json()) as any;
    expect(st).toMatchObject({ execution_dry_run: false, approved: true, trading_enabled: true });
    const file = join(h.home, "config", "app.yaml");
    const text = readFileSync(file, "utf8");
    expect(text).toContain("execution_dry_run: false");
    expect(text).toContain("# --- paper trading safety (runbook 8.1-8.3)");
    expect(text).toContain("max_orders_per_minute: 5          # max orders across all symbols per minute");
    expect(sup.live.app.execution_dry_run).toBe(false);
    // the daemon's own reports show the running value at once, not the one it started with
    expect(((await (await req("GET", "/api/status", { token: null })).json()) as any).safety.execution_dry_run).toBe(false);
    expect(((await (await req("GET", "/api/ops/snapshot", { token: null })).json()) as any).execution_dry_run).toBe(false);
    r = await req("POST", "/api/paper/off");
    expect(((await r.json()) as any)).toMatchObject({ execution_dry_run: true, approved: false, trading_enabled: false });
    expect(readFileSync(file, "utf8")).toContain("execution_dry_run: true");
    const status = (await (await req("GET", "/api/paper/status", { token: null })).json()) as any;
    expect(status.execution_dry_run).toBe(true);
  });

  test("exit on/off edit enable_exit_logic", async () => {
    await req("POST", "/api/exit/off");
    expect(loadSettings({ home: h.home, env: {} }).app.enable_exit_logic).toBe(false);
    await req("POST", "/api/exit/on");
    expect(loadSettings({ home: h.home, env: {} }).app.enable_exit_logic).toBe(true);
  });

  test("GET /openapi describes every control endpoint", async () => {
    const spec = (await (await req("GET", "/openapi", { token: null })).json()) as any;
    for (const p of ["/api/approve", "/api/revoke", "/api/paper/on", "/api/paper/off", "/api/halt", "/api/resume", "/api/paper/status"])
      expect(spec.paths).toHaveProperty(p);
  });
});

describe("control pieces", () => {
  test("the generated token file is mode 0600 and reused; env wins", () => {
    const h = tempHome();
    try {
      const s = testSettings(h.home);
      const t1 = ensureApiToken(s)!;
      expect(t1.source).toBe("generated");
      expect(t1.token.length).toBe(64);
      expect(statSync(s.paths.apiToken).mode & 0o777).toBe(0o600);
      expect(ensureApiToken(s)!.token).toBe(t1.token);
      expect(ensureApiToken(testSettings(h.home, { AWET_API_TOKEN: "x".repeat(32) }))!.source).toBe("env");
      const wide = testSettings(h.home, { AWET_HTTP_HOST: "0.0.0.0", AWET_API_TOKEN: "short" });
      expect(() => ensureApiToken(wide)).toThrow(/at least 32 bytes/);
      expect(tokenMatches("a", "a")).toBe(true);
      expect(tokenMatches("a", "b")).toBe(false);
      expect(tokenMatches(undefined, "b")).toBe(false);
    } finally {
      h.cleanup();
    }
  });

  test("a config edit that would be invalid is refused and the file is left as it was", async () => {
    const h = tempHome();
    try {
      const s = testSettings(h.home);
      await setAppKey(s, "execution_dry_run", false);
      const file = join(h.home, "config", "app.yaml");
      const before = readFileSync(file, "utf8");
      await expect(setAppKey(s, "max_orders_per_minute", -1)).rejects.toThrow(/max_orders_per_minute/);
      expect(readFileSync(file, "utf8")).toBe(before);
    } finally {
      h.cleanup();
    }
  });

  test("CLI: paper on, halt, then a replay blocks every entry with trading_halted; resume lets it trade", () => {
    const h = tempHome();
    const awet = (...args: string[]) => {
      const p = spawnSync({ cmd: [process.execPath, join(ROOT, "src", "main.ts"), ...args, "--home", h.home], env: { ...process.env, AWET_HOME: "" }, stdout: "pipe", stderr: "pipe" });
      return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() };
    };
    try {
      expect(awet("paper", "on").code).toBe(0);
      const st = JSON.parse(awet("paper", "status", "--json").out);
      expect(st).toMatchObject({ execution_dry_run: false, approved: true, trading_state: "ACTIVE" });
      expect(awet("halt").out).toContain("ACTIVE → HALTED");
      const spy = join(ROOT, "data", "minute", "SPY.csv");
      const halted = JSON.parse(awet("replay", spy, "--json").out);
      expect(halted.orders_submitted).toBe(0);
      expect(Object.keys(halted.blocked_by_reason)).toEqual(["trading_halted"]);
      expect(awet("resume").out).toContain("HALTED → ACTIVE");
      const active = JSON.parse(awet("replay", spy, "--json").out);
      expect(active.orders_submitted).toBeGreaterThan(0);
      expect(awet("paper", "bogus").code).toBe(2);
    } finally {
      h.cleanup();
    }
  }, 60_000);

  test("POST /api/exit/run reports each open position's decision, and a fired exit's order as Execution placed it", async () => {
    const h2 = tempHome();
    const settings = testSettings(h2.home, { AWET_EXECUTION_DRY_RUN: "false", LLM_ENABLED: "false" });
    mkdirSync(dirname(settings.paths.approvalFile), { recursive: true });
    writeFileSync(settings.paths.approvalFile, "");
    const s = new Supervisor({ settings });
    try {
      await s.init("exit-run");
      // SPY 1% under its entry (stop_loss at 0.5%), IBM 0.3% over it and held for 10 minutes: hold
      const opened = T0 - 10 * 60_000;
      await s.store.upsertPosition({ symbol: "SPY", qty: 10, avg_entry_price: 100, last_price: 99, market_value: 990, unrealized_pl: -10, opened_at: opened, updated_at: T0 });
      await s.store.upsertPosition({ symbol: "IBM", qty: 5, avg_entry_price: 180, last_price: 180.54, market_value: 902.7, unrealized_pl: 2.7, opened_at: opened, updated_at: T0 });
      await s.portfolio.restore();
      s.clock.advanceTo!(T0); // Monday 10:00 New York
      const a = buildApp(s, { version: "test", token: TOKEN });
      const r = await a.handle(new Request("http://localhost/api/exit/run", { method: "POST", headers: { authorization: `Bearer ${TOKEN}` } }));
      expect(r.status).toBe(200);
      const { checks } = (await r.json()) as { checks: any[] };
      const by = Object.fromEntries(checks.map((c) => [c.symbol, c]));
      expect(Object.keys(by).sort()).toEqual(["IBM", "SPY"]);
      expect(by.IBM).toMatchObject({ decision: "hold", qty: 5, price: 180.54 });
      expect(by.IBM.result).toBeUndefined();
      expect(by.SPY).toMatchObject({ decision: "stop_loss", qty: 10, price: 99, result: { status: "submitted", qty: 10 } });
      const row = (await s.store.getTrade(by.SPY.result.trade_id))!;
      expect(row).toMatchObject({ symbol: "SPY", side: "sell", qty: 10, status: "submitted", exit_reason: "stop_loss", paper_trade: true });
      // a second run while that sell is open leaves SPY to it (no second exit order)
      const again = (await (await a.handle(new Request("http://localhost/api/exit/run", { method: "POST", headers: { authorization: `Bearer ${TOKEN}` } }))).json()) as { checks: any[] };
      expect(again.checks.map((c) => c.symbol)).toEqual(["IBM"]);
      expect((await s.store.listTrades({ symbol: "SPY" })).length).toBe(1);
    } finally {
      await s.close();
      h2.cleanup();
    }
  });
});
