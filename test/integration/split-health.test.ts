import { afterAll, describe, expect, test } from "bun:test";
import { spawn, type Subprocess } from "bun";
import { Database } from "bun:sqlite";
import { hostname } from "node:os";
import { join } from "node:path";
import { ROOT, readDaemon, tempHome } from "../helpers";

/**
 * Two real daemons (`awet start --agents ...`) sharing one home, so one SQLite store, each with
 * its own HTTP port: every process's heartbeat lands in the shared store and either /health
 * judges the whole deployment. Short heartbeat settings keep it quick; every wait is a poll with
 * a deadline, never a fixed sleep that an assertion depends on.
 */
const h = tempHome("awet-split-health-");
const env = {
  ...process.env, AWET_HOME: "", AWET_HTTP_PORT: "", LLM_ENABLED: "false",
  AWET_HEARTBEAT_INTERVAL_SECONDS: "1", AWET_HEARTBEAT_TIMEOUT_SECONDS: "3", AWET_WATCHTOWER_INTERVAL_SECONDS: "1",
};
const A = ["ingestion", "features", "watchtower"];
const B = ["prediction", "risk", "execution", "exit"];
const idOf = (agents: string[]) => `${hostname()}:${agents.join(",")}`;
const procs: Subprocess<"ignore", "pipe", "pipe">[] = [];

async function startDaemon(agents: string[]): Promise<{ proc: Subprocess<"ignore", "pipe", "pipe">; base: string }> {
  const proc = spawn({ cmd: [process.execPath, join(ROOT, "src", "main.ts"), "start", "--home", h.home, "--port", "0", "--no-replay", "--agents", agents.join(",")], stdout: "pipe", stderr: "pipe", stdin: "ignore", env });
  procs.push(proc);
  const { output, base } = await readDaemon(proc.stdout, (out) => /health\s+http:\/\/127\.0\.0\.1:\d+\/health/.test(out), { drain: true });
  if (!base) throw new Error(`daemon ${agents.join(",")} did not start: ${output} ${await new Response(proc.stderr).text()}`);
  return { proc, base };
}

