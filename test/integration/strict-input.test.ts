import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { Supervisor } from "../../src/agents/supervisor";
import { buildApp } from "../../src/server/app";
import { loadSettings } from "../../src/config";
import { isCalendarDate, wholeNumber } from "../../src/core/parse";
import { tempHome, testSettings } from "../helpers";

describe("config keys are own properties (issue 13.9)", () => {
  for (const key of ["constructor", "toString", "__proto__", "hasOwnProperty", "valueOf"])
    test(`'${key}:' in app.yaml is an unknown key`, () => {
      const h = tempHome();
      try {
        mkdirSync(join(h.home, "config"));
        writeFileSync(join(h.home, "config", "app.yaml"), `${key}: 1\n`);
        expect(() => loadSettings({ home: h.home, env: {} })).toThrow(`unknown key '${key}'`);
      } finally {
        h.cleanup();
      }
    });
});

describe("strict numbers and dates from outside (issue 13.9)", () => {
  test("wholeNumber takes plain digits only; isCalendarDate only real days", () => {
    for (const s of ["0x10", "1e3", " 16", "16 ", "+5", "-1", "1.0", "", "0b1", "١"]) expect([s, wholeNumber(s)]).toEqual([s, NaN]);
    expect(wholeNumber("16")).toBe(16);
    for (const s of ["2013-02-30", "2013-13-01", "2013-00-10", "2013-04-31", "2013-2-3", "2014-02-29"]) expect([s, isCalendarDate(s)]).toEqual([s, false]);
    for (const s of ["2012-02-29", "2013-10-07", "0001-01-01", "9999-12-31"]) expect([s, isCalendarDate(s)]).toEqual([s, true]);
  });

  test("property: isCalendarDate agrees with the date's own round trip", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9999 }), fc.integer({ min: 0, max: 14 }), fc.integer({ min: 0, max: 33 }), (y, m, d) => {
        const s = `${String(y).padStart(4, "0")}-${String(m).padStart(2, "0")}-${String(d).padStart(2, "0")}`;
        const t = new Date(0);
        t.setUTCFullYear(y, m - 1, d);
        expect(isCalendarDate(s)).toBe(t.getUTCFullYear() === y && t.getUTCMonth() + 1 === m && t.getUTCDate() === d);
      }),
      { numRuns: 3000 },
    );
  });

  describe("the API", () => {
    let h: ReturnType<typeof tempHome>;
    let sup: Supervisor;
    let app: ReturnType<typeof buildApp>;
    const get = (p: string) => app.handle(new Request(`http://localhost${p}`));
    beforeEach(async () => {
      h = tempHome();
      sup = new Supervisor({ settings: testSettings(h.home) });
      await sup.init("t");
      app = buildApp(sup, { version: "t", token: "x".repeat(40) });
    });
    afterEach(async () => {
      await sup.close();
      h.cleanup();
    });

    test("/api/pnl/2013-02-30 and ?date=2013-02-30 are 400 naming the field", async () => {
      for (const p of ["/api/pnl/2013-02-30", "/api/llm/summary?date=2013-02-30"]) {
        const r = await get(p);
        expect([p, r.status]).toEqual([p, 400]);
        expect(((await r.json()) as any).field).toBe("date");
      }
      expect((await get("/api/pnl/2013-10-07")).status).toBe(200);
    });

    test("limit=0x10, days=1e1 are 400; limit=16 is fine", async () => {
      for (const p of ["/api/trades?limit=0x10", "/api/llm/traces?limit=0x10", "/api/jobs/runs?limit=1e1", "/api/pnl?days=0x7", "/api/trades?limit=%2016"]) {
        const r = await get(p);
        expect([p, r.status]).toEqual([p, 400]);
      }
      expect((await get("/api/trades?limit=16")).status).toBe(200);
    });

    test("since=+010000-… is refused, not read as 'everything'", async () => {
      await sup.store.recordLlmTrace({ ts: Date.parse("2013-10-07T14:00:00Z"), correlation_id: "c", agent_name: "RiskAgent", model: "m", base_url: null, latency_ms: 1, status: "ok", error_message: null, request: {}, response: {}, prompt_tokens: null, completion_tokens: null });
      const r = await get("/api/llm/traces?since=%2B010000-01-01T00:00:00Z");
      expect(r.status).toBe(400);
      expect(((await r.json()) as any).field).toBe("since");
      expect(((await (await get("/api/llm/traces?since=2013-10-07T00:00:00Z")).json()) as any).count).toBe(1);
      expect(((await (await get("/api/llm/traces?since=9999-12-31T00:00:00Z")).json()) as any).count).toBe(0);
    });
  });
});
