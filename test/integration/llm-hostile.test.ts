import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { Supervisor } from "../../src/agents/supervisor";
import { LLMClient, TRACE_CONTENT_CHARS, type LlmTrace } from "../../src/llm/client";
import { assessIntent } from "../../src/llm/assess";
import { REDACTED, redactEmails, redactText } from "../../src/llm/redact";
import { silentLogger } from "../../src/obs/log";
import { buildApp } from "../../src/server/app";
import { LLM_SCHEMA, type LlmConfig } from "../../src/config/schema";
import { FakeOllama } from "../helpers/fake-ollama";
import { intent, tempHome, testSettings } from "../helpers";

const cfg = (over: Partial<LlmConfig> = {}): LlmConfig => ({ ...(Object.fromEntries(Object.entries(LLM_SCHEMA).map(([k, v]) => [k, v.default])) as LlmConfig), ...over });
const MB2 = 2 * 1024 * 1024;

describe("redaction stays linear on hostile text (issue 13.2)", () => {
  // The old e-mail regex rescanned a run of letters from every position: 2 MB of 'a' took hours.
  // Each shape below is 2 MB; a linear pass takes milliseconds, so the test timeout (10 s) can only
  // be reached by a super-linear implementation.
  const shapes: [string, string][] = [
    ["letters", "a".repeat(MB2)],
    ["letters and dots", "a.".repeat(MB2 / 2)],
    ["one '@' then dots", "x@" + "a.".repeat(MB2 / 2)],
    ["'@' every other char", "a@".repeat(MB2 / 2)],
    ["long locals between '@'", ("b".repeat(1000) + "@").repeat(MB2 / 1001)],
    ["digits", "1".repeat(MB2)],
    ["upper case", "PK" + "A".repeat(MB2)],
    ["a JSON answer with a 2 MB reason", JSON.stringify({ risk_score: 0.1, decision: "veto", size_factor: 0, reason: "z".repeat(MB2) })],
  ];
  for (const [name, text] of shapes)
    test(`2 MB of ${name}`, () => {
      expect(redactText(text).length).toBeGreaterThan(0);
    }, 10_000);

  test("property: the scanner finds exactly what the old e-mail regex found", () => {
    const re = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;
    fc.assert(
      fc.property(fc.stringMatching(/^[a-zA-Z0-9.@%+\- _!]{0,40}$/), (s) => {
        expect(redactEmails(s)).toBe(s.replace(re, REDACTED));
      }),
      { numRuns: 20_000 },
    );
  });

  test("passwords in URLs are redacted", () => {
    expect(redactText("unreachable at http://ollama:hunter2pw@10.0.0.5:11434/api")).toBe(`unreachable at http://${REDACTED}@10.0.0.5:11434/api`);
  });
});

describe("hostile LLM answers are bounded (issue 13.2)", () => {
  let fake: FakeOllama;
  let traces: LlmTrace[];
  beforeEach(() => {
    fake = new FakeOllama();
    traces = [];
  });
  afterEach(() => fake.stop());
  const client = (over: Partial<LlmConfig> = {}) =>
    new LLMClient(cfg({ base_url: fake.url, llm_timeout_ms: 5000, ...over }), { log: silentLogger, sink: { recordLlmTrace: async (t) => void traces.push(t) } });

  test("a 2 MB answer is read up to max_answer_bytes, then refused; the rule decision stands", async () => {
    fake.next.push({ kind: "json", value: { risk_score: 0.1, decision: "approve", size_factor: 1, reason: "y".repeat(MB2) } });
    const a = await assessIntent(client(), intent({ qty: 10 }));
    expect(a).toMatchObject({ qty: 10, applied: false, assessment: null });
    expect(a.reason).toContain("answer over 65536 bytes");
    expect(traces[0]!.status).toBe("error");
    const r = traces[0]!.response as { content: null; content_bytes_read: number; truncated: boolean };
    expect(r.truncated).toBe(true);
    expect(JSON.stringify(traces[0]).length).toBeLessThan(20_000);
  });

  test("an answer under the bound is used, and its stored trace is cut with its real size recorded", async () => {
    const reason = "w".repeat(30_000);
    fake.next.push({ kind: "json", value: { risk_score: 0.1, decision: "veto", size_factor: 0, reason } });
    const a = await assessIntent(client(), intent({ qty: 10 }));
    expect(a).toMatchObject({ qty: 0, vetoed: true });
    const r = traces[0]!.response as { content: string; content_chars: number; truncated: boolean };
    expect(r.content.length).toBe(TRACE_CONTENT_CHARS);
    expect(r.content_chars).toBeGreaterThan(30_000);
    expect(r.truncated).toBe(true);
  });

  test("the deadline covers the body: an answer that trickles in ends as a timeout", async () => {
    fake.next.push({ kind: "drip", pieces: ['{"model":"m","message":{"role":"assistant","content":"', ...Array(50).fill("x"), '"},"done":true}'], everyMs: 100 });
    const r = await client({ llm_timeout_ms: 400 }).chat("RiskAgent", [{ role: "user", content: "x" }]);
    expect(r).toMatchObject({ ok: false, error: "timeout after 400 ms" });
  });

  test("POST /api/halt answers within 1 s while a hostile answer is being processed", async () => {
    const h = tempHome();
    const sup = new Supervisor({ settings: testSettings(h.home) });
    await sup.init("t");
    const TOKEN = "h".repeat(40);
    const app = buildApp(sup, { version: "t", token: TOKEN });
    app.listen({ hostname: "127.0.0.1", port: 0 });
    try {
      const url = `http://127.0.0.1:${app.server!.port}/api/halt`;
      // 300 KB made 12 of 13 halts time out before; a 2 MB reason full of e-mail-like text, in a
      // JSON answer under and over the bound.
      const hostile = "a.b-c_d%e+f".repeat(MB2 / 11);
      fake.next.push({ kind: "json", value: { risk_score: 0.1, decision: "veto", size_factor: 0, reason: hostile } });
      fake.next.push({ kind: "text", text: hostile.slice(0, 60_000) });
      const c = client({ trace_preview_chars: 100_000 });
      let settled = 0;
      const work = [assessIntent(c, intent()), assessIntent(c, intent())].map((p) => p.finally(() => settled++));
      while (fake.answered < 1) await Bun.sleep(1);
      const latencies: number[] = [];
      do {
        const t0 = performance.now();
        const res = await fetch(url, { method: "POST", headers: { authorization: `Bearer ${TOKEN}` }, signal: AbortSignal.timeout(5000) });
        latencies.push(performance.now() - t0);
        expect(res.status).toBe(200);
      } while (settled < 2 || latencies.length < 3);
      await Promise.all(work);
      expect(Math.max(...latencies)).toBeLessThan(1000);
      expect(await sup.store.getState("trading_state")).toBe("HALTED");
    } finally {
      app.stop(true);
      await sup.close();
      h.cleanup();
    }
  }, 30_000);
});