async function health(base: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}/health`);
  return { status: res.status, body: await res.json() };
}

/** Poll until `ok(result)`, or fail with the last result once the deadline passes. */
async function until<T>(what: string, f: () => Promise<T>, ok: (x: T) => boolean, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: T = await f();
  while (!ok(last)) {
    if (Date.now() > deadline) throw new Error(`${what}: still not so after ${ms} ms: ${JSON.stringify(last).slice(0, 2000)}`);
    await Bun.sleep(200);
    last = await f();
  }
  return last;
}

afterAll(async () => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
  await Promise.all(procs.map((p) => p.exited));
  h.cleanup();
});

describe("a deployment split across two daemons sharing one store", () => {
  test("kill -9 one: the other's /health turns 503 naming the stale process and its agents; restart it: 200 again", async () => {
    const a = await startDaemon(A);
    let b = await startDaemon(B);

    // both alive: either /health lists both processes, live, with their agents, and is 200
    const ok = await until("both live", () => health(a.base), (x) => x.status === 200 && x.body.deployment?.processes?.length === 2);
    expect(ok.body.deployment.processes.map((p: any) => [p.process_id, p.status, p.agents])).toEqual([[idOf(A), "live", A], [idOf(B), "live", B]].sort());
    expect(ok.body.deployment.processes.every((p: any) => typeof p.last_beat === "string" && typeof p.lag_total === "number")).toBe(true);
    expect(Object.keys(ok.body.agents)).toEqual(["DataIngestion", "FeatureEngineering", "Watchtower"]);
    expect((await health(b.base)).status).toBe(200);
    // the dashboard's route answers in any process; only A runs the watchtower agent
    const wb = (await (await fetch(`${b.base}/api/watchtower`)).json()) as any;
    expect(wb.watchtower).toEqual({ runs_here: false });
    expect(wb.processes.map((p: any) => p.process_id)).toEqual([idOf(A), idOf(B)].sort());
    expect(wb.limits).toMatchObject({ heartbeat_timeout_seconds: 3, expected_agents: ["ingestion", "features", "prediction", "risk", "execution", "exit", "watchtower"] });

    // kill -9 B: no clean stop, its row stays and ages; A's /health names it within the timeout
    const deadPid = b.proc.pid;
    b.proc.kill("SIGKILL");
    await b.proc.exited;
    const bad = await until("503 after kill -9", () => health(a.base), (x) => x.status === 503);
    expect(bad.body.status).toBe("unhealthy");
    const stale = bad.body.deployment.processes.find((p: any) => p.process_id === idOf(B));
    expect(stale).toMatchObject({ status: "stale", agents: B, pid: deadPid });
    expect(bad.body.deployment.problems).toEqual([expect.objectContaining({ kind: "process_stale", process_id: idOf(B), agents: B })]);
    expect(bad.body.deployment.problems[0].message).toContain(`process ${idOf(B)} is stale`);
    expect(bad.body.deployment.problems[0].message).toContain("no live process runs prediction, risk, execution, exit");

    // `awet health` reads the store itself: exit 1, the deployment check names the stale process
    const cli = spawn({ cmd: [process.execPath, join(ROOT, "src", "main.ts"), "health", "--json", "--url", a.base, "--home", h.home], stdout: "pipe", stderr: "pipe", env });
    const [out, code] = await Promise.all([new Response(cli.stdout).text(), cli.exited]);
    expect(code).toBe(1);
    const dep = JSON.parse(out).checks.find((c: any) => c.name === "deployment");
    expect(dep.ok).toBe(false);
    expect(dep.verdict).toContain(`process ${idOf(B)} is stale`);
    expect(dep.processes.map((p: any) => [p.process_id, p.status])).toEqual([[idOf(A), "live"], [idOf(B), "stale"]].sort());

    // Watchtower recorded the change in the audit trail (in its own round, which may come after the
    // request above saw the stale heartbeat: /health judges on each request)
    const w = await until("stale change audited", async () => (await (await fetch(`${a.base}/api/watchtower`)).json()) as any,
      (x: any) => x.watchtower.changes.some((c: any) => c.state === "bad" && c.condition === `stale:${idOf(B)}`));
    expect(w.watchtower.runs_here).toBe(true);
    expect(w.watchtower.changes.map((c: any) => [c.state, c.condition])).toContainEqual(["bad", `stale:${idOf(B)}`]);

    // restart B: same process id, new pid; health returns to 200
    b = await startDaemon(B);
    const back = await until("200 after restart", () => health(a.base), (x) => x.status === 200);
    const live = back.body.deployment.processes.find((p: any) => p.process_id === idOf(B));
    expect(live.status).toBe("live");
    expect(live.pid).toBe(b.proc.pid);
    expect(live.pid).not.toBe(deadPid);
    await until("recovery audited", async () => ((await (await fetch(`${a.base}/api/watchtower`)).json()) as any).watchtower.changes.map((c: any) => c.state), (s: string[]) => s.includes("recovered"));

    // and the other way round: kill -9 the Watchtower's process, B's own /health names it
    a.proc.kill("SIGKILL");
    await a.proc.exited;
    const badB = await until("B sees A stale", () => health(b.base), (x) => x.status === 503);
    expect(badB.body.deployment.problems[0]).toMatchObject({ kind: "process_stale", process_id: idOf(A), agents: A });

    // a clean stop removes the process's own heartbeat row
    b.proc.kill("SIGTERM");
    expect(await b.proc.exited).toBe(0);
    const db = new Database(join(h.home, ".awet", "awet.db"), { readonly: true });
    try {
      expect((db.query("SELECT process_id FROM process_heartbeats ORDER BY process_id").all() as any[]).map((r) => r.process_id)).toEqual([idOf(A)]);
    } finally {
      db.close();
    }
  }, 120_000);
});
