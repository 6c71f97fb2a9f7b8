/** Is this bind address loopback only (localhost, ::1, 127.x.x.x)? Pure. */
export function isLoopbackHost(h: string): boolean {
  const x = h.toLowerCase();
  return x === "localhost" || x === "::1" || x === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(x);
}
