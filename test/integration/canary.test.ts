import { describe, expect, test } from "bun:test";
import { spawn } from "bun";
import { readdirSync, readFileSync, statSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FakeAlpaca } from "../helpers/fake-alpaca";
import { FakeOllama } from "../helpers/fake-ollama";
import { ROOT, tempHome } from "../helpers";

/** Every file under a directory, recursively. */
function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

describe("planted secrets never reach logs, traces, audit rows or events (ARCHITECTURE.md §10)", () => {
  test("a replay through the fake Alpaca and a failing fake Ollama leaves no canary anywhere under the home", async () => {
    const alpaca = new FakeAlpaca();
    const ollama = new FakeOllama();
    const h = tempHome();
    const canaries = {
      APCA_API_KEY_ID: "PKCANARY1234567890AB", APCA_API_SECRET_KEY: "canary-secret-9f8e7d6c5b4a", AWET_API_TOKEN: "canary-token-0123456789abcdef0123456789abcdef",
      // issue 13.4: a password inside OLLAMA_HOST is never printed, stored with traces or logged
      OLLAMA_PASSWORD: "canary-ollama-pw-4711",
    };
    try {
      mkdirSync(join(h.home, ".tmp"), { recursive: true });
      writeFileSync(join(h.home, ".tmp", "APPROVE_EXECUTION"), "");
      // error paths: the broker's order lookups answer 403 and 500, the LLM 500s and returns garbage
      alpaca.inject("GET /v2/orders:by_client_order_id", { kind: "status", status: 403 }, { kind: "status", status: 500 });
      ollama.next.push(
        { kind: "status", status: 500 },
        { kind: "text", text: `echo ${canaries.APCA_API_SECRET_KEY}` },
        { kind: "json", value: { risk_score: 0.5, decision: "reduce", size_factor: 0.5, reason: `key ${canaries.APCA_API_SECRET_KEY} and ${canaries.AWET_API_TOKEN}` } },
      );
      const env = {
        ...process.env, ...canaries, AWET_HOME: "", AWET_BROKER: "alpaca", ALPACA_BASE_URL: alpaca.url, AWET_ALLOW_LOOPBACK_BROKER: "1",
        AWET_EXECUTION_DRY_RUN: "false", OLLAMA_HOST: ollama.url.replace("http://", `http://ollama-user:${canaries.OLLAMA_PASSWORD}@`), LLM_TRACE_REDACT_DB: "true",
      };
      const run = async (...args: string[]) => {
        const p = spawn({ cmd: [process.execPath, join(ROOT, "src", "main.ts"), ...args, "--home", h.home], env, stdout: "pipe", stderr: "pipe" });
        const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
        return { out, err, code };
      };
      const outputs = [
        await run("replay", join(ROOT, "data", "minute", "SPY.csv"), "--json"), await run("reconcile", "--once"), await run("verify-alpaca"), await run("llm", "last", "-n", "50", "--json"),
        await run("doctor", "--json"), await run("portals"), await run("health", "--json"), await run("halt", "--reason", "canary drill"), await run("ops", "snapshot", "--json"),
      ];
      expect(outputs[0]!.code).toBe(0);
      expect(alpaca.orders.length).toBeGreaterThan(0);
      expect(ollama.requests.length).toBeGreaterThan(0);
      for (const [name, value] of Object.entries(canaries)) {
        const where = [...outputs.map((o, i) => [`output ${i}`, o.out + o.err] as const), ...files(h.home).map((f) => [f, readFileSync(f).toString("latin1")] as const)].filter(([, t]) => t.includes(value)).map(([w, t]) => `${w}: ...${t.slice(Math.max(0, t.indexOf(value) - 80), t.indexOf(value) + 20)}`);
        expect([name, where]).toEqual([name, []]);
      }
    } finally {
      alpaca.stop();
      ollama.stop();
      h.cleanup();
    }
  }, 120_000);
});
