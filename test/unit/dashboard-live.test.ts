import { describe, expect, test } from "bun:test";
import { envelope, type Bar, type Forecast } from "../../src/core/events";
import { takeSseEvents } from "../../src/dashboard/sse";
import { LiveBuffer, describeEvent, forecastPoint } from "../../src/server/live";
import { T0 } from "../helpers";

const bar = (symbol: string, i: number, close = 100 + i): Bar => ({ symbol, ts: T0 + i * 60_000, open: close, high: close + 1, low: close - 1, close, volume: 10 });
const raw = (b: Bar) => envelope("market.raw", { ts: b.ts, correlation_id: `c-${b.symbol}-${b.ts}`, source: "DataIngestion", symbol: b.symbol, payload: b });
const forecast = (symbol: string, i: number, close: number): Forecast => ({ model: "m", model_version: "v", horizon_bars: 5, p10: -0.01, p50: 0.001, p90: 0.02, signal: "hold", score: 0.1, close, horizons: [{ horizon_bars: 5, p10: -0.01, p50: 0.001, p90: 0.02 }], confidence: null });
const pred = (symbol: string, i: number, close = 100) => envelope("predictions", { ts: T0 + i * 60_000, correlation_id: `c-${symbol}-${i}`, source: "Prediction", symbol, payload: forecast(symbol, i, close) });
const blocked = (i: number) => envelope("execution.blocked", { ts: T0 + i * 60_000, correlation_id: `c-${i}`, source: "Execution", symbol: "SPY", payload: { reason: "dry_run", detail: "x", side: "buy", qty: 10 } });

describe("LiveBuffer (the dashboard stream's throttle)", () => {
  test("a burst of events drains as one batch: bars coalesced to the newest per symbol, counts per topic", () => {
    const buf = new LiveBuffer();
    for (let i = 0; i < 1000; i++) {
      buf.push(raw(bar("SPY", i)));
      buf.push(raw(bar("IBM", i, 180 + i)));
    }
    const b = buf.drain()!;
    expect(b.counts["market.raw"]).toBe(2000);
    expect(Object.keys(b.bars).sort()).toEqual(["IBM", "SPY"]);
    expect(b.bars.SPY!.ts).toBe(T0 + 999 * 60_000);
    expect(b.bars.IBM!.close).toBe(1179);
    expect(b.notable).toEqual([]);
    expect(buf.drain()).toBeNull(); // nothing new: no message
  });

  test("operator events are kept up to the cap and the rest are counted as dropped", () => {
    const buf = new LiveBuffer(5);
    for (let i = 0; i < 12; i++) buf.push(blocked(i));
    const b = buf.drain()!;
    expect(b.notable).toHaveLength(5);
    expect(b.dropped).toBe(7);
    expect(b.notable[0]!.text).toBe("BUY 10 SPY blocked: dry_run");
    expect(b.notable[0]!.correlation_id).toBe("c-0");
    buf.push(blocked(20));
    const next = buf.drain()!;
    expect(next.notable).toHaveLength(1);
    expect(next.dropped).toBe(0);
  });

  test("forecasts are priced from the close and kept per symbol up to the history size", () => {
    const buf = new LiveBuffer(50, 10);
    for (let i = 0; i < 30; i++) buf.push(pred("SPY", i, 100));
    const h = buf.forecastsOf("SPY");
    expect(h.length).toBe(10);
    expect(h[h.length - 1]!.ts).toBe(T0 + 29 * 60_000);
    expect(buf.forecastsOf("SPY", T0 + 25 * 60_000).map((f) => f.ts)).toEqual([25, 26, 27, 28, 29].map((i) => T0 + i * 60_000));
    expect(buf.forecastsOf("IBM")).toEqual([]);
    expect(buf.drain()!.forecasts.SPY!.ts).toBe(T0 + 29 * 60_000);
  });

  test("forecastPoint turns log-return quantiles into prices", () => {
    const f = forecastPoint(T0, forecast("SPY", 0, 200));
    expect(f.p10).toBeCloseTo(200 * Math.exp(-0.01), 3);
    expect(f.p90).toBeCloseTo(200 * Math.exp(0.02), 3);
    expect(f.p10).toBeLessThan(f.p50);
    expect(f.p50).toBeLessThan(f.p90);
  });

  test("describeEvent names fills and blocks, and ignores the plumbing", () => {
    const fill = envelope("audit", { ts: T0, correlation_id: "c", source: "Execution.fills", symbol: "SPY", payload: { event: "fill", side: "buy", qty: 3, price: 101.5, leg: null } });
    expect(describeEvent(fill)).toBe("BUY 3 SPY filled @ 101.5");
    const halt = envelope("audit", { ts: T0, correlation_id: "c2", source: "TradingState", symbol: "*", payload: { event: "trading_state", from: "ACTIVE", to: "HALTED", reason: "api: operator", by: "api" } });
    expect(describeEvent(halt)).toBe("trading state ACTIVE → HALTED (api: operator, by api)");
    expect(describeEvent(raw(bar("SPY", 0)))).toBeNull();
    expect(describeEvent(pred("SPY", 0))).toBeNull();
  });
});


describe("takeSseEvents", () => {
  test("complete blocks become events; a partial block waits for the next chunk; data-less blocks are skipped", () => {
    const a = takeSseEvents('event: tick\ndata: {"a":1}\n\n: keep-alive\n\ndata: x\ndata: y\n\nevent: tick\ndata: {"b"');
    expect(a.events).toEqual([{ type: "tick", data: '{"a":1}' }, { type: "message", data: "x\ny" }]);
    expect(a.rest).toBe('event: tick\ndata: {"b"');
    const b = takeSseEvents(a.rest + ':2}\n\n');
    expect(b.events).toEqual([{ type: "tick", data: '{"b":2}' }]);
    expect(b.rest).toBe("");
  });
});
