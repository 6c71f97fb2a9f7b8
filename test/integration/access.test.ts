import { afterEach, describe, expect, test } from "bun:test";
import { spawnSync } from "bun";
import { hostname } from "node:os";
import { join } from "node:path";
import { Supervisor } from "../../src/agents/supervisor";
import { buildApp } from "../../src/server/app";
import { recentOperatorEvents } from "../../src/ops/audit";
import { ROOT, tempHome, testSettings } from "../helpers";

const TOKEN = "k".repeat(40);
const READS = [
  "/api/status", "/api/trades", "/api/positions", "/api/paper/status", "/api/agents", "/api/jobs", "/api/jobs/runs", "/api/llm/traces",
  "/api/llm/summary", "/api/pnl", "/api/pnl/2013-10-07", "/api/ops/snapshot", "/api/trade-chain/c-1",
];

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});

async function daemon(env: Record<string, string> = {}) {
  const h = tempHome();
  const sup = new Supervisor({ settings: testSettings(h.home, env) });
  await sup.init("t");
  const app = buildApp(sup, { version: "t", token: TOKEN });
  cleanup.push(async () => {
    await sup.close();
    h.cleanup();
  });
  const req = (path: string, o: { method?: string; token?: string | null; host?: string } = {}) =>
    app.handle(new Request(`http://${o.host ?? "127.0.0.1:8000"}${path}`, { method: o.method ?? "GET", headers: o.token ? { authorization: `Bearer ${o.token}` } : {} }));
  return { h, sup, app, req };
}

describe("reads beyond loopback need the token (issue 13.4)", () => {
  test("bound to 0.0.0.0, every /api/* read without the token is 401; with it, it answers", async () => {
    const d = await daemon({ AWET_HTTP_HOST: "0.0.0.0" });
    for (const path of READS) {
      const r = await d.req(path);
      expect([path, r.status]).toEqual([path, 401]);
      expect(r.headers.get("www-authenticate")).toContain("Bearer");
      expect([path, (await d.req(path, { token: "wrong" })).status]).toEqual([path, 401]);
      expect([path, (await d.req(path, { token: TOKEN })).status === 401]).toEqual([path, false]);
    }
    for (const path of ["/health", "/metrics", "/openapi"]) expect([path, (await d.req(path)).status === 401]).toEqual([path, false]);
  });

  test("on loopback, reads stay open and POSTs still need the token", async () => {
    const d = await daemon();
    for (const path of READS) expect([path, (await d.req(path)).status === 401]).toEqual([path, false]);
    expect((await d.req("/api/halt", { method: "POST" })).status).toBe(401);
  });

  test("/health shows no credentials of OLLAMA_HOST and no home path", async () => {
    const d = await daemon({ OLLAMA_HOST: "http://ollama-user:sekret-pw-1234@127.0.0.1:1", AWET_HTTP_HOST: "0.0.0.0" });
    await d.sup.refreshLlm(true);
    const text = await (await d.req("/health")).text();
    expect(text).toContain("127.0.0.1:1");
    expect(text).not.toContain("sekret-pw-1234");
    expect(text).not.toContain("ollama-user");
    expect(text).not.toContain(d.h.home);
    const traces = await (await d.req("/api/llm/traces", { token: TOKEN })).text();
    expect(traces).not.toContain("sekret-pw-1234");
  });

  test("verify-alpaca and start never print a URL's password", () => {
    const h = tempHome();
    try {
      const p = spawnSync({
        cmd: [process.execPath, join(ROOT, "src", "main.ts"), "verify-alpaca", "--home", h.home],
        env: { ...process.env, AWET_HOME: "", ALPACA_BASE_URL: "https://u:sekret-pw-5678@paper-api.alpaca.markets", APCA_API_KEY_ID: "PKTEST", APCA_API_SECRET_KEY: "x" },
        stdout: "pipe", stderr: "pipe",
      });
      const all = p.stdout.toString() + p.stderr.toString();
      expect(all).toContain("paper-api.alpaca.markets");
      expect(all).not.toContain("sekret-pw-5678");
    } finally {
      h.cleanup();
    }
  });
});

