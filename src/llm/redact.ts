/**
 * Redaction of secrets from text that reaches logs (and stored traces when trace_redact_db):
 * API keys (sk-…, *_API_KEY=…, *_SECRET=…), Alpaca key ids and secrets of the running config
 * (passed in), bearer tokens, e-mail addresses and digit runs of 12 or more. Pure.
 */
export const REDACTED = "[REDACTED]";

const PATTERNS: [RegExp, string][] = [
  [/\bBearer\s+[A-Za-z0-9._~+/=-]{8,}/gi, `Bearer ${REDACTED}`],
  [/\b(sk|pk|rk)-[A-Za-z0-9_-]{16,}/g, REDACTED],
  [/\b([A-Z][A-Z0-9_]*(?:API_KEY|SECRET(?:_KEY)?|TOKEN|PASSWORD))\s*[=:]\s*("?)[^\s"',;]+\2/g, `$1=${REDACTED}`],
  [/\b(APCA-API-(?:KEY-ID|SECRET-KEY))\s*:\s*\S+/gi, `$1: ${REDACTED}`],
  [/\b(?:PK|AK|CK)[A-Z0-9]{16,}\b/g, REDACTED], // Alpaca key ids
  [/[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g, REDACTED],
  [/\d{12,}/g, REDACTED],
];

export function redactText(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 6) out = out.split(s).join(REDACTED);
  for (const [re, rep] of PATTERNS) out = out.replace(re, rep);
  return out;
}

/** Redact every string inside a JSON-like value. */
export function redactDeep<T>(v: T, secrets: readonly string[] = []): T {
  if (typeof v === "string") return redactText(v, secrets) as T;
  if (Array.isArray(v)) return v.map((x) => redactDeep(x, secrets)) as T;
  if (v && typeof v === "object") {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = redactDeep(x, secrets);
    return o as T;
  }
  return v;
}

/** The secrets of the running config that must never appear: Alpaca keys, API tokens. */
export function configSecrets(env: Record<string, string | undefined> = process.env): string[] {
  return [env.APCA_API_KEY_ID, env.APCA_API_SECRET_KEY, env.AWET_API_TOKEN, env.OPENAI_API_KEY].filter((x): x is string => !!x);
}
