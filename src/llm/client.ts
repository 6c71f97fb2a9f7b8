import { Ollama } from "ollama";
import type { LlmConfig } from "../config/schema";
import { errorMessage } from "../core/errors";
import type { Logger } from "../obs/log";
import type { Metrics } from "../obs/metrics";
import { currentCorrelationId } from "./context";
import { configSecrets, redactDeep, redactText } from "./redact";

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

export interface LlmTrace {
  ts: number;
  correlation_id: string | null;
  agent_name: string;
  model: string;
  base_url: string;
  latency_ms: number;
  status: "ok" | "error" | "skipped";
  error_message: string | null;
  request: unknown;
  response: unknown;
  prompt_tokens: number | null;
  completion_tokens: number | null;
}

/** Where traces are stored (the Store's llm_traces table). */
export interface TraceSink {
  recordLlmTrace(t: LlmTrace): Promise<void>;
}

export interface ChatResult {
  ok: boolean;
  content: string | null;
  error: string | null;
  latency_ms: number;
  prompt_tokens: number | null;
  completion_tokens: number | null;
}

/**
 * LLMClient.chat over the `ollama` package with always-on tracing: every call, ok or error,
 * writes one LLM_TRACE log record (redacted previews) and, when trace_store_db, one llm_traces row
 * (redacted only when trace_redact_db). The correlation id comes from context.
 */
export class LLMClient {
  private ollama: Ollama;
  readonly baseUrl: string;

  constructor(
    private cfg: LlmConfig,
    private deps: { log: Logger; sink?: TraceSink; metrics?: Metrics; now?: () => number; secrets?: string[] },
  ) {
    this.baseUrl = cfg.base_url;
    const timeout = cfg.llm_timeout_ms;
    this.ollama = new Ollama({
      host: cfg.base_url,
      // Every request gets the configured deadline; past it the rule-based decision stands.
      fetch: ((input: any, init?: any) => fetch(input, { ...init, signal: AbortSignal.timeout(timeout) })) as typeof fetch,
    });
  }

  private secrets(): string[] {
    return [...configSecrets(), ...(this.deps.secrets ?? [])];
  }

  async chat(agent: string, messages: ChatMessage[], options: { format?: object; model?: string; temperature?: number } = {}): Promise<ChatResult> {
    const model = options.model ?? this.cfg.model;
    const request = { model, messages, format: options.format ?? null, options: { temperature: options.temperature ?? this.cfg.temperature } };
    const t0 = performance.now();
    let res: ChatResult;
    let response: unknown = null;
    try {
      const r = await this.ollama.chat({ model, messages, stream: false, ...(options.format ? { format: options.format } : {}), options: { temperature: request.options.temperature } });
      response = { content: r.message?.content ?? "", done_reason: r.done_reason ?? null };
      res = { ok: true, content: r.message?.content ?? "", error: null, latency_ms: performance.now() - t0, prompt_tokens: r.prompt_eval_count ?? null, completion_tokens: r.eval_count ?? null };
    } catch (e) {
      const msg = /time(d)? ?out|aborted/i.test(errorMessage(e)) ? `timeout after ${this.cfg.llm_timeout_ms} ms` : errorMessage(e);
      res = { ok: false, content: null, error: msg, latency_ms: performance.now() - t0, prompt_tokens: null, completion_tokens: null };
    }
    await this.trace(agent, model, request, response, res);
    return res;
  }

  /** Record a call that was not made (LLM disabled or unreachable), so the audit trail shows it. */
  async skipped(agent: string, request: unknown, why: string): Promise<void> {
    await this.trace(agent, this.cfg.model, request, null, { ok: false, content: null, error: why, latency_ms: 0, prompt_tokens: null, completion_tokens: null }, "skipped");
  }

  private async trace(agent: string, model: string, request: unknown, response: unknown, r: ChatResult, status?: "skipped"): Promise<void> {
    const st = status ?? (r.ok ? "ok" : "error");
    const secrets = this.secrets();
    this.deps.metrics?.llmCalls.inc({ agent, status: st });
    if (st !== "skipped") this.deps.metrics?.llmLatency.observe({ agent }, r.latency_ms / 1000);
    if (this.cfg.trace_enabled) {
      const cut = (x: unknown) => redactText(typeof x === "string" ? x : JSON.stringify(x ?? null), secrets).slice(0, this.cfg.trace_preview_chars);
      const rec = {
        agent_name: agent, model, latency_ms: Math.round(r.latency_ms * 100) / 100, status: st, correlation_id: currentCorrelationId(),
        request_preview: cut(request), response_preview: cut(response ?? r.error), error: r.error ? redactText(r.error, secrets) : undefined,
      };
      const lvl = this.cfg.trace_log_level === "DEBUG" ? "debug" : this.cfg.trace_log_level === "WARNING" ? "warn" : "info";
      this.deps.log[lvl](rec, "LLM_TRACE");
    }
    if (this.cfg.trace_store_db && this.deps.sink) {
      const red = this.cfg.trace_redact_db;
      await this.deps.sink.recordLlmTrace({
        ts: (this.deps.now ?? Date.now)(), correlation_id: currentCorrelationId(), agent_name: agent, model, base_url: this.baseUrl,
        latency_ms: Math.round(r.latency_ms * 100) / 100, status: st, error_message: r.error ? (red ? redactText(r.error, secrets) : r.error) : null,
        request: red ? redactDeep(request, secrets) : request, response: red ? redactDeep(response, secrets) : response,
        prompt_tokens: r.prompt_tokens, completion_tokens: r.completion_tokens,
      });
    }
  }

  /** GET /api/tags: is Ollama reachable? */
  async health(): Promise<{ ok: boolean; detail: string }> {
    try {
      const r = await this.ollama.list();
      return { ok: true, detail: `${r.models.length} model(s) at ${this.baseUrl}` };
    } catch (e) {
      return { ok: false, detail: `unreachable at ${this.baseUrl}: ${errorMessage(e)}` };
    }
  }
}
