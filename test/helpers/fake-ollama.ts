/**
 * A fake Ollama on 127.0.0.1:0 for tests: POST /api/chat and GET /api/tags over real HTTP, with
 * programmable answers (JSON with or without `format`), delays, 500s and garbage, and a body that
 * trickles in (`drip`: the raw body in pieces, one every `everyMs`). `answered` counts answers whose
 * headers went out.
 */
export type Behaviour =
  | { kind: "json"; value: unknown }
  | { kind: "text"; text: string }
  | { kind: "status"; status: number }
  | { kind: "slow"; ms: number; value: unknown }
  | { kind: "held"; until: Promise<unknown>; text: string }
  | { kind: "drip"; pieces: string[]; everyMs: number };

export class FakeOllama {
  requests: any[] = [];
  answered = 0;
  next: Behaviour[] = [];
  fallback: Behaviour = { kind: "json", value: { risk_score: 0.2, decision: "approve", size_factor: 1, reason: "within limits" } };
  private server: ReturnType<typeof Bun.serve>;

  constructor() {
    this.server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: async (req) => {
        const u = new URL(req.url);
        if (u.pathname === "/api/tags") return Response.json({ models: [{ name: "llama3.2:1b", model: "llama3.2:1b", size: 1 }] });
        if (u.pathname === "/api/chat" && req.method === "POST") {
          const body = (await req.json()) as any;
          this.requests.push(body);
          const b = this.next.shift() ?? this.fallback;
          if (b.kind === "status") return Response.json({ error: "injected failure" }, { status: b.status });
          if (b.kind === "slow") await Bun.sleep(b.ms);
          if (b.kind === "held") await b.until;
          this.answered++;
          if (b.kind === "drip") {
            const enc = new TextEncoder();
            let i = 0;
            const body = new ReadableStream<Uint8Array>({
              async pull(ctl) {
                if (i > 0) await Bun.sleep(b.everyMs);
                if (i >= b.pieces.length) return ctl.close();
                ctl.enqueue(enc.encode(b.pieces[i++]!));
              },
            });
            return new Response(body, { headers: { "content-type": "application/json" } });
          }
          const content = b.kind === "text" || b.kind === "held" ? b.text : JSON.stringify(b.value);
          return Response.json({
            model: body.model, created_at: new Date().toISOString(), message: { role: "assistant", content }, done: true, done_reason: "stop",
            total_duration: 1, load_duration: 1, prompt_eval_count: 42, prompt_eval_duration: 1, eval_count: 17, eval_duration: 1,
          });
        }
        return new Response("not found", { status: 404 });
      },
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.server.port}`;
  }

  stop(): void {
    this.server.stop(true);
  }
}
