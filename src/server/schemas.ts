import { t, type TSchema } from "elysia";
import { Kind, TypeRegistry } from "@sinclair/typebox";
import { isCalendarDate } from "../core/parse";
import { SYMBOL_RE } from "../core/symbol";
import { MAX_TS, MIN_TS } from "../store/bounds";
import { TRADE_STATUSES } from "../store/port";
import { ApiError, EXPECT } from "./errors";

/**
 * The request and response types the routes share, each defined once. They validate what comes in
 * (a refusal is a 400 naming the field, see errors.ts) and feed the OpenAPI document.
 *
 * Query numbers and dates are strict, as everywhere the daemon reads outside input (core/parse.ts):
 * Elysia's own t.Numeric takes `0x10`, `1e3` and ` 16` (it uses `+value`), so whole numbers are a
 * kind of their own here — plain decimal digits, within bounds — documented as an integer.
 */

const DIGITS = /^\d{1,15}$/;

if (!TypeRegistry.Has("AwetWhole"))
  TypeRegistry.Set<{ minimum: number; maximum: number }>("AwetWhole", (s, v) => {
    const n = typeof v === "number" && Number.isInteger(v) ? v : typeof v === "string" && DIGITS.test(v) ? Number(v) : NaN;
    return n >= s.minimum && n <= s.maximum;
  });
if (!TypeRegistry.Has("AwetDate")) TypeRegistry.Set("AwetDate", (_s, v) => typeof v === "string" && isCalendarDate(v));
if (!TypeRegistry.Has("AwetTime"))
  TypeRegistry.Set("AwetTime", (_s, v) => {
    const ms = typeof v === "string" ? Date.parse(v) : NaN;
    return ms >= MIN_TS && ms <= MAX_TS;
  });

/** A whole number in plain decimal digits within [minimum, maximum]; the handler gets a number. */
export function Whole(o: { minimum: number; maximum: number; default?: number; description?: string }) {
  const expect = `a whole number ${o.minimum}..${o.maximum}`;
  return t
    .Transform(t.Unsafe<string | number>({ [Kind]: "AwetWhole", type: "integer", ...o, description: o.description ? `${o.description} (${expect})` : expect, [EXPECT]: expect }))
    .Decode((v) => Number(v))
    .Encode((n) => n);
}

/** `?limit=` of a list: 1..max rows, `dflt` when absent. One definition for every list route. */
export const Limit = (dflt: number, max = 1000) => t.Optional(Whole({ minimum: 1, maximum: max, default: dflt, description: `rows to return, default ${dflt}` }));

/** A New York trading day YYYY-MM-DD that exists (no 2013-02-30). */
export const CalendarDate = (description = "a New York trading day") =>
  t.Unsafe<string>({ [Kind]: "AwetDate", type: "string", format: "date", description, [EXPECT]: "a calendar date YYYY-MM-DD" });

/** An ISO time in years 0001..9999, as epoch milliseconds for the handler. */
export const IsoTime = (description: string) =>
  t
    .Transform(t.Unsafe<string>({ [Kind]: "AwetTime", type: "string", format: "date-time", description, [EXPECT]: "an ISO time in years 0001..9999" }))
    .Decode((v) => Date.parse(v))
    .Encode((ms) => new Date(ms).toISOString());

/** A ticker as the daemon accepts it anywhere (core/symbol.ts). */
export const Ticker = t.String({ pattern: SYMBOL_RE.source, description: "an upper-case ticker", [EXPECT]: "an upper-case ticker" });

/**
 * One of a list of names; documented as a string enum. t.UnionEnum gives itself a default (the
 * first value, for its error messages), which Elysia would fill into an absent query parameter —
 * `/api/trades` would list only `blocked` rows —, so the default is removed.
 */
export function oneOf<T extends string>(values: readonly T[], description: string) {
  const s = t.UnionEnum(values as unknown as [T, ...T[]], { description });
  delete (s as { default?: unknown }).default;
  return s;
}

/** Every trade status: the list lives beside TradeStatus in store/port.ts. */
export const TradeStatusT = oneOf(TRADE_STATUSES, "a trade status");

/** ISO times (or null) in place of the epoch-ms columns of a trade row. */
const isoOrNull = t.Nullable(t.String({ format: "date-time" }));

/** A trade row as the API shows it (tradeJson); columns not listed here pass through unchanged. */
export const TradeJson = t.Object(
  {
    id: t.Integer(),
    ts: isoOrNull,
    correlation_id: t.String(),
    idempotency_key: t.String(),
    symbol: t.String(),
    side: t.String(),
    qty: t.Number(),
    price: t.Nullable(t.Number()),
    status: TradeStatusT,
    error_message: t.Nullable(t.String({ description: "the blocking gate's reason, or the broker's message" })),
    client_order_id: t.Nullable(t.String()),
    filled_qty: t.Number(),
    avg_fill_price: t.Nullable(t.Number()),
    filled_at: isoOrNull,
    updated_at: isoOrNull,
    exit_reason: t.Nullable(t.String()),
  },
  { additionalProperties: true },
);

/** The trade row as JSON lives with the operator actions (the CLI shares it). */
export { tradeJson } from "../ops/trades";

/** An object whose keys are documented here and whose other keys pass through (built elsewhere). */
export const Open = <P extends Record<string, TSchema>>(properties: P, description?: string) => t.Object(properties, { additionalProperties: true, description });

/** A run's counters (RunStats); the per-reason maps pass through. */
export const RunStatsT = Open(
  { bars_read: t.Integer(), bars_processed: t.Integer(), bars_rejected: t.Integer(), orders_submitted: t.Integer(), orders_blocked: t.Integer(), fills: t.Integer() },
  "this run's counters",
);

/** Responses every route may give besides its own: bad input, the guard's refusals ("Error": the model apiErrors() declares). */
export const READ_ERRORS = { 400: "Error", 401: "Error", 421: "Error", 500: "Error" } as const;
export const CONTROL_ERRORS = { 400: "Error", 401: "Error", 413: "Error", 421: "Error", 500: "Error" } as const;

/** Largest POST body read: the controls take a few small fields. */
export const MAX_BODY_BYTES = 16 * 1024;

/**
 * The body parser of the POST controls: the body is read as JSON whatever its content type (so
 * `curl -d '{"mode":"reducing"}'`, sent as a form, is not silently read as something else), an
 * empty body is `{}`, and anything else — not JSON, not an object, over MAX_BODY_BYTES — is
 * refused before the handler runs, naming `body`. Elysia's own parsers would read a form body as
 * form fields and drop malformed JSON without a word.
 */
export async function jsonObjectBody({ request }: { request: Request }): Promise<Record<string, unknown>> {
  const tooLarge = () => new ApiError(413, "payload_too_large", `body must be at most ${MAX_BODY_BYTES} bytes`, "body");
  if (Number(request.headers.get("content-length") ?? 0) > MAX_BODY_BYTES) throw tooLarge();
  const text = await request.text();
  if (Buffer.byteLength(text) > MAX_BODY_BYTES) throw tooLarge();
  if (text.trim() === "") return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new ApiError(400, "bad_request", `body is not valid JSON: ${e instanceof Error ? e.message : String(e)}`, "body");
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw new ApiError(400, "bad_request", "body must be a JSON object", "body");
  return v as Record<string, unknown>;
}

/** Route option for a POST with a JSON object body (the "json" entry only tells OpenAPI the type). */
export const JSON_BODY = { parse: [jsonObjectBody, "json"] as ("json" | typeof jsonObjectBody)[] };
