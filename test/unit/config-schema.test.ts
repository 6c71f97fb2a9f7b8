import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { configJsonSchema, renderJsonSchema } from "../../src/config/json-schema";
import { APP_SCHEMA, LLM_SCHEMA } from "../../src/config/schema";
import { ROOT } from "../helpers";

describe("JSON Schema of the config files (generated from src/config/schema.ts)", () => {
  for (const w of ["app", "llm"] as const) {
    test(`config/${w}.schema.json is the generator's output, and config/${w}.yaml points to it`, () => {
      expect(readFileSync(join(ROOT, "config", `${w}.schema.json`), "utf8")).toBe(renderJsonSchema(w));
      expect(readFileSync(join(ROOT, "config", `${w}.yaml`), "utf8").split("\n")[0]).toBe(`# yaml-language-server: $schema=./${w}.schema.json`);
    });

    test(`config/${w}.yaml: every key is described, with its default, and nothing else is allowed`, () => {
      const s = configJsonSchema(w) as { properties: Record<string, { default: unknown; type?: string; enum?: string[] }>; additionalProperties: boolean };
      const yaml = parse(readFileSync(join(ROOT, "config", `${w}.yaml`), "utf8")) as Record<string, unknown>;
      expect(s.additionalProperties).toBe(false);
      expect(Object.keys(s.properties).sort()).toEqual(Object.keys(w === "app" ? APP_SCHEMA : LLM_SCHEMA).sort());
      for (const [k, v] of Object.entries(yaml)) expect(s.properties[k]?.default).toEqual(v);
    });
  }

  test("kinds map to JSON Schema types, bounds and choices", () => {
    const p = (configJsonSchema("app") as any).properties;
    expect(p.http_port).toMatchObject({ type: "integer", minimum: 0, maximum: 65535 });
    expect(p.price_band_pct).toMatchObject({ type: "number", exclusiveMinimum: 0 });
    expect(p.audit_level).toMatchObject({ type: "string", enum: ["decisions", "all"] });
    expect(p.execution_dry_run).toMatchObject({ type: "boolean", default: true });
    expect(p.symbols.items.pattern).toBe("^[A-Z][A-Z0-9.]{0,9}$");
    expect(p.replay_speed.oneOf).toEqual([{ const: "max" }, { type: "number", exclusiveMinimum: 0 }]);
  });
});
