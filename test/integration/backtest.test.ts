import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "bun";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, tempHome } from "../helpers";
import { SqliteStore } from "../../src/store/sqlite";
import { runsRoutes } from "../../src/server/runs";
import { equityCurve } from "../../src/ops/runs";

const awet = (args: string[], env: Record<string, string> = {}) => {
  const p = spawnSync({ cmd: [process.execPath, join(ROOT, "src", "main.ts"), ...args], env: { ...process.env, AWET_HOME: "", ...env }, stdout: "pipe", stderr: "pipe" });
  return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() };
};

// IBM's bundled minute bars under a ticker that config/app.yaml does not list.
const h = tempHome("awet-bt-");
const xyz = join(h.home, "data", "XYZ.csv");
const two = join(h.home, "data2");
const paper = { AWET_EXECUTION_DRY_RUN: "false" };

beforeAll(() => {
  mkdirSync(join(h.home, "data"), { recursive: true });
  mkdirSync(two, { recursive: true });
  writeFileSync(xyz, readFileSync(join(ROOT, "data", "minute", "IBM.csv"), "utf8").replace(/,IBM,/g, ",XYZ,"));
  writeFileSync(join(two, "XYZ.csv"), readFileSync(xyz));
  writeFileSync(join(two, "SPY.csv"), readFileSync(join(ROOT, "data", "minute", "SPY.csv")));
  mkdirSync(join(h.home, ".tmp"), { recursive: true });
  writeFileSync(join(h.home, ".tmp", "APPROVE_EXECUTION"), "");
});
afterAll(() => h.cleanup());

