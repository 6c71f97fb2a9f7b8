import { createHash } from "node:crypto";

/**
 * Deterministic ids: the same bar in the same run always gets the same correlation id, so a replay
 * of the same data gives the same rows. A name-based UUID (v5 layout over SHA-1).
 */
export function uuidFrom(name: string): string {
  const h = createHash("sha1").update(name).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString("hex");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/**
 * A deterministic, time-ordered id in the UUIDv7 layout: the first 48 bits are the event time in
 * ms, the rest a 64+10-bit hash of `name` (wyhash, seeds 0 and 1). The same (ts, name) always gives
 * the same id, so redeliveries are recognised and replays are reproducible; ids of later events
 * sort later, so indexes on them append instead of scattering (the hot-path id: no SHA-1).
 */
export function timeId(ts: number, name: string): string {
  const t = Math.max(0, Math.floor(ts));
  const hi = Math.floor(t / 0x10000); // top 32 of the 48 time bits
  const lo = t % 0x10000;
  const a = Bun.hash.wyhash(name, 0n);
  const b = Bun.hash.wyhash(name, 1n);
  const h1 = Number(a >> 32n);
  const h2 = Number(a & 0xffffffffn);
  const h3 = Number(b & 0xffffffffn);
  const x =
    hex8(hi) +
    "-" +
    hex4(lo) +
    "-" +
    hex4(0x7000 | (h1 >>> 20)) + // version 7 + 12 hash bits
    "-" +
    hex4(0x8000 | ((h1 >>> 6) & 0x3fff)) + // variant 10 + 14 hash bits
    "-" +
    hex4(h2 >>> 16) +
    hex8(((h2 & 0xffff) * 0x10000 + (h3 >>> 16)) >>> 0);
  return x;
}
const hex8 = (n: number) => HEX[(n >>> 24) & 255]! + HEX[(n >>> 16) & 255]! + HEX[(n >>> 8) & 255]! + HEX[n & 255]!;
const hex4 = (n: number) => HEX[(n >>> 8) & 255]! + HEX[n & 255]!;

/** A short run tag (8 base36 chars) for a run started at `startedAt` with optional label. */
export function runTag(seed: string): string {
  return BigInt("0x" + createHash("sha1").update(seed).digest("hex").slice(0, 12))
    .toString(36)
    .padStart(8, "0")
    .slice(-8);
}

/** Compact UTC timestamp used inside keys: 20131004T133000 (no separators, seconds precision). */
export function compactTs(ts: number): string {
  const s = new Date(ts).toISOString();
  return s.slice(0, 4) + s.slice(5, 7) + s.slice(8, 13) + s.slice(14, 16) + s.slice(17, 19);
}

/**
 * The idempotency key of an order intent. It doubles as Alpaca's client_order_id, which allows at
 * most 48 characters, so it is built to stay short: run tag, symbol, bar time, side, purpose.
 */
export function intentKey(run: string, symbol: string, ts: number, side: "buy" | "sell", purpose = "e"): string {
  const key = `${run}-${symbol}-${compactTs(ts)}-${side === "buy" ? "B" : "S"}${purpose}`;
  if (key.length > 48) throw new Error(`idempotency key longer than 48 characters: ${key}`);
  return key;
}
