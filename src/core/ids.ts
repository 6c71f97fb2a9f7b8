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

/** Two hex digits of every byte value: ids are spelled from this table, not with toString(16). */
const HEX: readonly string[] = Array.from({ length: 256 }, (_, i) => (i + 0x100).toString(16).slice(1));
const hex2 = (x: number): string => HEX[(x >>> 8) & 0xff]! + HEX[x & 0xff]!;
const hex4 = (x: number): string => HEX[(x >>> 24) & 0xff]! + HEX[(x >>> 16) & 0xff]! + HEX[(x >>> 8) & 0xff]! + HEX[x & 0xff]!;

/**
 * A deterministic, time-ordered id in the UUIDv7 layout: the first 48 bits are the event time in
 * ms, the remaining 74 bits come from two 32-bit MurmurHash3 values of `name` (different seeds;
 * 10 of their bits used twice). The same (ts, name) always gives the same id, so redeliveries are
 * recognised and replays are reproducible; ids of later events sort later, so indexes on them
 * append instead of scattering (the hot-path id: no SHA-1, no BigInt, spelled from a table).
 */
export function timeId(ts: number, name: string): string {
  return spell(ts, Bun.hash.murmur32v3(name, 0) >>> 0, Bun.hash.murmur32v3(name, 0x9e3779b9) >>> 0);
}

/**
 * Correlation ids of a run's bars: timeId's layout with the bar time in front and, behind it, the
 * hashes of `run|symbol`, made once per symbol (the time part already tells the bars of one
 * symbol apart). Same run, symbol and time: the same id; any of them differs: another id.
 */
export function barCorrelations(run: string): (symbol: string, ts: number) => string {
  // everything behind the time part depends on run and symbol only: spelled once per symbol
  const bySymbol = new Map<string, string>();
  return (symbol, ts) => {
    let tail = bySymbol.get(symbol);
    if (tail === undefined) {
      const name = `${run}|${symbol}`;
      bySymbol.set(symbol, (tail = spellTail(Bun.hash.murmur32v3(name, 0) >>> 0, Bun.hash.murmur32v3(name, 0x9e3779b9) >>> 0)));
    }
    return spellTime(ts) + tail;
  };
}

function spell(ts: number, hi: number, lo: number): string {
  return spellTime(ts) + spellTail(hi, lo);
}

/** The first 48 bits: event time in ms ("xxxxxxxx-xxxx"). */
function spellTime(ts: number): string {
  const t = Math.max(0, Math.floor(ts)) % 0x1000000000000;
  return hex4(Math.floor(t / 0x10000)) + "-" + hex2(t % 0x10000);
}

/** The rest, from the two hashes ("-7xxx-yxxx-xxxxxxxxxxxx"). */
function spellTail(hi: number, lo: number): string {
  return (
    "-" + hex2(0x7000 | (hi >>> 20)) + "-" + // version 7 + 12 bits
    hex2(0x8000 | ((hi >>> 6) & 0x3fff)) + "-" + // variant + 14 bits
    hex2(((hi & 0x3f) << 10) | (lo >>> 22)) + hex4(lo) // 6 + 10 bits, then 32 bits
  );
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

/**
 * Is this client_order_id one of ours (the shape intentKey makes: run tag or `live`, symbol, bar
 * time, side and purpose)? The reconciler adopts such broker orders when no row has them.
 */
export function isOurClientOrderId(cid: string): boolean {
  return /^(?:[0-9a-z]{8}|live)-[A-Z0-9./]{1,15}-\d{8}T\d{6}-[BS][a-z]{1,6}$/.test(cid);
}
