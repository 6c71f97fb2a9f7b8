import { describe, expect, test } from "bun:test";
import { encode, decode } from "@msgpack/msgpack";
import { Supervisor } from "../../src/agents/supervisor";
import { AlpacaBarSource } from "../../src/market/alpaca";
import { SystemClock } from "../../src/core/clock";
import { tempHome, testSettings } from "../helpers";

/** A fake Alpaca market-data stream (msgpack over a WebSocket on loopback), speaking the v2 protocol. */
function fakeStream(bars: Record<string, unknown>[]) {
  const got: unknown[] = [];
  let sent = false;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req, srv) {
      if (srv.upgrade(req)) return;
      return new Response("no", { status: 400 });
    },
    websocket: {
      open(ws) {
        ws.send(encode([{ T: "success", msg: "connected" }]));
      },
      message(ws, msg) {
        const m = decode(typeof msg === "string" ? new TextEncoder().encode(msg) : msg) as any;
        got.push(m);
        if (m.action === "auth") ws.send(encode([{ T: "success", msg: "authenticated" }]));
        if (m.action === "subscribe") {
          ws.send(encode([{ T: "subscription", trades: [], quotes: [], bars: m.bars }]));
          if (!sent) ws.send(encode(bars)); // once, however often the client (re)subscribes
          sent = true;
        }
      },
    },
  });
  return { url: `ws://127.0.0.1:${server.port}/v2/iex`, got, stop: () => server.stop(true) };
}

describe("live bars from the Alpaca market-data stream (fake server on loopback)", () => {
  test("bars flow into the same DataIngestion as a replay; a bad bar is rejected with a reason", async () => {
    const fake = fakeStream([
      { T: "b", S: "SPY", o: 450.1, h: 450.5, l: 449.9, c: 450.2, v: 1200, t: "2026-11-24T14:30:00Z", n: 10, vw: 450.2 },
      { T: "b", S: "SPY", o: 450.2, h: 450.0, l: 451.0, c: 450.3, v: 900, t: "2026-11-24T14:31:00Z", n: 8, vw: 450.3 },
      { T: "b", S: "IBM", o: 180.0, h: 180.4, l: 179.8, c: 180.1, v: 300, t: "2026-11-24T14:31:00Z", n: 3, vw: 180.1 },
    ]);
    const h = tempHome();
    try {
      const sup = new Supervisor({ settings: testSettings(h.home, { AWET_SYMBOLS: "SPY,IBM" }), clock: new SystemClock(), runId: "live" });
      await sup.init("live");
      const src = new AlpacaBarSource({ keyId: "PKSTREAM", secret: "s3cret", symbols: ["SPY", "IBM"], url: fake.url, allowLoopback: true });
      const ac = new AbortController();
      const run = sup.runSource(src, { signal: ac.signal });
      const deadline = Date.now() + 10_000;
      while (sup.stats.bars_read < 3 && Date.now() < deadline) await Bun.sleep(20);
      ac.abort();
      const s = await run;
      expect(s.bars_read).toBe(3);
      expect(s.bars_processed).toBe(2);
      expect(s.rejected_by_reason).toEqual({ high_below_low: 1 });
      expect((await sup.store.counts()).market_bars).toBe(2);
      expect(fake.got).toContainEqual({ action: "auth", key: "PKSTREAM", secret: "s3cret" });
      expect(fake.got).toContainEqual(expect.objectContaining({ action: "subscribe", bars: ["SPY", "IBM"] }));
      await sup.close();
    } finally {
      fake.stop();
      h.cleanup();
    }
  }, 30_000);

  test("a non-Alpaca stream URL is refused; loopback needs the test flag", () => {
    expect(() => new AlpacaBarSource({ keyId: "k", secret: "s", symbols: ["SPY"], url: "wss://evil.example/v2/iex" })).toThrow(/not an Alpaca host/);
    expect(() => new AlpacaBarSource({ keyId: "k", secret: "s", symbols: ["SPY"], url: "ws://127.0.0.1:1/v2/iex" })).toThrow(/AWET_ALLOW_LOOPBACK_BROKER=1/);
    expect(() => new AlpacaBarSource({ symbols: ["SPY"] })).toThrow(/APCA_API_KEY_ID/);
  });
});
