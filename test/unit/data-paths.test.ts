import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import fc from "fast-check";
import { factorFile, loadFactors, parseFactorFile } from "../../src/market/factors";
import { ReplaySource } from "../../src/market/replay";
import { csvNumber, parseCsv } from "../../src/market/csv";
import { tempHome } from "../helpers";

const HEADER = "ts,symbol,open,high,low,close,volume";

describe("file names built from data stay inside their folder (issue 13.1)", () => {
  test("a CSV symbol '../../x/notes' is refused as bad_symbol: no file outside the factor folder is opened, nothing of it is echoed", () => {
    const h = tempHome();
    try {
      const data = join(h.home, "data");
      const factors = join(h.home, "factors");
      const elsewhere = join(h.home, "private");
      for (const d of [data, factors, elsewhere]) mkdirSync(d);
      writeFileSync(join(elsewhere, "notes.csv"), "SECRET-FIRST-LINE do not print\n");
      const sym = relative(factors, join(elsewhere, "notes")); // ../private/notes
      writeFileSync(join(data, "x.csv"), `${HEADER}\n2013-10-07T14:00:00Z,${sym},1,1,1,1,1\n2013-10-07T14:00:00Z,SPY,1,1,1,1,1\n`);
      const src = new ReplaySource([join(data, "x.csv")], "max", undefined, factors);
      const items = (src as any).merged as any[];
      expect(items[0]).toMatchObject({ kind: "bad", reason: "bad_symbol", symbol: "" });
      expect(JSON.stringify(items)).not.toContain("SECRET");
      expect(items[1]).toMatchObject({ kind: "bar", bar: { symbol: "SPY" } });
    } finally {
      h.cleanup();
    }
  });

  test("loadFactors refuses a symbol that is not a ticker, without opening anything, and does not quote", () => {
    const h = tempHome();
    try {
      writeFileSync(join(h.home, "notes.csv"), "SECRET\n");
      expect(() => loadFactors(join(h.home, "f"), ["../notes"])).toThrow("symbol '../notes' is not an upper-case ticker");
      expect(() => loadFactors(join(h.home, "f"), ["../notes"])).not.toThrow(/SECRET/);
    } finally {
      h.cleanup();
    }
  });

  test("a malformed factor row is named by file and line, its content is not quoted", () => {
    expect(() => parseFactorFile("SECRET,x\n", "X.csv")).toThrow("X.csv:1: malformed factor row: 2 field(s)");
    expect(() => parseFactorFile("SECRET,x\n", "X.csv")).not.toThrow(/SECRET/);
  });

  test("property: for any string, factorFile is null or a direct child of the folder", () => {
    const dir = "/srv/awet/factors";
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.stringMatching(/^[A-Z./\\]{1,12}$/), fc.constantFrom("..", "A/../..", "A..", "/etc/passwd", "A\0B")), (s) => {
        const f = factorFile(dir, s);
        if (f !== null) expect(f.startsWith(`${dir}/`) && !f.slice(dir.length + 1).includes("/")).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  test("property: every row's symbol that survives parsing is a ticker", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 14 }), (sym) => {
        const [it] = parseCsv(`${HEADER}\n2013-10-07T14:00:00Z,${sym.replace(/[,\r\n]/g, "")},1,1,1,1,1\n`, "p.csv");
        if (it?.kind === "bar") expect(it.bar.symbol).toMatch(/^[A-Z][A-Z0-9.]{0,9}$/);
        else if (it) expect(it.symbol === "" || /^[A-Z][A-Z0-9.]{0,9}$/.test(it.symbol)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("CSV numbers are plain decimals (issue 13.9)", () => {
  test("hex, exponents, Infinity and blanks are not numbers; decimals are", () => {
    for (const bad of ["0x10", "1e308", "1E3", "Infinity", "-Infinity", "", " ", "0b11", "1_000", "١٢"]) expect([bad, csvNumber(bad)]).toEqual([bad, NaN]);
    for (const [s, n] of [["168.12", 168.12], ["20000", 20000], [" 7.5 ", 7.5], ["-1", -1], ["0.0001", 0.0001]] as const) expect(csvNumber(s)).toBe(n);
  });

  test("a row priced 0x10 or 1e308 does not become a bar with that price", () => {
    const items = parseCsv(`${HEADER}\n2013-10-07T14:00:00Z,SPY,0x10,0x10,0x10,0x10,1\n2013-10-07T14:01:00Z,SPY,1e308,1e308,1e308,1e308,1\n`, "n.csv");
    for (const it of items) if (it.kind === "bar") expect(Number.isNaN(it.bar.close)).toBe(true);
  });
});
