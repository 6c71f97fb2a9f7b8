/**
 * A ticker as the daemon accepts it anywhere (config, CSV rows, query parameters): an upper-case
 * letter, then up to nine upper-case letters, digits or dots (BRK.B). No slash, no leading dot,
 * no space: a symbol is safe to use in a file name. Validate before any other use.
 */
export const SYMBOL_RE = /^[A-Z][A-Z0-9.]{0,9}$/;

export function isSymbol(s: string): boolean {
  return SYMBOL_RE.test(s);
}
