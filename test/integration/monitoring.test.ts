import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn, spawnSync, type Subprocess } from "bun";
import { cpSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { ROOT, tempHome } from "../helpers";

const which = (bin: string) => spawnSync({ cmd: ["sh", "-c", `command -v ${bin}`] }).exitCode === 0;
const HAVE_PROM = which("promtool") && which("prometheus");
const HAVE_COMPOSE = which("docker-compose");
if (!HAVE_PROM) console.log("monitoring tests: promtool/prometheus not installed (Debian package `prometheus`; .ci/run installs it) — skipped");
if (!HAVE_COMPOSE) console.log("compose test: docker-compose not installed (Debian package `docker-compose`; .ci/run installs it) — skipped");

/** Every metric name the alert rules and the Grafana dashboards use. */
function referencedMetrics(): string[] {
  const texts = [readFileSync(join(ROOT, "deploy", "prometheus", "alerts.yml"), "utf8")];
  const dash = JSON.parse(readFileSync(join(ROOT, "deploy", "grafana", "dashboards", "awet-overview.json"), "utf8"));
  for (const p of dash.panels) for (const t of p.targets ?? []) texts.push(t.expr);
  const names = new Set<string>();
  for (const t of texts) for (const m of t.matchAll(/\b(awet_[a-z0-9_]+|pending_orders|open_positions|portfolio_value_usd|reconcile_errors_total)\b/g)) names.add(m[1]!);
  return [...names].sort();
}

async function freePort(): Promise<number> {
  return new Promise((res) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });
}

describe.skipIf(!HAVE_PROM)("Prometheus files", () => {
  test("promtool accepts the alert rules and the config", () => {
    const r = spawnSync({ cmd: ["promtool", "check", "rules", join(ROOT, "deploy", "prometheus", "alerts.yml")] });
    expect(r.stdout.toString() + r.stderr.toString()).toContain("SUCCESS: 11 rules found");
    expect(r.exitCode).toBe(0);
    const c = spawnSync({ cmd: ["promtool", "check", "config", join(ROOT, "deploy", "prometheus", "prometheus.yml")] });
    expect(c.exitCode).toBe(0);
  });

  test("promtool's rule unit test: the Watchtower alerts fire on lag past the limit for 2m, a stale process, an agent with no live process, and not otherwise", () => {
    const r = spawnSync({ cmd: ["promtool", "test", "rules", join(ROOT, "test", "prometheus", "watchtower-alerts.test.yml")] });
    expect(r.stdout.toString() + r.stderr.toString()).toContain("SUCCESS");
    expect(r.exitCode).toBe(0);
  });
});

