import { Elysia, t, type Static } from "elysia";
import { Kind } from "@sinclair/typebox";
import { errorMessage } from "../core/errors";

/**
 * The one shape of every 4xx/5xx answer of the HTTP API: a validation error from a route's `t`
 * schema, a refusal of the access guard (401, 421), an unknown route (404), a body too large (413)
 * or a handler that threw (500). `field` names the query or path parameter, or the body field,
 * that was wrong (`body` for the body as a whole).
 */
export const ErrorBody = t.Object(
  {
    error: t.String({ description: "bad_request, unauthorized, not_found, payload_too_large, misdirected_request, internal_error" }),
    message: t.String({ description: "what was wrong, naming the bad input and what it must be" }),
    field: t.Optional(t.String({ description: "the parameter or body field that was wrong" })),
  },
);
export type ErrorBody = Static<typeof ErrorBody>;

/** An answer other than 200 that a handler (or a body parser) decides; rendered as ErrorBody. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
  body(): ErrorBody {
    return this.field === undefined ? { error: this.code, message: this.message } : { error: this.code, message: this.message, field: this.field };
  }
}

export const badRequest = (field: string, message: string) => new ApiError(400, "bad_request", message, field);
export const notFound = (message: string) => new ApiError(404, "not_found", message);

const shown = (v: unknown) => (typeof v === "string" ? `'${v.length > 100 ? `${v.slice(0, 100)}…` : v}'` : v === undefined ? "nothing" : JSON.stringify(v)?.slice(0, 100));

/** A schema's own words for what it accepts (a symbol key: kept out of the OpenAPI document). */
export const EXPECT = Symbol.for("awet.expect");

/** What a schema accepts, in words, for the message of a value it refused. */
export function expectation(schema: Record<string | symbol, any> | undefined): string {
  if (!schema) return "valid";
  if (typeof schema[EXPECT] === "string") return schema[EXPECT]; // set by the factories in schemas.ts
  if (Array.isArray(schema.enum)) return `one of ${schema.enum.join(", ")}`;
  const options = schema.anyOf as { const?: unknown }[] | undefined;
  if (options?.length && options.every((o) => o.const !== undefined)) return `one of ${options.map((o) => String(o.const)).join(", ")}`;
  if (schema[Kind] === "Boolean") return "true or false";
  if (schema[Kind] === "String" && schema.maxLength !== undefined) return `a string of at most ${schema.maxLength} characters`;
  if (schema[Kind] === "String") return "a string";
  if (schema[Kind] === "Object") return "a JSON object";
  return schema.description ?? `of type ${String(schema[Kind] ?? schema.type)}`;
}

interface ValidationLike {
  type: string;
  valueError?: { path?: string; value?: unknown; schema?: Record<string | symbol, any>; message?: string };
}

/** A refused query, path parameter or body as ErrorBody, naming the field and what it must be. */
export function validationBody(e: ValidationLike): ErrorBody {
  const ve = e.valueError;
  const path = (ve?.path ?? "").replace(/^\//, "").replace(/\//g, ".");
  const field = path || (e.type === "body" ? "body" : e.type);
  return { error: "bad_request", message: `${field} must be ${expectation(ve?.schema)}; got ${shown(ve?.value)}`, field };
}

export interface ErrorOptions {
  /** Log a handler's failure (the 500s); nothing else is logged here. */
  onInternal?: (e: unknown, request: Request) => void;
  /** Text of a 500's message as shown to the client (credentials and home paths removed). */
  scrub?: (text: string) => string;
}

/**
 * Renders every error of the app it is mounted in as ErrorBody. Named, so it applies once: each
 * concern's plugin uses it (so a plugin answers in the same shape when mounted alone, as tests
 * do), and the root's options — mounted first — win.
 */
export function apiErrors(o: ErrorOptions = {}) {
  return new Elysia({ name: "awet-errors" })
    .model({ Error: ErrorBody }) // routes answer `400: "Error"`: one component in the OpenAPI document
    .onError({ as: "global" }, ({ code, error, set, request }) => {
    const e = error as unknown as Record<string, any>;
    let status: number;
    let body: ErrorBody;
    if (error instanceof ApiError) [status, body] = [error.status, error.body()];
    else if (code === "PARSE" && e.cause instanceof ApiError) [status, body] = [e.cause.status, e.cause.body()];
    else if (code === "PARSE") [status, body] = [400, { error: "bad_request", field: "body", message: `body could not be read: ${errorMessage(e.cause ?? error)}` }];
    else if (code === "VALIDATION" && e.type !== "response") [status, body] = [400, validationBody(e as unknown as ValidationLike)];
    else if (code === "NOT_FOUND") [status, body] = [404, { error: "not_found", message: `no route ${request.method} ${new URL(request.url).pathname} (see GET /openapi)` }];
    else {
      o.onInternal?.(error, request);
      const msg = code === "VALIDATION" ? "the answer did not match its documented schema" : errorMessage(error);
      [status, body] = [500, { error: "internal_error", message: o.scrub ? o.scrub(msg) : msg }];
    }
    set.status = status;
    set.headers["content-type"] = "application/json";
    return body;
  });
}
