import type { LlmTraceRow } from "../store/port";

export interface LlmSummary {
  date: string | null;
  total_calls: number;
  errors: number;
  error_rate: number;
  skipped: number;
  avg_latency_ms: number | null;
  p95_latency_ms: number | null;
  prompt_tokens: number;
  completion_tokens: number;
  top_agents: { name: string; calls: number }[];
  top_models: { name: string; calls: number }[];
}

const top = (xs: string[]) => {
  const m = new Map<string, number>();
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
  return [...m].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 5).map(([name, calls]) => ({ name, calls }));
};

/** The runbook's daily LLM summary over a set of traces (skipped calls are counted apart). Pure. */
export function summarizeLlm(traces: LlmTraceRow[], date: string | null = null): LlmSummary {
  const made = traces.filter((t) => t.status !== "skipped");
  const lat = made.map((t) => t.latency_ms ?? 0).sort((a, b) => a - b);
  const errors = made.filter((t) => t.status === "error").length;
  return {
    date,
    total_calls: made.length,
    errors,
    error_rate: made.length ? errors / made.length : 0,
    skipped: traces.length - made.length,
    avg_latency_ms: lat.length ? lat.reduce((a, b) => a + b, 0) / lat.length : null,
    p95_latency_ms: lat.length ? lat[Math.min(lat.length - 1, Math.ceil(0.95 * lat.length) - 1)]! : null,
    prompt_tokens: made.reduce((a, t) => a + (t.prompt_tokens ?? 0), 0),
    completion_tokens: made.reduce((a, t) => a + (t.completion_tokens ?? 0), 0),
    top_agents: top(made.map((t) => t.agent_name)),
    top_models: top(made.map((t) => t.model)),
  };
}

export function renderLlmSummary(s: LlmSummary): string {
  const f = (x: number | null) => (x === null ? "-" : `${Math.round(x)} ms`);
  return [
    "╔══════════════════════════════════════════════════════╗",
    "║               LLM Daily Summary                      ║",
    "╚══════════════════════════════════════════════════════╝",
    ` Date:          ${s.date ?? "all"}`,
    ` Total Calls:   ${s.total_calls}${s.skipped ? ` (+${s.skipped} skipped while the LLM was unreachable or off)` : ""}`,
    ` Errors:        ${s.errors} (${(s.error_rate * 100).toFixed(1)}%)`,
    ` Avg Latency:   ${f(s.avg_latency_ms)}`,
    ` P95 Latency:   ${f(s.p95_latency_ms)}`,
    ` Tokens:        ${s.prompt_tokens} prompt, ${s.completion_tokens} completion`,
    ` Top Agents:    ${s.top_agents.map((a) => `${a.name} (${a.calls})`).join(", ") || "-"}`,
    ` Top Models:    ${s.top_models.map((a) => `${a.name} (${a.calls})`).join(", ") || "-"}`,
  ].join("\n");
}