describe.skipIf(!HAVE_PROM)("a real Prometheus scraping the running daemon", () => {
  const h = tempHome("awet-prom-");
  let daemon: Subprocess;
  let prom: Subprocess;
  let promUrl = "";
  beforeAll(async () => {
    const port = await freePort();
    daemon = spawn({ cmd: [process.execPath, join(ROOT, "src", "main.ts"), "start", "--home", h.home, "--port", String(port), "--speed", "max", "--replay", join(ROOT, "data", "minute", "IBM.csv")], stdout: "ignore", stderr: "ignore", env: { ...process.env, AWET_HOME: "" } });
    const promPort = await freePort();
    promUrl = `http://127.0.0.1:${promPort}`;
    cpSync(join(ROOT, "deploy", "prometheus", "alerts.yml"), join(h.home, "alerts.yml"));
    writeFileSync(join(h.home, "prom.yml"), `global: { scrape_interval: 1s, evaluation_interval: 1s }\nrule_files: [alerts.yml]\nscrape_configs:\n  - job_name: awet\n    static_configs: [{ targets: ["127.0.0.1:${port}"] }]\n`);
    prom = spawn({ cmd: ["prometheus", `--config.file=${join(h.home, "prom.yml")}`, `--storage.tsdb.path=${join(h.home, "tsdb")}`, `--web.listen-address=127.0.0.1:${promPort}`], stdout: "ignore", stderr: "ignore" });
    const deadline = Date.now() + 40_000;
    while (Date.now() < deadline) {
      try {
        const t = (await (await fetch(`${promUrl}/api/v1/targets`)).json()) as any;
        const up = t.data.activeTargets.find((x: any) => x.health === "up");
        const names = (await (await fetch(`${promUrl}/api/v1/label/__name__/values`)).json()) as any;
        if (up && names.data.includes("awet_orders_total")) break;
      } catch {}
      await Bun.sleep(300);
    }
  }, 60_000);
  afterAll(async () => {
    prom?.kill();
    daemon?.kill("SIGTERM");
    await Promise.all([prom?.exited, daemon?.exited]);
    h.cleanup();
  });

  test("every metric the alerts and dashboards use is exported by the daemon", async () => {
    const want = referencedMetrics();
    expect(want.length).toBeGreaterThanOrEqual(12);
    const have = new Set(((await (await fetch(`${promUrl}/api/v1/label/__name__/values`)).json()) as any).data as string[]);
    const missing = want.filter((m) => !have.has(m) && !have.has(`${m}_bucket`) && !have.has(m.replace(/_bucket$/, "_count")));
    expect(missing).toEqual([]);
  });

  test("every alert expression and dashboard query evaluates without error", async () => {
    const dash = JSON.parse(readFileSync(join(ROOT, "deploy", "grafana", "dashboards", "awet-overview.json"), "utf8"));
    const rules = (await (await fetch(`${promUrl}/api/v1/rules`)).json()) as any;
    const exprs: string[] = rules.data.groups.flatMap((g: any) => g.rules.map((r: any) => r.query));
    expect(exprs.length).toBe(11);
    for (const p of dash.panels) for (const t of p.targets ?? []) exprs.push(t.expr);
    for (const e of exprs) {
      const r = (await (await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(e)}`)).json()) as any;
      expect([e, r.status]).toEqual([e, "success"]);
    }
  });
});

describe.skipIf(!HAVE_COMPOSE)("compose.yml", () => {
  test("docker-compose config accepts it with an .env, and refuses to start without passwords", () => {
    const h = tempHome("awet-compose-");
    try {
      for (const f of ["compose.yml", "Dockerfile", ".env.example"]) cpSync(join(ROOT, f), join(h.home, f));
      cpSync(join(ROOT, "deploy"), join(h.home, "deploy"), { recursive: true });
      writeFileSync(join(h.home, ".env"), readFileSync(join(ROOT, ".env.example"), "utf8"));
      const bad = spawnSync({ cmd: ["docker-compose", "-f", "compose.yml", "config"], cwd: h.home });
      expect(bad.exitCode).not.toBe(0);
      expect(bad.stderr.toString()).toMatch(/set (POSTGRES|GRAFANA_ADMIN)_PASSWORD in \.env/);
      writeFileSync(join(h.home, ".env"), readFileSync(join(ROOT, ".env.example"), "utf8").replace("POSTGRES_PASSWORD=", "POSTGRES_PASSWORD=p").replace("GRAFANA_ADMIN_PASSWORD=", "GRAFANA_ADMIN_PASSWORD=g"));
      const ok = spawnSync({ cmd: ["docker-compose", "-f", "compose.yml", "config"], cwd: h.home });
      expect(ok.stderr.toString()).toBe("");
      expect(ok.exitCode).toBe(0);
      const text = ok.stdout.toString();
      for (const svc of ["timescaledb", "kafka", "schema-registry", "kafka-ui", "prometheus", "alertmanager", "grafana", "ollama", "awet", "awet-reconciler", "awet-eod"])
        expect(text).toContain(`  ${svc}:`);
      expect(text).not.toContain("admin/admin");
      expect(existsSync(join(ROOT, ".env"))).toBe(false);
    } finally {
      h.cleanup();
    }
  });
});
