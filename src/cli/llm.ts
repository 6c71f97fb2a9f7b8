import { UsageError } from "../core/errors";
import { loadTradeChain } from "../ops/chain";
import { renderTradeChain } from "../reports/chain";
import { renderLlmSummary } from "../reports/llm";
import { llmSummary } from "../ops/llm";
import type { LlmTraceFilter, LlmTraceRow } from "../store/port";
import { intFlag, parseArgs, type Parsed } from "./args";
import { GLOBAL_VALUE_FLAGS, out, settingsFrom, withStore } from "./common";
import { oneLine } from "../core/text";
import { isCalendarDate } from "../core/parse";

export const LLM_HELP = `Usage: awet llm last [-n 20] | follow [--interval 2] | summary [--date YYYY-MM-DD]
                [--agent A] [--model M] [--since ISO] [--status ok|error|skipped] [--json] [--home DIR]

  last      the latest traces, newest first
  follow    print new traces as they are stored (Ctrl-C to stop)
  summary   total calls, errors and rate, average and P95 latency, top agents and models
            (--date: that New York day; default: all traces)`;

export const CHAIN_HELP = `Usage: awet trade-chain --corr ID | --order ALPACA_ORDER_ID | --trade ID  [--json] [--detail] [--home DIR]

The timeline of one correlation id — audit events, LLM calls, the risk decision and the trade —
in time order, then the trade details and the LLM traces with prompt and response. --detail prints
prompts and responses whole. An unknown id says so and exits 1.`;

function filterFrom(p: Parsed): LlmTraceFilter {
  const f: LlmTraceFilter = {};
  if (p.flags.agent) f.agent = String(p.flags.agent);
  if (p.flags.model) f.model = String(p.flags.model);
  if (p.flags.status) {
    if (!["ok", "error", "skipped"].includes(String(p.flags.status))) throw new UsageError(`--status must be ok, error or skipped; got '${p.flags.status}'`);
    f.status = String(p.flags.status);
  }
  if (p.flags.since) {
    const t = Date.parse(String(p.flags.since));
    if (!Number.isFinite(t)) throw new UsageError(`--since must be an ISO time like 2026-01-16T08:00:00Z; got '${p.flags.since}'`);
    f.since = t;
  }
  return f;
}

function line(t: LlmTraceRow): string {
  const msgs = (t.request as { messages?: { content: string }[] } | null)?.messages;
  const prompt = (msgs?.[msgs.length - 1]?.content ?? "").replace(/\s+/g, " ").slice(0, 60);
  return `${new Date(t.ts).toISOString()} ${t.status === "ok" ? "🟢" : t.status === "error" ? "🔴" : "⚪"} ${t.agent_name} → ${t.model} ${Math.round(t.latency_ms ?? 0)}ms ${t.status}${t.error_message ? ` (${oneLine(t.error_message.slice(0, 60))})` : ""} | ${oneLine(prompt)}`;
}


export async function llmCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { bool: ["help", "json"], value: [...GLOBAL_VALUE_FLAGS, "n", "agent", "model", "since", "status", "date", "interval"] });
  const sub = p.positionals[0];
  if (p.flags.help || !sub) return out(LLM_HELP), p.flags.help ? 0 : 2;
  const f = filterFrom(p);
  return withStore(settingsFrom(p), async (store) => {
    if (sub === "last") {
      const rows = await store.listLlmTraces({ ...f, limit: intFlag(p, "n", 20, 1, 10_000) });
      if (p.flags.json) out(JSON.stringify(rows.map((r) => ({ ...r, ts: new Date(r.ts).toISOString() })), null, 2));
      else if (rows.length === 0) out("no LLM traces");
      else for (const r of rows) out(line(r));
      return 0;
    }
    if (sub === "summary") {
      let date: string | null = null;
      if (p.flags.date) {
        date = String(p.flags.date);
        if (!isCalendarDate(date)) throw new UsageError(`--date must be a calendar date YYYY-MM-DD; got '${date}'`);
      }
      const s = await llmSummary(store, date, { agent: f.agent, model: f.model });
      out(p.flags.json ? JSON.stringify(s, null, 2) : renderLlmSummary(s));
      return 0;
    }
    if (sub === "follow") {
      const every = intFlag(p, "interval", 2, 1, 3600);
      let after = (await store.listLlmTraces({ ...f, limit: 1 }))[0]?.id ?? 0;
      out(`following LLM traces (every ${every}s; Ctrl-C to stop)`);
      for (;;) {
        for (const r of await store.listLlmTraces({ ...f, afterId: after, limit: 1000 })) {
          out(p.flags.json ? JSON.stringify(r) : line(r));
          after = r.id;
        }
        await Bun.sleep(every * 1000);
      }
    }
    throw new UsageError(`awet llm: expected last, follow or summary; got '${sub}'`);
  });
}

export async function tradeChainCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { bool: ["help", "json", "detail"], value: [...GLOBAL_VALUE_FLAGS, "corr", "order", "trade"] });
  if (p.flags.help) return out(CHAIN_HELP), 0;
  const given = ["corr", "order", "trade"].filter((k) => p.flags[k] !== undefined);
  if (given.length !== 1) throw new UsageError("awet trade-chain: give exactly one of --corr, --order, --trade");
  const k = given[0]!;
  let q;
  if (k === "trade") {
    const id = Number(p.flags.trade);
    if (!Number.isInteger(id) || id < 1) throw new UsageError(`--trade must be a trade id (a whole number); got '${p.flags.trade}'`);
    q = { trade: id };
  } else q = k === "corr" ? { corr: String(p.flags.corr) } : { order: String(p.flags.order) };
  return withStore(settingsFrom(p), async (store) => {
    const c = await loadTradeChain(store, q);
    if (!c) {
      process.stderr.write(`no trade chain for --${k} ${oneLine(String(p.flags[k]))}: nothing is recorded under it\n`);
      return 1;
    }
    out(p.flags.json ? JSON.stringify(c, (_k, v) => v, 2) : renderTradeChain(c, Boolean(p.flags.detail)));
    return 0;
  });
}
