/**
 * A URL made safe to print or return: its `user:password@` part is replaced by `***@`. Works on
 * strings that are not full URLs too (Ollama accepts `user:pw@host:11434`). Pure.
 */
export function safeUrl(url: string): string {
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(url)?.[0] ?? "";
  const rest = url.slice(scheme.length);
  const slash = rest.search(/[/?#]/);
  const authority = slash === -1 ? rest : rest.slice(0, slash);
  const at = authority.lastIndexOf("@");
  return at === -1 ? url : `${scheme}***@${rest.slice(at + 1)}`;
}
