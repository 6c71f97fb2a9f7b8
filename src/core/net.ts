/**
 * Is this bind address loopback only? Only the usual names count (127.0.0.1, localhost, ::1):
 * any other address, 127.0.0.2 included, is treated as beyond loopback, so reads need the token
 * there too (the stricter reading; the dashboard's browser test relies on it). Pure.
 */
const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

export function isLoopbackHost(h: string): boolean {
  return LOOPBACK.has(h.toLowerCase());
}
