/**
 * Money and quantities. Prices travel as JS numbers but are rounded to 6 decimals (micro-dollars)
 * whenever they are stored or compared, and sums of money are done in integer micros so cents
 * never drift.
 */
export const MICROS = 1_000_000;

export function toMicros(x: number): number {
  return Math.round(x * MICROS);
}

export function fromMicros(m: number): number {
  return m / MICROS;
}

/** Round a price to 6 decimals (the storage precision on every adapter). */
export function round6(x: number): number {
  return Math.round(x * MICROS) / MICROS;
}

/** Round to a tick (0.01 above $1, 0.0001 below, as US equities trade). */
export function roundToTick(price: number, mode: "nearest" | "down" | "up" = "nearest"): number {
  const tick = price >= 1 ? 100 : 10_000;
  const f = mode === "down" ? Math.floor : mode === "up" ? Math.ceil : Math.round;
  return f(price * tick + (mode === "nearest" ? 0 : mode === "down" ? 1e-9 : -1e-9)) / tick;
}

/** notional = price * qty, exact to the micro-dollar. */
export function notional(price: number, qty: number): number {
  return fromMicros(toMicros(price) * qty);
}

export function isFinitePositive(x: unknown): x is number {
  return typeof x === "number" && Number.isFinite(x) && x > 0;
}

export function fmtUsd(x: number, signed = false): string {
  const s = Math.abs(x).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  if (x < 0) return `-$${s}`;
  return signed ? `+$${s}` : `$${s}`;
}
