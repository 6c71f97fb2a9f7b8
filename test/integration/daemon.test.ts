import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn, type Subprocess } from "bun";
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { ROOT, readDaemon, tempHome } from "../helpers";

/** Starts the real daemon (`awet start`) on a free port with a temp home and talks HTTP to it. */
describe("daemon end to end", () => {
  const h = tempHome("awet-daemon-");
  let proc: Subprocess<"ignore", "pipe", "pipe">;
  let base = "";
  let output = "";

  beforeAll(async () => {
    proc = spawn({
      cmd: [process.execPath, join(ROOT, "src", "main.ts"), "start", "--home", h.home, "--port", "0", "--speed", "max", "--replay", join(ROOT, "data", "minute", "IBM.csv")],
      stdout: "pipe",
      stderr: "pipe",
      stdin: "ignore",
      env: { ...process.env, AWET_HOME: "", AWET_HTTP_PORT: "" },
    });
    ({ output, base } = await readDaemon(proc.stdout, (out) => out.includes("Replay finished")));
  }, 60_000);

  afterAll(async () => {
    proc?.kill("SIGTERM");
    await proc?.exited;
    h.cleanup();
  });

  test("prints where health, metrics and the API are, and finishes the replay", () => {
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(output).toContain("/metrics");
    expect(output).toContain("/api/status");
    expect(output).toContain("Replay finished");
    expect(output).toContain("every bar accounted for: yes");
  });

  test("GET /health is 200 with every agent", async () => {
    const res = await fetch(`${base}/health`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body.status).toBe("healthy");
    expect(Object.keys(body.agents)).toEqual(["DataIngestion", "FeatureEngineering", "Prediction", "Risk", "Execution", "Exit", "Watchtower"]);
    // the all-in-one daemon is the whole deployment: one live process running every agent
    expect(body.deployment.healthy).toBe(true);
    expect(body.deployment.processes.map((p: any) => [p.status, p.agents])).toEqual([["live", ["ingestion", "features", "prediction", "risk", "execution", "exit", "watchtower"]]]);
    expect(body.agents.DataIngestion.processed).toBe(2566);
    expect(body.agents.DataIngestion.last_event_ts).toBe("2013-10-11T23:52:00.000Z");
  });

  test("GET /metrics exports events per topic, latency histograms and blocks by reason", async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toMatch(/awet_events_total\{topic="market\.raw"\} 2566/);
    expect(text).toContain("awet_handler_duration_seconds_bucket");
    expect(text).toContain("awet_decision_latency_seconds_count 2566");
    expect(text).toMatch(/awet_gate_blocks_total\{reason="dry_run"\} \d+/);
    expect(text).toMatch(/awet_orders_total\{status="blocked"\} \d+/);
  });

  test("bars became audit events and trade rows, visible over the API", async () => {
    const status = (await (await fetch(`${base}/api/status`)).json()) as any;
    expect(status.safety.execution_dry_run).toBe(true);
    expect(status.counts.market_bars).toBe(2566);
    // audit_level decisions: only chains that reached a decision are in audit_events (the bar is
    // always its market_bars row), so the trail is far smaller than one row per event.
    expect(status.counts.audit_events).toBeGreaterThan(0);
    expect(status.counts.audit_events).toBeLessThan(2566);
    const trades = (await (await fetch(`${base}/api/trades?status=blocked&limit=5`)).json()) as any;
    expect(trades.count).toBeGreaterThan(0);
    expect(trades.trades[0].error_message).toBe("dry_run");
    const db = new Database(join(h.home, ".awet", "awet.db"), { readonly: true });
    try {
      const row = db.query("SELECT COUNT(*) AS n FROM trades WHERE status = 'blocked' AND error_message = 'dry_run'").get() as { n: number };
      expect(row.n).toBe(status.stats.orders_blocked);
      const chain = db
        .query("SELECT DISTINCT event_type FROM audit_events WHERE correlation_id = (SELECT correlation_id FROM trades LIMIT 1) ORDER BY seq")
        .all()
        .map((r: any) => r.event_type);
      expect(chain).toEqual(["market.engineered", "predictions", "risk.approved", "execution.blocked"]);
      const bar = db.query("SELECT COUNT(*) AS n FROM market_bars b JOIN trades t ON t.symbol = b.symbol AND t.ts = b.ts WHERE t.id = (SELECT MIN(id) FROM trades)").get() as { n: number };
      expect(bar.n).toBe(1); // the chain's bar is its market_bars row
    } finally {
      db.close();
    }
  });

  test("a malformed query names the field with 400", async () => {
    const res = await fetch(`${base}/api/trades?status=bogus`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).field).toBe("status");
    const res2 = await fetch(`${base}/api/trades?limit=0`);
    expect(res2.status).toBe(400);
    expect(((await res2.json()) as any).field).toBe("limit");
  });

  test("`awet health --json` checks every part: healthy with the LLM off, exit 1 naming the LLM when Ollama is down", async () => {
    const port = new URL(base).port;
    const run = async (env: Record<string, string>) => {
      const p = spawn({ cmd: [process.execPath, join(ROOT, "src", "main.ts"), "health", "--json", "--port", port, "--home", h.home], stdout: "pipe", stderr: "pipe", env: { ...process.env, AWET_HOME: "", ...env } });
      const out = await new Response(p.stdout).text();
      return { code: await p.exited, body: JSON.parse(out) };
    };
    const ok = await run({ LLM_ENABLED: "false" });
    expect(ok.code).toBe(0);
    expect(ok.body.status).toBe("healthy");
    expect(ok.body.checks.map((c: any) => c.name)).toEqual(["store", "deployment", "bus", "broker", "llm", "agents", "scheduler"]);
    const down = await run({ OLLAMA_HOST: "http://127.0.0.1:1" });
    expect(down.code).toBe(1);
    expect(down.body.status).toBe("unhealthy");
    const llm = down.body.checks.find((c: any) => c.name === "llm");
    expect(llm.ok).toBe(false);
    expect(llm.verdict).toContain("unreachable at http://127.0.0.1:1");
    expect(llm.fix).toContain("OLLAMA_HOST");
  });

  test("a second daemon on the same port fails with a message naming the port", async () => {
    const port = new URL(base).port;
    const h2 = tempHome();
    try {
      const p = spawn({ cmd: [process.execPath, join(ROOT, "src", "main.ts"), "start", "--home", h2.home, "--port", port, "--no-replay"], stdout: "pipe", stderr: "pipe" });
      const code = await p.exited;
      const err = await new Response(p.stderr).text();
      expect(code).not.toBe(0);
      expect(err).toContain(`port ${port} on 127.0.0.1 is already in use`);
    } finally {
      h2.cleanup();
    }
  });
});
