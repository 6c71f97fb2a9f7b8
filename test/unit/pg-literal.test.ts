import { describe, expect, test } from "bun:test";
import { columnLiteral } from "../../src/store/postgres";

describe("columnLiteral: one column of a batch as a PostgreSQL array literal", () => {
  test("numbers bare, NULL for null and undefined, text always quoted", () => {
    expect(columnLiteral([[1, "SPY"], [2.5, "IBM"], [null, null], [undefined, undefined]], 0)).toBe("{1,2.5,NULL,NULL}");
    expect(columnLiteral([[1, "SPY"], [2.5, "NULL"], [null, null]], 1)).toBe('{"SPY","NULL",NULL}');
    expect(columnLiteral([], 0)).toBe("{}");
    expect(columnLiteral([[Number.NaN], [Number.POSITIVE_INFINITY]], 0)).toBe('{"NaN","Infinity"}');
  });

  test("quotes and backslashes escaped; commas, braces, spaces and newlines kept inside the quotes", () => {
    const hostile = ['say "hi"', "C:\\path\\x", "a,b", "{x}", " lead", "line\nbreak", '{"k":"v\\"q"}', "ünï €"];
    expect(columnLiteral(hostile.map((h) => [h]), 0)).toBe(
      '{"say \\"hi\\"","C:\\\\path\\\\x","a,b","{x}"," lead","line\nbreak","{\\"k\\":\\"v\\\\\\"q\\"}","ünï €"}',
    );
  });
});
