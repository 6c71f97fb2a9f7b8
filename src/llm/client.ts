import { Ollama } from "ollama";
import type { LlmConfig } from "../config/schema";
import { errorMessage } from "../core/errors";
import type { Logger } from "../obs/log";
import type { Metrics } from "../obs/metrics";
import { currentCorrelationId } from "./context";
import { redactDeep, redactText } from "./redact";
import { safeUrl } from "../core/url";

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

/** Stored traces keep at most this many characters of an answer, with its full size beside it. */
export const TRACE_CONTENT_CHARS = 8000;

/** An answer body larger than the configured bound: reading stopped there. */
export class AnswerTooLarge extends Error {
  constructor(
    readonly limit: number,
    readonly bytesRead: number,
  ) {
    super(`answer over ${limit} bytes (max_answer_bytes): not read further, rule decision stands`);
  }
}

/**
 * The response with a body that errors once more than `max` bytes have arrived (a declared
 * Content-Length over it fails before reading), so a hostile answer costs at most `max` bytes of
 * memory and parsing.
 */
export function boundBody(res: Response, max: number): Response {
  const declared = Number(res.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > max) {
    void res.body?.cancel().catch(() => undefined);
    throw new AnswerTooLarge(max, 0);
  }
  if (!res.body) return res;
  const reader = res.body.getReader();
  let n = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(ctl) {
      const r = await reader.read();
      if (r.done) return ctl.close();
      n += r.value.byteLength;
      if (n > max) {
        void reader.cancel().catch(() => undefined);
        return ctl.error(new AnswerTooLarge(max, n));
      }
      ctl.enqueue(r.value);
    },
    cancel: (why) => reader.cancel(why),
  });
  return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
}

/** What a stored trace keeps of an answer: the text cut to TRACE_CONTENT_CHARS, and its real size. */
export function traceContent(content: string): { content: string; content_chars: number; truncated: boolean } {
  return { content: content.slice(0, TRACE_CONTENT_CHARS), content_chars: content.length, truncated: content.length > TRACE_CONTENT_CHARS };
}

/**
 * LLMClient.chat over the `ollama` package with always-on tracing: every call, ok or error,
 * writes one LLM_TRACE log record (redacted previews) and, when trace_store_db, one llm_traces row
 * (redacted only when trace_redact_db). The correlation id comes from context.
 *
 * An answer is untrusted input: its body is read up to max_answer_bytes and no further, and one
 * deadline (llm_timeout_ms) covers the request, the body and the parse. Redaction is linear and
 * runs on bounded text, so a hostile answer cannot hold the event loop (the control API answers).
 */
export class LLMClient {
  private ollama: Ollama;
  /** The Ollama URL without any user:password in it (printed, stored with traces). */
  readonly baseUrl: string;

  constructor(
    private cfg: LlmConfig,
    private deps: { log: Logger; sink?: TraceSink; metrics?: Metrics; now?: () => number; secrets?: readonly string[] },
  ) {
    this.baseUrl = safeUrl(cfg.base_url);
    const timeout = cfg.llm_timeout_ms;
    const max = cfg.max_answer_bytes;
    this.ollama = new Ollama({
      host: cfg.base_url,
      // Every request gets the configured deadline; past it the rule-based decision stands. The
      // same signal aborts reading the body.
      fetch: (async (input: any, init?: any) => boundBody(await fetch(input, { ...init, signal: AbortSignal.timeout(timeout) }), max)) as typeof fetch,
    });
  }

  /** Values redacted from every trace and error: the config's secrets (Settings.secrets), given by whoever builds the client. */
  secrets(): readonly string[] {
    return this.deps.secrets ?? [];
  }

  async chat(agent: string, messages: ChatMessage[], options: { format?: object; model?: string; temperature?: number } = {}): Promise<ChatResult> {
    const model = options.model ?? this.cfg.model;
    const request = { model, messages, format: options.format ?? null, options: { temperature: options.temperature ?? this.cfg.temperature } };
    const t0 = performance.now();
    let res: ChatResult;
    let response: unknown = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error("timeout")), this.cfg.llm_timeout_ms)));
    try {
      const call = this.ollama.chat({ model, messages, stream: false, ...(options.format ? { format: options.format } : {}), options: { temperature: request.options.temperature } });
      call.catch(() => undefined); // settled later than the deadline: nobody waits for it
      const r = await Promise.race([call, deadline]);
      const content = typeof r.message?.content === "string" ? r.message.content : "";
      response = { ...traceContent(content), done_reason: r.done_reason ?? null };
      res = { ok: true, content, error: null, latency_ms: performance.now() - t0, prompt_tokens: r.prompt_eval_count ?? null, completion_tokens: r.eval_count ?? null };
    } catch (e) {
      if (e instanceof AnswerTooLarge) response = { content: null, content_bytes_read: e.bytesRead, truncated: true };
      const msg = e instanceof AnswerTooLarge ? e.message : /time(d)? ?out|aborted/i.test(errorMessage(e)) ? `timeout after ${this.cfg.llm_timeout_ms} ms` : errorMessage(e).slice(0, 500);
      res = { ok: false, content: null, error: msg, latency_ms: performance.now() - t0, prompt_tokens: null, completion_tokens: null };
    } finally {
      clearTimeout(timer);
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
      return { ok: false, detail: `unreachable at ${this.baseUrl}: ${redactText(errorMessage(e), this.secrets()).slice(0, 300)}` };
    }
  }
}
