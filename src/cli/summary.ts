import type { RunSummary } from "../agents/supervisor";

const n = (x: number) => x.toLocaleString("en-US");
const reasons = (m: Record<string, number>) =>
  Object.entries(m)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([k, v]) => `${k}=${n(v)}`)
    .join(" ");

/** The JSON form of a run summary: stable keys, documented in the README. */
export function summaryJson(s: RunSummary) {
  return {
    run_id: s.run_id,
    bars_read: s.bars_read,
    bars_processed: s.bars_processed,
    bars_rejected: s.bars_rejected,
    rejected_by_reason: s.rejected_by_reason,
    predictions: s.predictions,
    intents: s.intents,
    exit_signals: s.exit_signals,
    risk_rejected: s.risk_rejected,
    risk_rejected_by_reason: s.risk_rejected_by_reason,
    orders_submitted: s.orders_submitted,
    orders_blocked: s.orders_blocked,
    blocked_by_reason: s.blocked_by_reason,
    orders_rejected: s.orders_rejected,
    fills: s.fills,
    handler_errors: s.handler_errors,
    elapsed_ms: s.elapsed_ms,
    bars_per_sec: s.bars_per_sec,
  };
}

export function summaryText(s: RunSummary): string {
  const lines = [
    `Replay summary (run ${s.run_id})`,
    `  bars read         ${n(s.bars_read)}`,
    `  bars processed    ${n(s.bars_processed)}`,
    `  bars rejected     ${n(s.bars_rejected)}${s.bars_rejected ? "   " + reasons(s.rejected_by_reason) : ""}`,
    `  predictions       ${n(s.predictions)}`,
    `  risk rejected     ${n(s.risk_rejected)}${s.risk_rejected ? "   " + reasons(s.risk_rejected_by_reason) : ""}`,
    `  order intents     ${n(s.intents)} entries, ${n(s.exit_signals)} exits`,
    `  orders submitted  ${n(s.orders_submitted)}`,
    `  orders blocked    ${n(s.orders_blocked)}${s.orders_blocked ? "   " + reasons(s.blocked_by_reason) : ""}`,
    `  orders rejected   ${n(s.orders_rejected)}`,
    `  fills             ${n(s.fills)}`,
    `  handler errors    ${n(s.handler_errors)}`,
    `  elapsed           ${n(s.elapsed_ms)} ms (${n(s.bars_per_sec)} bars/s)`,
  ];
  const accounted = s.bars_processed + s.bars_rejected === s.bars_read;
  lines.push(`  every bar accounted for: ${accounted ? "yes" : "NO"} (processed + rejected ${accounted ? "=" : "!="} read)`);
  return lines.join("\n");
}
