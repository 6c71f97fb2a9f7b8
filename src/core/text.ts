/**
 * Text that came from outside (data files, LLM answers, broker messages, HTTP clients) made safe
 * to print on a terminal: every control character except newline and tab — C0, DEL, C1 (0x9b is a
 * one-byte CSI on some terminals) and the Unicode bidi overrides that can reorder a printed line —
 * is replaced by its `\uXXXX` escape. The escape is also valid inside a JSON string, so JSON output
 * passed through here still parses to the same value. Pure.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

export function terminalSafe(s: string): string {
  return s.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** The same for a one-line field (a reason, a header): newlines and tabs are escaped too. */
export function oneLine(s: string): string {
  return terminalSafe(s).replace(/[\n\t]/g, (c) => (c === "\n" ? "\\u000a" : "\\u0009"));
}
