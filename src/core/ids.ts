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
