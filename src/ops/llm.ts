import { summarizeLlm, type LlmSummary } from "../reports/llm";
import type { Store } from "../store/port";
import { dayBounds } from "./pnl";

/**
 * The LLM summary (runbook: `awet llm summary`, GET /api/llm/summary), shared by the CLI and REST:
 * the store selects the New York day's traces (its time bounds, DST-safe); nothing is filtered here.
 */
export async function llmSummary(store: Store, date: string | null, filter: { agent?: string; model?: string } = {}): Promise<LlmSummary> {
  const bounds = date ? dayBounds(date) : null;
  const rows = await store.listLlmTraces({ ...filter, ...(bounds ? { since: bounds.start, until: bounds.end } : {}), limit: 1_000_000 });
  return summarizeLlm(rows, date);
}
