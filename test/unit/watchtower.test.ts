import { describe, expect, test } from "bun:test";
import { diffProblems, evaluateDeployment, type Heartbeat, type WatchConfig } from "../../src/obs/deployment";
import { lagByGroup, partitionLag, trackLag, type LagRecord } from "../../src/obs/lag";
import { loadSettings } from "../../src/config";
import { checkWatchConfig } from "../../src/agents/watchtower";
import { tempHome } from "../helpers";

describe("partitionLag: offsets in, lag out", () => {
  test("lag is end minus committed, per partition, in partition order", () => {
    const rows = partitionLag("awet.Risk", "predictions", [{ partition: 1, offset: "40" }, { partition: 0, offset: "100" }], [{ partition: 1, high: "45", low: "0" }, { partition: 0, high: "100", low: "0" }]);
    expect(rows).toEqual([
      { group: "awet.Risk", topic: "predictions", partition: 0, committed: 100, end: 100, lag: 0 },
      { group: "awet.Risk", topic: "predictions", partition: 1, committed: 40, end: 45, lag: 5 },
    ]);
  });

  test("a partition with no committed offset (kafkajs reports -1, or omits it) counts everything still stored when the group reads from the beginning", () => {
    const ends = [{ partition: 0, high: "500", low: "120" }, { partition: 1, high: "7", low: "0" }, { partition: 2, high: "0", low: "0" }];
    const rows = partitionLag("g", "t", [{ partition: 0, offset: "-1" }], ends);
    expect(rows.map((r) => [r.partition, r.committed, r.lag])).toEqual([[0, null, 380], [1, null, 7], [2, null, 0]]);
    expect(partitionLag("g", "t", [], ends, "latest").map((r) => r.lag)).toEqual([0, 0, 0]);
  });

  test("a committed offset below the low watermark counts from the low mark; lag is never negative", () => {
    const rows = partitionLag("g", "t", [{ partition: 0, offset: 10 }, { partition: 1, offset: 900 }], [{ partition: 0, high: 300, low: 200 }, { partition: 1, high: 800, low: 0 }]);
    expect(rows.map((r) => r.lag)).toEqual([100, 0]);
  });

  test("lagByGroup sums a group's partitions and topics", () => {
    const rows = [...partitionLag("a", "t1", [], [{ partition: 0, high: 3, low: 0 }, { partition: 1, high: 4, low: 0 }]), ...partitionLag("a", "t2", [], [{ partition: 0, high: 5, low: 0 }]), ...partitionLag("b", "t1", [{ partition: 0, offset: 3 }], [{ partition: 0, high: 3, low: 0 }])];
    expect(lagByGroup(rows)).toEqual({ a: 12, b: 0 });
  });
});

describe("trackLag: when a partition went above the limit", () => {
  const row = (lag: number) => ({ group: "g", topic: "t", partition: 0, committed: 0, end: lag, lag });
  test("the first observation above the limit starts the clock, later ones keep it, one at or below resets it", () => {
    const a = trackLag([], [row(50)], 10, 1000, "p");
    expect(a[0]!.above_since).toBe(1000);
    const b = trackLag(a, [row(60)], 10, 2000, "p");
    expect(b[0]).toMatchObject({ above_since: 1000, observed_at: 2000, observed_by: "p" });
    const c = trackLag(b, [row(10)], 10, 3000, "p");
    expect(c[0]!.above_since).toBeNull();
    expect(trackLag(c, [row(11)], 10, 4000, "p")[0]!.above_since).toBe(4000);
  });
});

const S = 1000;
const cfg: WatchConfig = { heartbeatTimeoutMs: 10 * S, maxLag: 100, lagGraceMs: 60 * S, lagFreshMs: 20 * S, expectedAgents: ["ingestion", "features", "risk", "watchtower"] };
const hb = (id: string, agents: string[], lastBeat: number, groups: string[] = []): Heartbeat => ({
  process_id: id, host: "h", pid: 1, agents, groups: groups.map((g) => ({ group: g, topics: ["market.raw"] })), version: "t", bus: "memory", store: "sqlite", url: null, started_at: 0, last_beat: lastBeat,
});
const lagRec = (group: string, lag: number, aboveSince: number | null, observedAt: number): LagRecord => ({ group, topic: "market.raw", partition: 0, committed: 0, end: lag, lag, above_since: aboveSince, observed_at: observedAt, observed_by: "a" });

