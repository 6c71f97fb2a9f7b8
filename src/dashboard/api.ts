import { takeSseEvents } from "./sse";
/**
 * Talking to the daemon: same origin only. The bearer token lives in sessionStorage (this tab,
 * gone when it closes), never in a URL or a cookie; it is sent on every request when present.
 */
const KEY = "awet.api_token";

export const token = {
  get: (): string | null => sessionStorage.getItem(KEY),
  set: (t: string) => sessionStorage.setItem(KEY, t),
  clear: () => sessionStorage.removeItem(KEY),
};

export class HttpError extends Error {
  constructor(readonly status: number, readonly body: { error?: string; message?: string; field?: string } | null) {
    super(`${status}${body?.message ? `: ${body.message}` : ""}`);
  }
}

function headers(json = false): Record<string, string> {
  const h: Record<string, string> = { accept: "application/json" };
  const t = token.get();
  if (t) h.authorization = `Bearer ${t}`;
  if (json) h["content-type"] = "application/json";
  return h;
}

async function parse(res: Response): Promise<unknown> {
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = { message: text.slice(0, 200) };
  }
  if (!res.ok) throw new HttpError(res.status, body as HttpError["body"]);
  return body;
}

export async function getJson<T>(path: string, params: Record<string, string | number | undefined> = {}): Promise<T> {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") q.set(k, String(v));
  const qs = q.toString();
  return (await parse(await fetch(qs ? `${path}?${qs}` : path, { headers: headers(), cache: "no-store" }))) as T;
}

export async function postJson<T>(path: string, body?: object): Promise<T> {
  return (await parse(await fetch(path, { method: "POST", headers: headers(body !== undefined), body: body === undefined ? undefined : JSON.stringify(body) }))) as T;
}

/**
 * Server-sent events over fetch (so the token goes in a header, not the URL). Reconnects with a
 * growing delay; `onOpen` runs on every (re)connect so the page catches up over REST.
 */
export function openStream(path: string, h: { onOpen(): void; onEvent(type: string, data: string): void; onDown(why: string): void }): () => void {
  let stopped = false;
  let ctrl: AbortController | null = null;
  let delay = 1000;
  const loop = async () => {
    while (!stopped) {
      ctrl = new AbortController();
      try {
        const res = await fetch(path, { headers: { ...headers(), accept: "text/event-stream" }, signal: ctrl.signal, cache: "no-store" });
        if (!res.ok || !res.body) throw new HttpError(res.status, null);
        delay = 1000;
        h.onOpen();
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          const { events, rest } = takeSseEvents(buf + value);
          buf = rest;
          for (const ev of events) h.onEvent(ev.type, ev.data);
        }
        if (!stopped) h.onDown("the stream ended");
      } catch (e) {
        if (stopped) return;
        h.onDown(e instanceof HttpError ? (e.status === 401 ? "401: the token is needed to read" : `HTTP ${e.status}`) : "daemon unreachable");
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(15_000, delay * 2);
    }
  };
  void loop();
  return () => {
    stopped = true;
    ctrl?.abort();
  };
}
