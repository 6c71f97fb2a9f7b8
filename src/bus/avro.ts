import avro from "avsc";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../config/paths";
import { TOPICS, type Envelope, type Topic } from "../core/events";
import { EMBEDDED_SCHEMAS } from "../embedded";

export const SCHEMA_VERSION_HEADER = "awet-schema-version";

/** The Avro schema of a topic, from schemas/<topic>.avsc (or the copy embedded in the binary). */
export function schemaText(topic: Topic): string {
  const f = join(packageRoot(), "schemas", `${topic}.avsc`);
  if (existsSync(f)) return readFileSync(f, "utf8");
  const t = EMBEDDED_SCHEMAS[topic];
  if (!t) throw new Error(`no Avro schema for topic ${topic}`);
  return t;
}

const types = new Map<Topic, avro.Type>();
export function avroType(topic: Topic): avro.Type {
  let t = types.get(topic);
  if (!t) types.set(topic, (t = avro.Type.forSchema(JSON.parse(schemaText(topic)))));
  return t;
}

/** Fill optional (null-union) fields that JS left undefined, recursively, so avsc accepts the value. */
function normalise(type: avro.Type, v: unknown): unknown {
  const t = type as any;
  if (t.typeName === "record" && v && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const f of t.fields as { name: string; type: avro.Type }[]) out[f.name] = normalise(f.type, (v as Record<string, unknown>)[f.name]);
    return out;
  }
  if (t.typeName === "union:unwrapped" || t.typeName === "union") {
    if (v === undefined || v === null) return null;
    const branch = (t.types as avro.Type[]).find((b: any) => b.typeName !== "null" && b.isValid(normalise(b, v)));
    return branch ? normalise(branch, v) : v;
  }
  return v;
}

/** Avro payloads are typed; the audit topic carries its free-form payload as JSON text. */
function toWire(e: Envelope): unknown {
  if (e.type === "audit") {
    const p = (e.payload ?? {}) as Record<string, unknown>;
    return { ...e, payload: { event: String(p.event ?? "audit"), data: JSON.stringify(p) } };
  }
  return e;
}

function fromWire(topic: Topic, v: any): Envelope {
  if (topic === "audit") return { ...v, payload: JSON.parse(v.payload.data) };
  return v as Envelope;
}

export function encodeEvent(e: Envelope): Buffer {
  const t = avroType(e.type);
  const v = normalise(t, toWire(e));
  const errors: string[] = [];
  if (!t.isValid(v, { errorHook: (path) => errors.push(path.join(".")) }))
    throw new Error(`event ${e.id} does not match schemas/${e.type}.avsc at ${errors.join(", ") || "?"}`);
  return t.toBuffer(v);
}

export function decodeEvent(topic: Topic, buf: Buffer, writerSchema?: avro.Type): Envelope {
  const reader = avroType(topic);
  // With the writer's schema (an older or newer version), avsc resolves fields by name and defaults.
  const v = writerSchema ? reader.fromBuffer(buf, reader.createResolver(writerSchema)) : reader.fromBuffer(buf);
  return fromWire(topic, v);
}

export function allTopics(): readonly Topic[] {
  return TOPICS;
}