describe("evaluateDeployment", () => {
  const now = 1_000 * S;
  test("healthy when every expected agent has a live process and lag is within the limit", () => {
    const v = evaluateDeployment([hb("a", ["ingestion", "features", "watchtower"], now - 2 * S, ["awet.FeatureEngineering"]), hb("b", ["risk"], now - 9 * S, ["awet.Risk"])], [lagRec("awet.FeatureEngineering", 5, null, now - S)], now, cfg);
    expect(v.healthy).toBe(true);
    expect(v.problems).toEqual([]);
    expect(v.processes.map((p) => [p.process_id, p.status, p.age_s, p.lag_total])).toEqual([["a", "live", 2, 5], ["b", "live", 9, 0]]);
    expect(v.agents.risk).toEqual({ live: ["b"], stale: [] });
  });

  test("a stale process whose agents run nowhere else makes it unhealthy, naming the process and its agents", () => {
    const v = evaluateDeployment([hb("a", ["ingestion", "features", "watchtower"], now - S), hb("b", ["risk"], now - 11 * S)], [], now, cfg);
    expect(v.healthy).toBe(false);
    expect(v.processes.find((p) => p.process_id === "b")!.status).toBe("stale");
    expect(v.problems.map((p) => [p.key, p.kind, p.agents])).toEqual([["stale:b", "process_stale", ["risk"]]]);
    expect(v.problems[0]!.message).toContain("process b is stale: last beat 11 s ago");
    expect(v.problems[0]!.message).toContain("no live process runs risk");
  });

  test("a stale process whose agents run in another live process is only a warning", () => {
    const v = evaluateDeployment([hb("a", ["ingestion", "features", "risk", "watchtower"], now - S), hb("old", ["risk"], now - 500 * S)], [], now, cfg);
    expect(v.healthy).toBe(true);
    expect(v.warnings[0]).toContain("process old is stale");
  });

  test("an expected agent that no process runs at all is named", () => {
    const v = evaluateDeployment([hb("a", ["ingestion", "features"], now)], [], now, cfg);
    expect(v.problems.map((p) => p.key)).toEqual(["missing:risk", "missing:watchtower"]);
    expect(v.problems[0]!.message).toBe("no process runs the expected agent risk");
  });

  test("lag above the limit is unhealthy only once it has stayed there longer than the grace period, and only on fresh rows", () => {
    const beats = [hb("a", ["ingestion", "features", "risk", "watchtower"], now, ["awet.Risk"])];
    expect(evaluateDeployment(beats, [lagRec("awet.Risk", 500, now - 59 * S, now)], now, cfg).healthy).toBe(true);
    const v = evaluateDeployment(beats, [lagRec("awet.Risk", 500, now - 61 * S, now)], now, cfg);
    expect(v.problems.map((p) => p.key)).toEqual(["lag:awet.Risk"]);
    expect(v.problems[0]!.message).toContain("consumer group awet.Risk lags 500 messages on market.raw[0] (limit 100), above the limit for 61 s");
    // the observer stopped 21 s ago: shown, not judged (its own staleness is the problem then)
    expect(evaluateDeployment(beats, [lagRec("awet.Risk", 500, now - 500 * S, now - 21 * S)], now, cfg).healthy).toBe(true);
  });

  test("diffProblems: which conditions turned bad and which recovered", () => {
    const before = evaluateDeployment([hb("a", ["ingestion", "features", "watchtower"], now), hb("b", ["risk"], now - 20 * S)], [], now, cfg).problems;
    const after = evaluateDeployment([hb("a", ["ingestion", "features", "watchtower"], now)], [lagRec("x", 1000, 0, now)], now, { ...cfg, expectedAgents: ["ingestion"] }).problems;
    const d = diffProblems(before, after);
    expect(d.turnedBad.map((p) => p.key)).toEqual(["lag:x"]);
    expect(d.recovered.map((p) => p.key)).toEqual(["stale:b"]);
  });
});

describe("Watchtower config", () => {
  test("expected_agents takes agent names; an unknown one is named with the choices", () => {
    const h = tempHome();
    try {
      expect(loadSettings({ home: h.home, env: { AWET_EXPECTED_AGENTS: "ingestion, risk" } }).app.expected_agents).toEqual(["ingestion", "risk"]);
      expect(() => loadSettings({ home: h.home, env: { AWET_EXPECTED_AGENTS: "ingestion,riks" } })).toThrow(/AWET_EXPECTED_AGENTS: key 'expected_agents' has an unknown value "riks" \(choose from ingestion, features/);
      const bad = loadSettings({ home: h.home, env: { AWET_HEARTBEAT_INTERVAL_SECONDS: "10", AWET_HEARTBEAT_TIMEOUT_SECONDS: "10" } });
      expect(() => checkWatchConfig(bad)).toThrow(/heartbeat_timeout_seconds \(10\) must be greater than heartbeat_interval_seconds \(10\)/);
      expect(() => checkWatchConfig(loadSettings({ home: h.home, env: {} }))).not.toThrow();
    } finally {
      h.cleanup();
    }
  });
});
