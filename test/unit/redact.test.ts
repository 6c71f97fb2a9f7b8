import { describe, expect, test } from "bun:test";
import { REDACTED, redactDeep, redactText } from "../../src/llm/redact";

describe("redaction of secrets in logs and traces", () => {
  // [name, text, the secret part that must disappear, extra configured secrets]
  const secret: [string, string, string, string[]?][] = [
    ["OpenAI-style key", "use sk-proj-abc123DEF456ghi789JKL0 for auth", "sk-proj-abc123DEF456ghi789JKL0"],
    ["env assignment", "OPENAI_API_KEY=abcd1234efgh5678", "abcd1234efgh5678"],
    ["quoted env assignment", 'ANTHROPIC_API_KEY="xyz-123-456-789"', "xyz-123-456-789"],
    ["secret assignment", "APCA_API_SECRET_KEY=Zq8wE2rT5yU7iO9pA1sD3fG5hJ7kL9", "Zq8wE2rT5yU7iO9pA1sD3fG5hJ7kL9"],
    ["bearer token", "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig", "eyJhbGciOiJIUzI1NiJ9.payload.sig"],
    ["Alpaca key id", "key PKA1B2C3D4E5F6G7H8I9 in use", "PKA1B2C3D4E5F6G7H8I9"],
    ["Alpaca header", "APCA-API-SECRET-KEY: s3cr3tvalue", "s3cr3tvalue"],
    ["e-mail", "contact ops.team+alerts@example.co.uk now", "ops.team+alerts@example.co.uk"],
    ["account number", "account 123456789012345 debited", "123456789012345"],
    ["configured secret", "the key is hunter2-very-secret today", "hunter2-very-secret", ["hunter2-very-secret"]],
  ];
  for (const [name, text, gone, extra] of secret)
    test(`redacts: ${name}`, () => {
      const r = redactText(text, extra ?? []);
      expect(r).toContain(REDACTED);
      expect(r).not.toContain(gone);
    });

  const clean = [
    "SPY buy 11 @ 168.12 at 2013-10-07T14:30:00.000Z",
    "risk_score 0.15, size_factor 0.5, p50=1.2e-4",
    "volume 20000 notional 1849.32",
    "decision: approve | reason: within limits",
    "symbol BRK.B side sell qty 3",
  ];
  for (const text of clean) test(`leaves alone: ${text}`, () => expect(redactText(text)).toBe(text));

  test("deep redaction reaches nested JSON strings and leaves numbers", () => {
    const v = { messages: [{ role: "user", content: "Bearer abcdefghijkl1234" }], n: 123456789012345, nested: { email: "a@b.io" } };
    expect(redactDeep(v)).toEqual({ messages: [{ role: "user", content: `Bearer ${REDACTED}` }], n: 123456789012345, nested: { email: REDACTED } });
  });
});
