/**
 * JSON Schemas for config/app.yaml and config/llm.yaml, generated from the one config schema
 * (src/config/schema.ts), so editors that read `# yaml-language-server: $schema=...` validate and
 * complete keys. `bun src/config/json-schema.ts --write` regenerates config/*.schema.json; a test
 * checks the committed files equal this output.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { APP_SCHEMA, LLM_SCHEMA, SYMBOL_RE, type KeySpec } from "./schema";

type Json = Record<string, unknown>;

function keySchema(k: KeySpec): Json {
  switch (k.type) {
    case "bool":
      return { type: "boolean", default: k.default };
    case "int":
      return { type: "integer", default: k.default, ...(k.min !== undefined ? { minimum: k.min } : {}), ...(k.max !== undefined ? { maximum: k.max } : {}) };
    case "number":
      return {
        type: "number", default: k.default,
        ...(k.min !== undefined ? (k.exclusiveMin ? { exclusiveMinimum: k.min } : { minimum: k.min }) : {}),
        ...(k.max !== undefined ? { maximum: k.max } : {}),
      };
    case "string":
      return { type: "string", default: k.default, ...(k.pattern ? { pattern: k.pattern.source } : {}) };
    case "enum":
      return { type: "string", enum: [...k.values], default: k.default };
    case "symbols":
      return { type: "array", minItems: 1, items: { type: "string", pattern: SYMBOL_RE.source }, default: k.default };
    case "list":
      return { type: "array", minItems: 1, items: { type: "string", enum: [...k.values] }, default: k.default };
    case "names":
      return { type: "array", items: { type: "string", pattern: k.pattern.source }, default: k.default };
    case "ints":
      return { type: "array", minItems: 1, items: { type: "integer", ...(k.min !== undefined ? { minimum: k.min } : {}), ...(k.max !== undefined ? { maximum: k.max } : {}) }, default: k.default };
    case "speed":
      return { oneOf: [{ const: "max" }, { type: "number", exclusiveMinimum: 0 }], default: k.default };
  }
}

export function configJsonSchema(which: "app" | "llm"): Json {
  const spec: Record<string, KeySpec> = which === "app" ? APP_SCHEMA : LLM_SCHEMA;
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $id: `awet/config/${which}.schema.json`,
    title: `AWET config/${which}.yaml`,
    description: "Generated from src/config/schema.ts by `bun src/config/json-schema.ts --write`; do not edit by hand.",
    type: "object",
    additionalProperties: false,
    properties: Object.fromEntries(Object.entries(spec).map(([name, k]) => [name, keySchema(k)])),
  };
}

export const renderJsonSchema = (which: "app" | "llm") => `${JSON.stringify(configJsonSchema(which), null, 2)}\n`;

if (import.meta.main && process.argv.includes("--write")) {
  const dir = join(import.meta.dir, "..", "..", "config");
  for (const w of ["app", "llm"] as const) writeFileSync(join(dir, `${w}.schema.json`), renderJsonSchema(w));
  console.log(`wrote ${join(dir, "app.schema.json")} and ${join(dir, "llm.schema.json")}`);
}
