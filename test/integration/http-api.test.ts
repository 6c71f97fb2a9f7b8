import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { Value } from "@sinclair/typebox/value";
import { Supervisor } from "../../src/agents/supervisor";
import { JOBS } from "../../src/jobs/jobs";
import { buildApp } from "../../src/server/app";
import { ErrorBody } from "../../src/server/errors";
import { MAX_BODY_BYTES } from "../../src/server/schemas";
import { TRADE_STATUSES } from "../../src/store/port";
import { T0, newTrade, tempHome, testSettings } from "../helpers";

const TOKEN = "h".repeat(40);

/** The HTTP layer as a whole: its generated OpenAPI document, its one error shape, the jobs/agents split. */
describe("HTTP API", () => {
  let h: ReturnType<typeof tempHome>;
  let sup: Supervisor;
  let app: ReturnType<typeof buildApp>;
  const req = (path: string, o: { method?: string; token?: string; body?: string; headers?: Record<string, string>; host?: string } = {}) =>
    app.handle(
      new Request(`http://${o.host ?? "localhost"}${path}`, {
        method: o.method ?? "GET",
        body: o.body,
        headers: { ...(o.token ? { authorization: `Bearer ${o.token}` } : {}), ...o.headers },
      }),
    );
  const json = async (r: Response) => (await r.json()) as any;
  const isErrorShape = (b: Record<string, unknown>) => typeof b.error === "string" && typeof b.message === "string";

  beforeEach(async () => {
    h = tempHome("awet-http-");
    sup = new Supervisor({ settings: testSettings(h.home, { LLM_ENABLED: "false" }) });
    await sup.init("t");
    app = buildApp(sup, { version: "t", token: TOKEN });
  });
  afterEach(async () => {
    await sup.close();
    h.cleanup();
  });

  describe("GET /openapi is generated from the routes' schemas", () => {
    test("every route is in the document, with its path, query and body parameters and its responses", async () => {
      const r = await req("/openapi");
      expect(r.status).toBe(200);
      const doc = await json(r);
      expect(doc.openapi).toStartWith("3.");
      expect(Object.keys(doc.components.schemas.Error.properties)).toEqual(["error", "message", "field"]);
      expect(doc.components.schemas.Error.required).toEqual(["error", "message"]);
      const hidden = new Set(["/openapi", "/assets/app.js", "/assets/app.css", "/assets/icon.svg"]);
      const routes = app.routes.filter((x) => !hidden.has(x.path));
      expect(routes.length).toBeGreaterThan(35);
      for (const route of routes) {
        const path = route.path.replace(/:([^/]+)/g, "{$1}");
        const op = doc.paths[path]?.[route.method.toLowerCase()];
        const where = `${route.method} ${route.path}`;
        expect([where, op === undefined]).toEqual([where, false]);
        expect([where, typeof op.summary]).toEqual([where, "string"]);
        const hooks = route.hooks as { query?: any; params?: any; body?: any; response?: Record<string, unknown> };
        const names = (inWhere: string) => (op.parameters ?? []).filter((p: any) => p.in === inWhere).map((p: any) => p.name).sort();
        expect([where, names("path")]).toEqual([where, [...route.path.matchAll(/:([^/]+)/g)].map((m) => m[1]).sort()]);
        if (hooks.query) expect([where, names("query")]).toEqual([where, Object.keys(hooks.query.properties).sort()]);
        if (hooks.body) expect([where, Object.keys(op.requestBody.content["application/json"].schema.properties).sort()]).toEqual([where, Object.keys(hooks.body.properties).sort()]);
        // every route documents its answer and the guard's refusal
        expect([where, Object.keys(op.responses ?? {}).includes("200")]).toEqual([where, true]);
        expect([where, op.responses?.["421"]?.content?.["application/json"]?.schema]).toEqual([where, { $ref: "#/components/schemas/Error" }]);
        if (route.method === "POST") expect([where, op.security]).toEqual([where, [{ bearer: [] }]]);
      }
    });

    test("bounds, enums and dates come from the schemas: limit 1..1000, the trade statuses of store/port.ts", async () => {
      const doc = await json(await req("/openapi"));
      const param = (path: string, name: string) => doc.paths[path].get.parameters.find((p: any) => p.name === name).schema;
      expect(param("/api/trades", "limit")).toMatchObject({ type: "integer", minimum: 1, maximum: 1000, default: 50 });
      expect(param("/api/trades", "status").enum).toEqual([...TRADE_STATUSES]);
      expect(param("/api/trades", "status").default).toBeUndefined();
      expect(param("/api/dashboard/trades", "status").enum).toEqual([...TRADE_STATUSES]);
      expect(param("/api/pnl", "days")).toMatchObject({ type: "integer", minimum: 1, maximum: 31 });
      expect(param("/api/jobs/runs", "job").enum).toEqual(JOBS.map((j) => j.name));
      expect(doc.paths["/api/pnl/{date}"].get.parameters[0].schema).toMatchObject({ type: "string", format: "date" });
      expect(doc.paths["/api/halt"].post.requestBody.content["application/json"].schema.properties.mode.enum).toEqual(["halted", "reducing"]);
      expect(doc.paths["/api/trades"].get.responses["200"].content["application/json"].schema.properties.trades.items.properties.status.enum).toEqual([...TRADE_STATUSES]);
    });
  });

  describe("every 4xx/5xx answers { error, message, field? }", () => {
    const isError = (b: unknown) => Value.Check(ErrorBody, b);

    test("a bad limit names limit and its bound", async () => {
      for (const [path, bound] of [["/api/trades?limit=0", "1..1000"], ["/api/trades?limit=1001", "1..1000"], ["/api/llm/traces?limit=0x10", "1..1000"], ["/api/jobs/runs?limit=1e1", "1..1000"], ["/api/runs?limit=-1", "1..1000"], ["/api/dashboard/market?symbol=IBM&limit=20001", "1..20000"], ["/api/pnl?days=32", "1..31"]] as const) {
        const r = await req(path);
        const b = await json(r);
        expect([path, r.status, isError(b)]).toEqual([path, 400, true]);
        const field = path.includes("days") ? "days" : "limit";
        expect([path, b.error, b.field]).toEqual([path, "bad_request", field]);
        expect(b.message).toStartWith(`${field} must be a whole number ${bound}; got '`);
      }
    });

    test("bad enums, dates, tickers and bodies name the field and what it must be", async () => {
      const cases: [string, string, RegExp][] = [
        ["/api/trades?status=bogus", "status", /^status must be one of blocked, pending_submit, .*unknown; got 'bogus'$/],
        ["/api/trades?symbol=ibm", "symbol", /^symbol must be an upper-case ticker; got 'ibm'$/],
        ["/api/pnl/2013-02-30", "date", /^date must be a calendar date YYYY-MM-DD; got '2013-02-30'$/],
        ["/api/llm/traces?since=%2B010000-01-01T00:00:00Z", "since", /^since must be an ISO time in years 0001\.\.9999/],
        ["/api/jobs/runs?job=nonesuch", "job", /^job must be one of night_trainer, .*; got 'nonesuch'$/],
      ];
      for (const [path, field, msg] of cases) {
        const r = await req(path);
        const b = await json(r);
        expect([path, r.status, isError(b), b.field]).toEqual([path, 400, true, field]);
        expect(b.message).toMatch(msg);
      }
      const post = (body: string, headers: Record<string, string> = { "content-type": "application/json" }) => req("/api/halt", { method: "POST", token: TOKEN, body, headers });
      for (const [body, field, msg] of [
        ["{not json", "body", /^body is not valid JSON/],
        ["[1]", "body", /^body must be a JSON object$/],
        ['{"mode":"sideways"}', "mode", /^mode must be one of halted, reducing; got 'sideways'$/],
        ['{"reason":42}', "reason", /^reason must be a string of at most 500 characters; got 42$/],
      ] as const) {
        const r = await post(body);
        const b = await json(r);
        expect([body, r.status, isError(b), b.field]).toEqual([body, 400, true, field]);
        expect(b.message).toMatch(msg);
      }
      const big = await post(JSON.stringify({ reason: "x".repeat(MAX_BODY_BYTES) }));
      expect(big.status).toBe(413);
      expect(await json(big)).toEqual({ error: "payload_too_large", message: `body must be at most ${MAX_BODY_BYTES} bytes`, field: "body" });
      expect(await sup.tradingState.current()).toBe("ACTIVE"); // nothing refused changed anything
    });

    test("the guard's 401 and 421, an unknown route, an unknown id and a failing handler have the same shape", async () => {
      const refused = await req("/api/halt", { method: "POST" });
      expect(refused.status).toBe(401);
      expect(await json(refused)).toMatchObject({ error: "unauthorized", message: expect.stringContaining("Bearer") });
      const rebind = await req("/api/status", { host: "rebind.example" });
      expect(rebind.status).toBe(421);
      expect(isError(await json(rebind))).toBe(true);
      const none = await req("/api/agents/runs");
      expect(none.status).toBe(404);
      expect(await json(none)).toEqual({ error: "not_found", message: "no route GET /api/agents/runs (see GET /openapi)" });
      const chain = await req("/api/trade-chain/c-404");
      expect([chain.status, await json(chain)]).toEqual([404, { error: "not_found", message: "no trade chain for correlation id c-404" }]);
      const job = await req("/api/jobs/nonesuch/run", { method: "POST", token: TOKEN });
      expect(job.status).toBe(404);
      expect((await json(job)).message).toStartWith("no job 'nonesuch' (night_trainer, ");
      // a handler that throws: 500 in the same shape, its message without the home path
      sup.store.positions = async () => {
        throw new Error(`disk gone under ${h.home}/.awet`);
      };
      const broken = await req("/api/positions");
      expect(broken.status).toBe(500);
      expect(await json(broken)).toEqual({ error: "internal_error", message: "disk gone under <home>/.awet" });
      for (const r of [refused, rebind, none, chain, job, broken]) expect(r.headers.get("content-type")).toStartWith("application/json");
    });
  });

  test("an unhealthy /health and /health/:agent keep their report and add the error fields, naming what failed", async () => {
    expect((await req("/health")).status).toBe(200);
    const risk = sup.agents.find((a) => a.status.name === "Risk")!;
    risk.status.state = "failed";
    const r = await req("/health");
    expect(r.status).toBe(503);
    const b = await json(r);
    expect(b).toMatchObject({ status: "unhealthy", error: "unhealthy", message: "not healthy: agent Risk" });
    expect(b.agents.Risk.state).toBe("failed");
    expect(isErrorShape(b)).toBe(true);
    const one = await req("/health/risk");
    expect(one.status).toBe(503);
    expect(await json(one)).toMatchObject({ agent: "Risk", state: "failed", error: "unhealthy", message: "agent Risk is failed" });
    const none = await req("/health/nobody");
    expect(none.status).toBe(404);
    expect((await json(none)).message).toStartWith("no agent 'nobody' (agents: DataIngestion, ");
  });

  test("absent optional filters filter nothing: every status, every job", async () => {
    await sup.store.insertTrade(newTrade({ status: "blocked", error_message: "dry_run", idempotency_key: "k-1" }));
    await sup.store.insertTrade(newTrade({ status: "filled", error_message: null, idempotency_key: "k-2", filled_qty: 1, avg_fill_price: 100, filled_at: T0 }));
    expect((await json(await req("/api/trades"))).trades.map((t: any) => t.status).sort()).toEqual(["blocked", "filled"]);
    expect((await json(await req("/api/trades?status=filled"))).count).toBe(1);
    expect((await json(await req("/api/dashboard/trades"))).count).toBe(2);
    await sup.store.startJobRun("trade_watchdog", "api", T0);
    await sup.store.startJobRun("eod", "api", T0 + 1);
    expect((await json(await req("/api/jobs/runs"))).runs.length).toBe(2);
    expect((await json(await req("/api/jobs/runs?job=eod&limit=5"))).runs.map((r: any) => r.job)).toEqual(["eod"]);
  });

  test("a JSON body is read as JSON whatever its content type (curl -d sends a form type)", async () => {
    const r = await req("/api/halt", { method: "POST", token: TOKEN, body: '{"mode":"reducing","reason":"drill"}', headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(r.status).toBe(200);
    expect(await sup.tradingState.current()).toBe("REDUCING");
    expect((await req("/api/resume", { method: "POST", token: TOKEN, body: "ignored: bodiless controls read no body" })).status).toBe(200);
    expect(await sup.tradingState.current()).toBe("ACTIVE");
  });

  test("/api/agents lists the pipeline agents with their health; /api/jobs the scheduled jobs", async () => {
    const agents = (await json(await req("/api/agents"))).agents;
    expect(agents.map((a: any) => a.name)).toEqual(Object.keys((await json(await req("/health"))).agents));
    expect(agents.map((a: any) => a.name)).toContain("Execution");
    for (const a of agents) expect(Object.keys(a)).toEqual(expect.arrayContaining(["name", "state", "processed", "errors", "last_event_ts", "last_error"]));
    const jobs = (await json(await req("/api/jobs"))).jobs;
    expect(jobs.map((j: any) => j.name)).toEqual(JOBS.map((j) => j.name));
    expect(jobs.find((j: any) => j.name === "eod")).toMatchObject({ cron: expect.any(String), every_seconds: null, next: expect.stringMatching(/^\d{4}-/) });
    expect(jobs.find((j: any) => j.name === "reconcile")).toEqual(expect.objectContaining({ cron: null, every_seconds: 60, next: null })); // Alpaca only, on its period
  });
});
