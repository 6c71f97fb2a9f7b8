import { expect, test } from "bun:test";
import { spawn } from "bun";
import { join } from "node:path";
import { FakeAlpaca } from "../helpers/fake-alpaca";
import { ROOT, readDaemon, tempHome } from "../helpers";

test("a daemon on Alpaca runs the reconcile and positions sync as scheduler jobs on their configured periods, listed in /health", async () => {
  const alpaca = new FakeAlpaca();
  const h = tempHome("awet-daemon-jobs-");
  const proc = spawn({
    cmd: [process.execPath, join(ROOT, "src", "main.ts"), "start", "--home", h.home, "--port", "0", "--no-replay"],
    stdout: "pipe", stderr: "pipe", stdin: "ignore",
    env: {
      ...process.env, AWET_HOME: "", AWET_HTTP_PORT: "", LLM_ENABLED: "false", AWET_BROKER: "alpaca", ALPACA_BASE_URL: alpaca.url, AWET_ALLOW_LOOPBACK_BROKER: "1",
      APCA_API_KEY_ID: "PKJOBS00000000000001", APCA_API_SECRET_KEY: "jobs-secret", AWET_RECONCILE_INTERVAL_SECONDS: "1", AWET_POSITIONS_INTERVAL_SECONDS: "1",
    },
  });
  try {
    const { output, base } = await readDaemon(proc.stdout, (out) => out.includes("  jobs "));
    expect(output).toMatch(/ {2}jobs .*reconcile next \d{4}-.*positions_sync next \d{4}-/);
    const body = (await (await fetch(`${base}/health`)).json()) as any;
    expect(body.scheduler.jobs.reconcile).toMatchObject({ cron: null, every_seconds: 1 });
    expect(body.scheduler.jobs.positions_sync).toMatchObject({ cron: null, every_seconds: 1 });
    expect(Date.parse(body.scheduler.jobs.reconcile.next)).toBeGreaterThan(Date.now() - 2000);
    expect(body.scheduler.jobs.night_trainer.cron).toBe("0 2 * * 1-5");
    // after the start-up reconciliation, the periodic ones reach the broker: its clock (market open?) and its positions
    const atStart = { clock: alpaca.requests.filter((r) => r.path === "/v2/clock").length, positions: alpaca.requests.filter((r) => r.path.startsWith("/v2/positions")).length };
    const until = Date.now() + 10_000;
    while (Date.now() < until && (alpaca.requests.filter((r) => r.path === "/v2/clock").length < atStart.clock + 2 || alpaca.requests.filter((r) => r.path.startsWith("/v2/positions")).length < atStart.positions + 2)) await Bun.sleep(100);
    expect(alpaca.requests.filter((r) => r.path === "/v2/clock").length).toBeGreaterThanOrEqual(atStart.clock + 2);
    expect(alpaca.requests.filter((r) => r.path.startsWith("/v2/positions")).length).toBeGreaterThanOrEqual(atStart.positions + 2);
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
    alpaca.stop();
    h.cleanup();
  }
}, 60_000);
