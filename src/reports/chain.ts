import type { Bar } from "../core/events";
import type { AuditRow, LlmTraceRow, TradeRow } from "../store/port";
import { oneLine, terminalSafe } from "../core/text";

export interface ChainEntry {
  ts: number;
  kind: "BAR" | "AUDIT" | "LLM" | "RISK" | "TRADE" | "FILL" | "BLOCK";
  text: string;
}

export interface TradeChain {
  correlation_id: string;
  timeline: ChainEntry[];
  trades: TradeRow[];
  llm_traces: LlmTraceRow[];
  audit: AuditRow[];
  /** The market bar the chain started from (its market_bars row), when stored. */
  bar: Bar | null;
}

const promptOf = (t: LlmTraceRow) => {
  const msgs = (t.request as { messages?: { role: string; content: string }[] } | null)?.messages ?? [];
  return msgs.length ? msgs[msgs.length - 1]!.content : JSON.stringify(t.request);
};
const responseOf = (t: LlmTraceRow) => {
  const r = t.response as { content?: string } | null;
  return r?.content ?? (t.error_message ? `(${t.status}) ${t.error_message}` : JSON.stringify(r));
};

/** Everything recorded for one correlation id, in time order (runbook 10). Pure. */
export function buildTradeChain(correlationId: string, audit: AuditRow[], llm: LlmTraceRow[], trades: TradeRow[], bar: Bar | null = null): TradeChain {
  const tl: ChainEntry[] = [];
  if (bar) tl.push({ ts: bar.ts, kind: "BAR", text: `${bar.symbol} O ${bar.open} H ${bar.high} L ${bar.low} C ${bar.close} V ${bar.volume}` });
  for (const a of audit) {
    const p = a.payload as Record<string, any>;
    if (a.event_type === "risk.approved") tl.push({ ts: a.ts, kind: "RISK", text: `${a.symbol} APPROVED ${p.side} ${p.qty} | ${p.reason}` });
    else if (a.event_type === "risk.rejected") tl.push({ ts: a.ts, kind: "RISK", text: `${a.symbol} REJECTED (${p.reason}) | ${p.detail}` });
    else if (a.event_type === "execution.blocked") tl.push({ ts: a.ts, kind: "BLOCK", text: `${a.symbol} blocked: ${p.reason} | ${p.detail}` });
    else if (a.event_type === "audit" && p.event === "fill") tl.push({ ts: a.ts, kind: "FILL", text: `${p.side?.toUpperCase()} ${p.qty} ${a.symbol} filled @ ${p.price}${p.leg ? ` (${p.leg})` : ""}` });
    else tl.push({ ts: a.ts, kind: "AUDIT", text: `${a.event_type} ${a.symbol}${a.event_type === "predictions" ? ` p50=${Number(p.p50).toExponential(2)} signal=${p.signal}` : ""}` });
  }
  for (const t of llm) tl.push({ ts: t.ts, kind: "LLM", text: `${t.agent_name} → ${t.model} (${Math.round(t.latency_ms ?? 0)}ms) ${t.status} | ${promptOf(t).replace(/\s+/g, " ").slice(0, 60)}` });
  for (const t of trades) tl.push({ ts: t.ts, kind: "TRADE", text: `${t.side.toUpperCase()} ${t.qty} ${t.symbol} @ ${t.price ?? "-"} → ${t.status}${t.error_message ? ` (${t.error_message})` : ""}` });
  const order = { BAR: -1, AUDIT: 0, LLM: 1, RISK: 2, BLOCK: 3, TRADE: 3, FILL: 4 } as const;
  tl.sort((a, b) => a.ts - b.ts || order[a.kind] - order[b.kind]);
  return { correlation_id: correlationId, timeline: tl, trades, llm_traces: llm, audit, bar };
}

const icon = { BAR: "📈", AUDIT: "📝", LLM: "🟢", RISK: "✅", TRADE: "✅", FILL: "💰", BLOCK: "⛔" } as const;
const when = (ts: number) => new Date(ts).toISOString().replace("T", " ").replace("Z", "");

export function renderTradeChain(c: TradeChain, detail = false): string {
  const bar = "=".repeat(70);
  const out = [bar, " TRADE CHAIN TIMELINE", bar, "", `Correlation ID: ${c.correlation_id}`, ""];
  // Stored text (an LLM's reason, a broker's message) is one line here: a newline in it cannot
  // forge a timeline entry, an escape sequence cannot touch the terminal.
  for (const e of c.timeline) out.push(`  ${when(e.ts)}  ${e.kind === "LLM" && e.text.includes(" error ") ? "🔴" : icon[e.kind]} [${e.kind.padEnd(5)}] ${oneLine(e.text)}`);
  for (const t of c.trades) {
    out.push("", bar, " TRADE DETAILS", bar, "");
    out.push(`  Symbol:          ${t.symbol}`, `  Side:            ${t.side.toUpperCase()}`, `  Quantity:        ${t.qty}`);
    out.push(`  Status:          ${t.status}${t.status === "filled" ? " ✅" : ""}`, `  Fill Price:      ${t.avg_fill_price ?? "-"}`);
    out.push(`  Alpaca Order ID: ${t.alpaca_order_id ?? "-"}`, `  Client Order ID: ${t.client_order_id ?? "-"}`, `  Paper Trade:     ${t.paper_trade ? "True" : "False"}`);
    if (t.exit_reason) out.push(`  Exit Reason:     ${oneLine(t.exit_reason)}`);
    if (t.error_message) out.push(`  Reason:          ${oneLine(t.error_message)}`);
  }
  out.push("", bar, " LLM TRACES", bar, "");
  if (c.llm_traces.length === 0) out.push("  (none: the LLM was not called for this correlation id)");
  c.llm_traces.forEach((t, i) => {
    out.push(`  [${i + 1}] Agent: ${t.agent_name}`, `      Model:   ${t.model}`, `      Latency: ${Math.round(t.latency_ms ?? 0)}ms`, `      Status:  ${t.status} ${t.status === "ok" ? "🟢" : "🔴"}`, "");
    const p = promptOf(t);
    const r = responseOf(t);
    out.push("      PROMPT:", ...(detail ? p : p.slice(0, 400)).split("\n").map((l) => `      ${terminalSafe(l)}`), "");
    out.push("      RESPONSE:", ...(detail ? r : r.slice(0, 400)).split("\n").map((l) => `      ${terminalSafe(l)}`), "");
  });
  return out.join("\n");
}
