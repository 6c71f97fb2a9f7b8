/**
 * Redaction of secrets from text that reaches logs (and stored traces when trace_redact_db):
 * API keys (sk-…, *_API_KEY=…, *_SECRET=…), Alpaca key ids and secrets of the running config
 * (passed in), bearer tokens, e-mail addresses, passwords in URLs and digit runs of 12 or more. Pure.
 */
export const REDACTED = "[REDACTED]";

const PATTERNS: [RegExp, string][] = [
  [/\bBearer\s+[A-Za-z0-9._~+/=-]{8,}/gi, `Bearer ${REDACTED}`],
  [/\b(sk|pk|rk)-[A-Za-z0-9_-]{16,}/g, REDACTED],
  [/\b([A-Z][A-Z0-9_]*(?:API_KEY|SECRET(?:_KEY)?|TOKEN|PASSWORD))\s*[=:]\s*("?)[^\s"',;]+\2/g, `$1=${REDACTED}`],
  [/\b(APCA-API-(?:KEY-ID|SECRET-KEY))\s*:\s*\S+/gi, `$1: ${REDACTED}`],
  [/\b(?:PK|AK|CK)[A-Z0-9]{16,}\b/g, REDACTED], // Alpaca key ids
  [/\d{12,}/g, REDACTED],
  // credentials inside a URL (OLLAMA_HOST=http://user:password@host); the scheme is a fixed list so
  // no run of letters is rescanned from every position
  [/\b(https?|wss?|postgres(?:ql)?|redis|amqps?|mysql):\/\/[^\s/@:]+:[^\s/@]+@/gi, `$1://${REDACTED}@`],
];

// E-mail addresses: local@domain.tld. The regex /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/
// restarts its scan at every position of a long run of letters without an '@', which is
// quadratic: a 300 KB answer blocked the event loop for seconds. This scanner finds the same
// addresses in one pass: it looks only at each '@', walks left over the local part and right over
// the domain (both stop at the next '@', so no character is visited more than a few times).
const isLocal = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 46 || c === 95 || c === 37 || c === 43 || c === 45;
const isDomain = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 46 || c === 45;
const isLetter = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90);

export function redactEmails(text: string): string {
  let out = "";
  let copied = 0; // text before this index is already in `out`
  let from = 0;
  for (let at = text.indexOf("@", from); at !== -1; at = text.indexOf("@", from)) {
    let start = at;
    while (start > copied && isLocal(text.charCodeAt(start - 1))) start--;
    let end = at + 1;
    while (end < text.length && isDomain(text.charCodeAt(end))) end++;
    // The domain ends at its last ".xx" (two or more letters), with at least one character before the dot.
    let matchEnd = -1;
    for (let k = end - 3; k >= at + 2; k--) {
      if (text.charCodeAt(k) === 46 && isLetter(text.charCodeAt(k + 1)) && isLetter(text.charCodeAt(k + 2))) {
        matchEnd = k + 3;
        while (matchEnd < end && isLetter(text.charCodeAt(matchEnd))) matchEnd++;
        break;
      }
    }
    if (start < at && matchEnd !== -1) {
      out += text.slice(copied, start) + REDACTED;
      copied = matchEnd;
      from = matchEnd;
    } else from = at + 1;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/** Redact secrets from a text. Linear in the text's length (a test holds it to that). */
export function redactText(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 6) out = out.split(s).join(REDACTED);
  for (const [re, rep] of PATTERNS) out = out.replace(re, rep);
  return redactEmails(out);
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
