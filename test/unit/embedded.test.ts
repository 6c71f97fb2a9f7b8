import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { EMBEDDED_CONFIG, EMBEDDED_MIGRATIONS, EMBEDDED_MINUTE_DATA } from "../../src/embedded";
import { ROOT } from "../helpers";

describe("files embedded in the single binary match the checkout", () => {
  for (const dialect of ["sqlite", "postgres"] as const)
    test(`${dialect} migrations`, () => {
      const dir = join(ROOT, "sql", dialect);
      const disk = readdirSync(dir).filter((f) => f.endsWith(".sql")).sort();
      expect(Object.keys(EMBEDDED_MIGRATIONS[dialect]).sort()).toEqual(disk);
      for (const f of disk) expect(EMBEDDED_MIGRATIONS[dialect][f]).toBe(readFileSync(join(dir, f), "utf8"));
    });
  test("default config and bundled minute bars", () => {
    for (const f of ["app.yaml", "llm.yaml"]) expect(EMBEDDED_CONFIG[f]).toBe(readFileSync(join(ROOT, "config", f), "utf8"));
    expect(Object.keys(EMBEDDED_MINUTE_DATA).sort()).toEqual(readdirSync(join(ROOT, "data", "minute")).sort());
  });
});