describe("awet replay as a backtest", () => {
  let runA = "";

  test("trades the file's own symbol, prints results, stores the run with hashes and config", () => {
    const r = awet(["replay", xyz, "--json", "--label", "base", "--home", h.home], paper);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out);
    expect(s.symbols).toEqual(["XYZ"]);
    expect(s.rejected_by_reason).toEqual({});
    expect(s.bars_processed).toBe(2_566);
    expect(s.fills).toBeGreaterThan(0);
    for (const k of ["return_pct", "win_rate", "realized_pnl_usd", "by_symbol", "max_drawdown", "sharpe", "sortino", "ratio_basis", "profit_factor", "avg_holding_minutes", "exposure_pct", "costs", "benchmark", "equity_curve"])
      expect(s.results).toHaveProperty(k);
    expect(s.results.trades).toBeGreaterThan(0);
    expect(s.results.benchmark.return_pct).toBeCloseTo((186.19 / 183.86 - 1) * 100, 3); // first close to last close of the file
    runA = s.run_id;

    const show = JSON.parse(awet(["runs", "show", runA, "--json", "--home", h.home]).out);
    expect(show.id).toBe(runA);
    expect(show.label).toBe("base");
    expect(show.data_files).toEqual([{ path: xyz, sha256: createHash("sha256").update(readFileSync(xyz)).digest("hex"), bytes: readFileSync(xyz).length }]);
    expect(show.config.app.symbols).toEqual(["XYZ"]);
    expect(show.config.app.execution_dry_run).toBe(false);
    expect(show.config_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(show.code_version).toContain("0.1.0");
    expect(show.results).toEqual(s.results);
    expect(Date.parse(show.finished_at)).toBeGreaterThanOrEqual(Date.parse(show.started_at));
    // the realized PnL is the FIFO of this run's filled trade rows
    const text = awet(["runs", "show", runA, "--home", h.home]).out;
    expect(text).toContain("max drawdown");
    expect(text).toContain("buy and hold XYZ");
  });

  test("--symbols narrows; the left-out symbol's bars are rejected with a hint how to include them", () => {
    const r = awet(["replay", two, "--symbols", "XYZ", "--json", "--home", h.home]);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out);
    expect(s.symbols).toEqual(["XYZ"]);
    expect(s.rejected_by_reason).toEqual({ unknown_symbol: 4_839 });
    const unknown = s.hints.find((x: string) => x.includes("unknown_symbol"));
    expect(unknown).toContain("4,839 bars of SPY rejected as unknown_symbol");
    expect(unknown).toContain("--symbols XYZ,SPY");
    // the first run's orders are in this home at the same market times: said, not hidden
    expect(s.hints[0]).toMatch(/^this home already held \d+ orders of earlier runs in this period/);
    expect(s.results.by_symbol.map((b: { symbol: string }) => b.symbol)).toEqual(["XYZ"]);
    expect(s.hints.join(" ")).toContain("execution_dry_run"); // this run had no paper env: flat, and says why
    expect(s.results.return_pct).toBe(0);
  });

  test("--from/--to replay only that range; a changed key shows in compare", () => {
    const r = awet(["replay", xyz, "--from", "2013-10-08", "--to", "2013-10-09", "--json", "--home", h.home], { ...paper, AWET_TAKE_PROFIT_PCT: "0.5" });
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out);
    expect(s.results.period.from.slice(0, 10)).toBe("2013-10-08");
    expect(s.results.period.to.slice(0, 10)).toBe("2013-10-09");
    expect(s.results.period.trading_days).toBe(2);
    expect(s.bars_outside_range + s.bars_read).toBe(2_566);
    const c = awet(["runs", "compare", runA, s.run_id, "--json", "--home", h.home]);
    expect(c.code).toBe(0);
    const cmp = JSON.parse(c.out);
    expect(cmp.config_differences).toContainEqual({ key: "app.take_profit_pct", a: 1, b: 0.5 });
    expect(cmp.config_differences).toContainEqual({ key: "replay.range", a: [null, null], b: ["2013-10-08", "2013-10-09"] });
    expect(cmp.data_same).toBe(true);
    expect(cmp.results.find((x: { figure: string }) => x.figure === "return_pct")).toEqual({ figure: "return_pct", a: expect.any(Number), b: s.results.return_pct, diff: expect.any(Number) });
    const list = JSON.parse(awet(["runs", "list", "--json", "--home", h.home]).out);
    expect(list.runs.map((x: { id: string }) => x.id)[0]).toBe(s.run_id);
    expect(list.runs.length).toBe(3);
    expect(awet(["runs", "compare", runA, s.run_id, "--home", h.home]).out).toContain("take_profit_pct");
  });

  test("plot writes an SVG and a PNG of the equity curve", () => {
    const svg = join(h.home, "eq.svg"), png = join(h.home, "eq.png");
    expect(awet(["runs", "plot", runA, "--out", svg, "--home", h.home]).code).toBe(0);
    const text = readFileSync(svg, "utf8");
    expect(text.startsWith("<svg")).toBe(true);
    expect(text).toContain("buy &amp; hold");
    expect(awet(["runs", "plot", runA, "--out", png, "--home", h.home]).code).toBe(0);
    const b = readFileSync(png);
    expect([...b.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(b.readUInt32BE(16)).toBe(1920); // 960 × 2
  });

  test("bad input: one line naming the value, exit 2, nothing written", () => {
    const fresh = tempHome();
    try {
      const cases: [string[], string][] = [
        [["replay", xyz, "--symbols", "XYZ,NOPE"], "NOPE"],
        [["replay", xyz, "--from", "2013-10-09", "--to", "2013-10-08"], "--from 2013-10-09 is after --to 2013-10-08"],
        [["replay", xyz, "--from", "2014-01-01"], "2014-01-01"],
        [["replay", xyz, "--to", "2013-13-45"], "'2013-13-45'"],
      ];
      for (const [args, named] of cases) {
        const r = awet([...args, "--home", fresh.home]);
        expect({ args, code: r.code }).toEqual({ args, code: 2 });
        expect(r.err).toContain(named);
        expect(r.err.trim().split("\n").length).toBe(1);
        expect(r.out).toBe("");
      }
      expect(readdirSync(fresh.home)).toEqual([]);
    } finally {
      fresh.cleanup();
    }
  });

  test("an unknown run id: exit 2 naming it, nothing written", () => {
    const fresh = tempHome();
    try {
      for (const args of [["runs", "show", "nosuchrun"], ["runs", "plot", "nosuchrun", "--out", join(fresh.home, "x.png")]]) {
        const r = awet([...args, "--home", fresh.home]);
        expect(r.code).toBe(2);
        expect(r.err.trim()).toBe(`awet runs: no run 'nosuchrun' (\`awet runs list\` shows the stored runs)`);
      }
      expect(readdirSync(fresh.home)).toEqual([]);
      // in a home that has runs: still exit 2, and no file
      const r = awet(["runs", "plot", "nosuchrun", "--out", join(h.home, "none.svg"), "--home", h.home]);
      expect(r.code).toBe(2);
      expect(existsSync(join(h.home, "none.svg"))).toBe(false);
      expect(awet(["runs", "compare", runA, "nosuchrun", "--home", h.home]).err).toContain("'nosuchrun'");
    } finally {
      fresh.cleanup();
    }
  });

  test("GET /api/runs, /api/runs/:id and the equity curve the dashboard draws", async () => {
    const store = new SqliteStore(join(h.home, ".awet", "awet.db"));
    await store.migrate();
    try {
      const app = runsRoutes(store);
      const get = async (path: string) => {
        const res = await app.handle(new Request(`http://localhost${path}`));
        return { status: res.status, body: (await res.json()) as any };
      };
      const list = await get("/api/runs?limit=2");
      expect(list.status).toBe(200);
      expect(list.body.count).toBe(2);
      const one = await get(`/api/runs/${runA}`);
      expect(one.status).toBe(200);
      expect(one.body.label).toBe("base");
      expect(one.body.results.equity_curve.length).toBeGreaterThan(10);
      const eq = await get(`/api/runs/${runA}/equity`);
      expect(eq.body).toEqual(JSON.parse(JSON.stringify(await equityCurve(store, runA))));
      expect(eq.body.points[0]).toEqual({ time: expect.any(String), t: expect.any(Number), equity_usd: 100_000, benchmark_usd: 100_000 });
      expect((await get("/api/runs/nope")).status).toBe(404);
      expect((await get("/api/runs/nope")).body.message).toContain("'nope'");
      expect((await get("/api/runs?limit=0")).status).toBe(400);
    } finally {
      await store.close();
    }
  });
});