describe("Host allow-list against DNS rebinding (issue 13.5)", () => {
  test("a Host that is not served gets 421 on every route, token or not; loopback names and IPs pass", async () => {
    const d = await daemon();
    for (const path of ["/api/status", "/health", "/metrics", "/openapi", "/api/trades"]) {
      expect([path, (await d.req(path, { host: "rebind.attacker.example:8000" })).status]).toEqual([path, 421]);
      expect([path, (await d.req(path, { host: "rebind.attacker.example", token: TOKEN })).status]).toEqual([path, 421]);
    }
    const halt = await d.req("/api/halt", { method: "POST", token: TOKEN, host: "rebind.attacker.example:8000" });
    expect(halt.status).toBe(421);
    expect(await d.sup.store.getState("trading_state")).toBeNull();
    for (const host of ["localhost:8000", "127.0.0.1:8000", "[::1]:8000", "LOCALHOST", "192.168.1.20:8000"]) expect([host, (await d.req("/api/status", { host })).status]).toEqual([host, 200]);
  });

  test("http_allowed_hosts adds names; bound to 0.0.0.0 the machine's own name passes", async () => {
    const d = await daemon({ AWET_HTTP_ALLOWED_HOSTS: "awet,dash.lan" });
    expect((await d.req("/health", { host: "awet:8000" })).status === 421).toBe(false);
    expect((await d.req("/health", { host: "dash.lan" })).status === 421).toBe(false);
    expect((await d.req("/health", { host: "other.lan" })).status).toBe(421);
    const w = await daemon({ AWET_HTTP_HOST: "0.0.0.0" });
    expect((await w.req("/health", { host: `${hostname()}:8000` })).status === 421).toBe(false);
  });

  test("a bad entry in http_allowed_hosts is a config error naming the key", () => {
    const h = tempHome();
    try {
      expect(() => testSettings(h.home, { AWET_HTTP_ALLOWED_HOSTS: "ok.lan,bad/host" })).toThrow(/http_allowed_hosts/);
    } finally {
      h.cleanup();
    }
  });
});

describe("audit trail of operator actions (issue 13.7)", () => {
  test("each REST control action is audited with who, what, before → after; each 401 too", async () => {
    const d = await daemon();
    d.app.listen({ hostname: "127.0.0.1", port: 0 });
    cleanup.push(async () => void d.app.stop(true));
    const url = (p: string) => `http://127.0.0.1:${d.app.server!.port}${p}`;
    const post = (p: string, token: string | null = TOKEN, body?: string) => fetch(url(p), { method: "POST", headers: token ? { authorization: `Bearer ${token}` } : {}, body });
    expect((await post("/api/halt")).status).toBe(200);
    expect((await post("/api/paper/on")).status).toBe(200);
    expect((await post("/api/resume", "wrong-token")).status).toBe(401);
    expect((await post("/api/approve", null)).status).toBe(401);
    const ev = await recentOperatorEvents(d.sup.store, 10);
    expect(ev.map((e) => [e.event, e.action, e.ok])).toEqual([
      ["refused", "POST /api/approve", false],
      ["refused", "POST /api/resume", false],
      ["control", "paper on", true],
      ["control", "halt", true],
    ]);
    expect(ev[3]).toMatchObject({ via: "rest", who: "rest 127.0.0.1", before: { trading_state: "ACTIVE" }, after: { trading_state: "HALTED" } });
    expect(ev[2]).toMatchObject({ before: { execution_dry_run: true, approved: false }, after: { execution_dry_run: false, approved: true } });
    expect(ev[0]!.detail).toStartWith("401");
    expect(ev[0]!.who).toBe("rest 127.0.0.1");
    // the token never lands in the audit trail
    expect(JSON.stringify(ev)).not.toContain("wrong-token");
    const snap = (await (await fetch(url("/api/ops/snapshot"))).json()) as any;
    expect(snap.operator_actions.length).toBe(4);
  });

  test("CLI control actions are audited and `awet ops snapshot` shows them", () => {
    const h = tempHome();
    try {
      const awet = (...args: string[]) => {
        const p = spawnSync({ cmd: [process.execPath, join(ROOT, "src", "main.ts"), ...args, "--home", h.home], env: { ...process.env, AWET_HOME: "" }, stdout: "pipe", stderr: "pipe" });
        return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() };
      };
      expect(awet("halt", "--reason", "drill").code).toBe(0);
      expect(awet("approve").code).toBe(0);
      const snap = awet("ops", "snapshot");
      expect(snap.code).toBe(0);
      expect(snap.out).toMatch(/cli \S+: approve ok .*approved=false .*→ .*approved=true/);
      expect(snap.out).toMatch(/cli \S+: halt ok .*trading_state=ACTIVE .*→ trading_state=HALTED/);
      const json = JSON.parse(awet("ops", "snapshot", "--json").out);
      expect(json.operator_actions.map((a: any) => a.action)).toEqual(["approve", "halt"]);
    } finally {
      h.cleanup();
    }
  });
});
