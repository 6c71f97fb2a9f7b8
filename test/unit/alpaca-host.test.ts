import { describe, expect, test } from "bun:test";
import { AlpacaPaperBroker, validateTradingHost } from "../../src/broker/alpaca";
import { SafetyError } from "../../src/core/errors";

describe("AlpacaPaperBroker refuses every host but Alpaca's paper host", () => {
  const ok: [string | undefined, string | boolean | undefined][] = [
    [undefined, undefined],
    ["https://paper-api.alpaca.markets", "true"],
    ["https://paper-api.alpaca.markets/", true],
    ["https://paper-api.alpaca.markets/v2", undefined],
    ["https://paper-api.alpaca.markets:443", ""],
  ];
  for (const [baseUrl, paper] of ok)
    test(`accepts ${baseUrl ?? "(default)"} paper=${String(paper)}`, () => {
      expect(validateTradingHost({ baseUrl, paper })).toEqual({ url: "https://paper-api.alpaca.markets", loopback: false });
    });

  const refused: [string, string | undefined, string | boolean | undefined, boolean, RegExp][] = [
    ["the live host", "https://api.alpaca.markets", undefined, false, /not Alpaca's paper host/],
    ["ALPACA_PAPER=false", undefined, "false", false, /paper only/],
    ["paper: false (boolean)", "https://paper-api.alpaca.markets", false, false, /paper only/],
    ["an unreadable ALPACA_PAPER", undefined, "maybe", false, /unreadable value 'maybe'/],
    ["a typo'd host", "https://paper-api.alpaca.market", undefined, false, /not Alpaca's paper host/],
    ["plain http", "http://paper-api.alpaca.markets", undefined, false, /not Alpaca's paper host/],
    ["another port", "https://paper-api.alpaca.markets:8443", undefined, false, /not Alpaca's paper host/],
    ["a look-alike suffix", "https://paper-api.alpaca.markets.evil.example", undefined, false, /not Alpaca's paper host/],
    ["userinfo before another host", "https://paper-api.alpaca.markets@evil.example", undefined, false, /extra parts|not Alpaca/],
    ["a path", "https://paper-api.alpaca.markets/proxy", undefined, false, /extra parts/],
    ["not a URL", "paper-api", undefined, false, /not a URL/],
    ["loopback without the test flag", "http://127.0.0.1:9999", undefined, false, /AWET_ALLOW_LOOPBACK_BROKER=1/],
    ["a private-range host even with the flag", "http://10.0.0.5:9999", undefined, true, /not Alpaca's paper host/],
    ["live host with the loopback flag", "https://api.alpaca.markets", undefined, true, /not Alpaca's paper host/],
  ];
  for (const [name, baseUrl, paper, allowLoopback, msg] of refused)
    test(`refuses ${name}`, () => {
      expect(() => validateTradingHost({ baseUrl, paper, allowLoopback })).toThrow(SafetyError);
      expect(() => validateTradingHost({ baseUrl, paper, allowLoopback })).toThrow(msg);
      expect(() => new AlpacaPaperBroker({ baseUrl, paper, allowLoopback, keyId: "PK", secret: "s" })).toThrow(msg);
    });

  test("loopback is accepted only with AWET_ALLOW_LOOPBACK_BROKER=1", () => {
    expect(validateTradingHost({ baseUrl: "http://127.0.0.1:9999", allowLoopback: true })).toEqual({ url: "http://127.0.0.1:9999", loopback: true });
  });

  test("missing keys are refused, naming the variables", () => {
    expect(() => new AlpacaPaperBroker({})).toThrow(/APCA_API_KEY_ID and APCA_API_SECRET_KEY/);
  });
});
