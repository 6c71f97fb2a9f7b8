import { intFlag, parseArgs } from "./args";
import { GLOBAL_VALUE_FLAGS, out, settingsFrom } from "./common";

export const HEALTH_HELP = `Usage: awet health [--json] [--url URL] [--port N] [--home DIR]

Asks the running daemon's GET /health and prints one line per check. Exit 0 healthy, 1 not
(including when no daemon answers). The URL defaults to http://<http_host>:<http_port> from
config/app.yaml.`;

export async function healthCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { bool: ["json", "help"], value: [...GLOBAL_VALUE_FLAGS, "url", "port"] });
  if (p.flags.help) return out(HEALTH_HELP), 0;
  const s = settingsFrom(p);
  const port = intFlag(p, "port", s.app.http_port, 1, 65535);
  const url = (p.flags.url as string | undefined) ?? `http://${s.app.http_host}:${port}`;
  let body: any;
  let status: number;
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(5000) });
    status = res.status;
    body = await res.json();
  } catch (e) {
    const msg = `daemon not reachable at ${url}: ${(e as Error).message}`;
    if (p.flags.json) out(JSON.stringify({ status: "unreachable", url, error: msg }, null, 2));
    else out(`❌ ${msg}\n   start it with: awet start`);
    return 1;
  }
  const healthy = status === 200 && body?.status === "healthy";
  if (p.flags.json) {
    out(JSON.stringify(body, null, 2));
    return healthy ? 0 : 1;
  }
  const mark = (ok: boolean) => (ok ? "✅" : "❌");
  out("==================================================");
  out(" AWET Health Check");
  out("==================================================");
  out(`${mark(body.store?.ok)} Store: ${body.store?.kind}${body.store?.ok ? " reachable" : " " + (body.store?.error ?? "down")}`);
  out(`${mark(body.bus?.ok)} Bus: ${body.bus?.kind}`);
  out(`${mark(body.broker?.paper)} Broker: ${body.broker?.name}${body.broker?.paper ? " (paper)" : " NOT PAPER"}`);
  if (body.llm) out(`${body.llm.status === "ok" ? "✅" : body.llm.status === "disabled" ? "➖" : "⚠️ "} LLM: ${body.llm.status}${body.llm.detail ? ` (${body.llm.detail})` : ""}${body.llm.status === "degraded" ? " — risk runs rule-only" : ""}`);
  for (const [name, a] of Object.entries<any>(body.agents ?? {})) {
    const ok = a.state !== "failed" && a.state !== "stopped";
    out(`${mark(ok)} ${name}: ${a.state}, processed ${a.processed}, errors ${a.errors}${a.last_event_ts ? `, last event ${a.last_event_ts}` : ""}`);
  }
  out("--------------------------------------------------");
  out(healthy ? `✅ System is HEALTHY (${url})` : `❌ System is UNHEALTHY (${url})`);
  return healthy ? 0 : 1;
}
