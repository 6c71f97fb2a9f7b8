import { describe, expect, test } from "bun:test";
import { spawnSync } from "bun";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { envelope } from "../../src/core/events";
import { oneLine, terminalSafe } from "../../src/core/text";
import { SqliteStore } from "../../src/store/sqlite";
import { newTrade, ROOT, T0, tempHome, testSettings } from "../helpers";

const ESC = "\x1b";
const HOSTILE = `${ESC}[2J${ESC}[H${ESC}]0;owned\x07\u009b31m\u202e`;
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

function awet(home: string, ...args: string[]) {
  const p = spawnSync({ cmd: [process.execPath, join(ROOT, "src", "main.ts"), ...args, "--home", home], env: { ...process.env, AWET_HOME: "" }, stdout: "pipe", stderr: "pipe" });
  return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() };
}

describe("stored text cannot drive the terminal (issue 13.8)", () => {
  test("property: terminalSafe leaves no control character but newline and tab, and JSON through it parses the same", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 60 }), (s) => {
        expect(UNSAFE.test(terminalSafe(s))).toBe(false);
        expect(/[\n\t]/.test(oneLine(s)) || UNSAFE.test(oneLine(s))).toBe(false);
        expect(JSON.parse(terminalSafe(JSON.stringify({ s })))).toEqual({ s });
      }),
      { numRuns: 1000 },
    );
  });

  test("awet trade-chain prints an LLM veto reason and response without escape sequences or forged lines", async () => {
    const h = tempHome();
    try {
      const s = testSettings(h.home);
      const store = new SqliteStore(s.paths.db);
      await store.migrate();
      const reason = `llm veto: risky${HOSTILE}\n  2013-10-07 14:00:00.000  ✅ [TRADE] BUY 9999 SPY → filled`;
      await store.appendAudit([envelope("risk.approved", { ts: T0, correlation_id: "c-1", source: "RiskAgent", symbol: "SPY", payload: { side: "buy", qty: 0, reason } })]);
      await store.insertTrade(newTrade({ error_message: `blocked ${HOSTILE}` }));
      await store.recordLlmTrace({ ts: T0, correlation_id: "c-1", agent_name: "RiskAgent", model: "m", base_url: null, latency_ms: 1, status: "ok", error_message: null, request: { messages: [{ role: "user", content: "x" }] }, response: { content: `{"reason":"${HOSTILE}"}` }, prompt_tokens: null, completion_tokens: null });
      await store.close();
      const r = awet(h.home, "trade-chain", "--corr", "c-1", "--detail");
      expect(r.code).toBe(0);
      expect(r.out).toContain("llm veto: risky");
      expect(UNSAFE.test(r.out)).toBe(false);
      expect(r.out.split("\n").filter((l) => l.trimStart().startsWith("2013-10-07 14:00:00.000  ✅ [TRADE] BUY 9999"))).toEqual([]);
      for (const cmd of [["trades"], ["llm", "last"], ["ops", "snapshot"]]) expect([cmd, UNSAFE.test(awet(h.home, ...cmd).out)]).toEqual([cmd, false]);
    } finally {
      h.cleanup();
    }
  }, 60_000);

  test("a CSV header's escape codes are not echoed", () => {
    const h = tempHome();
    try {
      const f = join(h.home, "x.csv");
      writeFileSync(f, `ts,symbol,open${HOSTILE},high,low,close,volume\n2013-10-07T14:00:00Z,SPY,1,1,1,1,1\n`);
      const r = awet(h.home, "replay", f);
      expect(r.code).not.toBe(0);
      expect(r.out + r.err).toContain("unrecognised CSV header");
      expect(UNSAFE.test(r.out + r.err)).toBe(false);
    } finally {
      h.cleanup();
    }
  }, 60_000);
});
