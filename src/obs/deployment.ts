import type { LagRecord } from "./lag";

/** One process of the deployment as its heartbeat row describes it. */
export interface Heartbeat {
  process_id: string;
  host: string;
  pid: number;
  /** Agents it runs (`awet start --agents`), e.g. ["ingestion", "features"]. */
  agents: string[];
  /** Its consumer groups and the topics each reads (Watchtower polls these on Kafka). */
  groups: { group: string; topics: string[] }[];
  version: string;
  bus: string;
  store: string;
  /** Where its HTTP face answers, when it has one. */
  url: string | null;
  started_at: number;
  last_beat: number;
}

export interface WatchConfig {
  /** A process whose last beat is older than this is stale. */
  heartbeatTimeoutMs: number;
  /** Lag above this on one partition ... */
  maxLag: number;
  /** ... for longer than this makes the deployment unhealthy. */
  lagGraceMs: number;
  /** Lag rows older than this are shown but not judged (their observer stopped). */
  lagFreshMs: number;
  /** Agents that must each have a live process. */
  expectedAgents: readonly string[];
}

export type ProblemKind = "process_stale" | "agent_missing" | "lag";

/** A condition that makes the deployment unhealthy; `key` identifies it across checks. */
export interface Problem {
  key: string;
  kind: ProblemKind;
  message: string;
  process_id?: string;
  agents?: string[];
  group?: string;
}

export interface ProcessView {
  process_id: string;
  host: string;
  pid: number;
  agents: string[];
  version: string;
  bus: string;
  store: string;
  url: string | null;
  status: "live" | "stale";
  started_at: string;
  last_beat: string;
  /** Wall seconds since its last beat. */
  age_s: number;
  /** Lag of its consumer groups (total, and per group/topic/partition). */
  lag_total: number;
  lag: { group: string; topic: string; partition: number; lag: number; above_since: string | null; observed_at: string }[];
}

export interface DeploymentView {
  healthy: boolean;
  checked_at: string;
  processes: ProcessView[];
  /** Per agent: the processes that run it, live and stale. */
  agents: Record<string, { live: string[]; stale: string[] }>;
  /** Total lag per consumer group (fresh rows only). */
  lag_total: Record<string, number>;
  problems: Problem[];
  /** Worth knowing, not unhealthy: e.g. a stale process whose agents run elsewhere. */
  warnings: string[];
}

const iso = (t: number) => new Date(t).toISOString();
const secs = (ms: number) => Math.round(ms / 100) / 10;

/**
 * The health of the whole deployment from the heartbeat rows and lag rows every process shares
 * through the store. Pure: rows, time and limits in, a verdict out. Unhealthy when an expected agent
 * has no live process (a stale process running it is named), or when a partition's lag has stayed
 * above the limit for longer than the grace period.
 */
export function evaluateDeployment(beats: readonly Heartbeat[], lag: readonly LagRecord[], now: number, cfg: WatchConfig): DeploymentView {
  const isLive = (h: Heartbeat) => now - h.last_beat <= cfg.heartbeatTimeoutMs;
  const sorted = [...beats].sort((a, b) => a.process_id.localeCompare(b.process_id));
  const agents: DeploymentView["agents"] = {};
  for (const a of cfg.expectedAgents) agents[a] = { live: [], stale: [] };
  for (const h of sorted) for (const a of h.agents) (agents[a] ??= { live: [], stale: [] })[isLive(h) ? "live" : "stale"].push(h.process_id);

  const fresh = lag.filter((r) => now - r.observed_at <= cfg.lagFreshMs);
  const lagTotal: Record<string, number> = {};
  for (const r of fresh) lagTotal[r.group] = (lagTotal[r.group] ?? 0) + r.lag;

  const processes: ProcessView[] = sorted.map((h) => {
    const mine = new Set(h.groups.map((g) => g.group));
    const rows = lag.filter((r) => mine.has(r.group)).sort((a, b) => a.group.localeCompare(b.group) || a.topic.localeCompare(b.topic) || a.partition - b.partition);
    return {
      process_id: h.process_id, host: h.host, pid: h.pid, agents: h.agents, version: h.version, bus: h.bus, store: h.store, url: h.url,
      status: isLive(h) ? "live" : "stale", started_at: iso(h.started_at), last_beat: iso(h.last_beat), age_s: secs(now - h.last_beat),
      lag_total: rows.filter((r) => now - r.observed_at <= cfg.lagFreshMs).reduce((s, r) => s + r.lag, 0),
      lag: rows.map((r) => ({ group: r.group, topic: r.topic, partition: r.partition, lag: r.lag, above_since: r.above_since === null ? null : iso(r.above_since), observed_at: iso(r.observed_at) })),
    };
  });

  const problems: Problem[] = [];
  const warnings: string[] = [];
  const missing = cfg.expectedAgents.filter((a) => agents[a]!.live.length === 0);
  // A stale process is a problem when it leaves an expected agent without a live process.
  for (const h of sorted.filter((x) => !isLive(x))) {
    const orphaned = h.agents.filter((a) => missing.includes(a));
    const age = `last beat ${secs(now - h.last_beat)} s ago (${iso(h.last_beat)}), pid ${h.pid} on ${h.host}`;
    if (orphaned.length)
      problems.push({ key: `stale:${h.process_id}`, kind: "process_stale", process_id: h.process_id, agents: orphaned, message: `process ${h.process_id} is stale: ${age}; no live process runs ${orphaned.join(", ")}` });
    else warnings.push(`process ${h.process_id} is stale (${age}); its agents run elsewhere`);
  }
  const named = new Set(problems.flatMap((p) => p.agents ?? []));
  for (const a of missing.filter((x) => !named.has(x)))
    problems.push({ key: `missing:${a}`, kind: "agent_missing", agents: [a], message: `no process runs the expected agent ${a}` });
  const over = new Map<string, LagRecord[]>();
  for (const r of fresh) if (r.above_since !== null && now - r.above_since > cfg.lagGraceMs) over.set(r.group, [...(over.get(r.group) ?? []), r]);
  for (const [group, rows] of [...over].sort(([a], [b]) => a.localeCompare(b))) {
    const worst = rows.reduce((m, r) => (r.lag > m.lag ? r : m));
    const since = Math.min(...rows.map((r) => r.above_since!));
    problems.push({
      key: `lag:${group}`, kind: "lag", group,
      message: `consumer group ${group} lags ${worst.lag} messages on ${worst.topic}[${worst.partition}] (limit ${cfg.maxLag}), above the limit for ${secs(now - since)} s (grace ${secs(cfg.lagGraceMs)} s)`,
    });
  }
  return { healthy: problems.length === 0, checked_at: iso(now), processes, agents, lag_total: lagTotal, problems, warnings };
}

/** What changed between two checks: conditions that turned bad and ones that recovered. */
export function diffProblems(before: readonly Problem[], after: readonly Problem[]): { turnedBad: Problem[]; recovered: Problem[] } {
  const was = new Set(before.map((p) => p.key));
  const is = new Set(after.map((p) => p.key));
  return { turnedBad: after.filter((p) => !was.has(p.key)), recovered: before.filter((p) => !is.has(p.key)) };
}
