import { describe, expect, test } from "bun:test";
import { Metrics } from "../../src/obs/metrics";

describe("awet_decision_latency_seconds", () => {
  test("is exposed from the per-bar histogram with exact cumulative buckets, sum and count", async () => {
    const m = new Metrics();
    // ms: two at/below 0.1 ms (le 0.0001 is inclusive), one in (0.1, 0.25], one in (0.25, 0.5], one at 1 ms, one 3 ms, one beyond 0.5 s
    for (const ms of [0.05, 0.1, 0.2, 0.3, 1, 3, 700]) m.decisionLatency.record(ms);
    const lines = (await m.registry.metrics()).split("\n").filter((l) => l.startsWith("awet_decision_latency_seconds"));
    const v = (k: string) => Number(lines.find((l) => l.startsWith(k + " "))?.split(" ")[1]);
    expect(v('awet_decision_latency_seconds_bucket{le="0.0001"}')).toBe(2);
    expect(v('awet_decision_latency_seconds_bucket{le="0.00025"}')).toBe(3);
    expect(v('awet_decision_latency_seconds_bucket{le="0.0005"}')).toBe(4);
    expect(v('awet_decision_latency_seconds_bucket{le="0.001"}')).toBe(5);
    expect(v('awet_decision_latency_seconds_bucket{le="0.0025"}')).toBe(5);
    expect(v('awet_decision_latency_seconds_bucket{le="0.005"}')).toBe(6);
    expect(v('awet_decision_latency_seconds_bucket{le="0.5"}')).toBe(6);
    expect(v('awet_decision_latency_seconds_bucket{le="+Inf"}')).toBe(7);
    expect(v("awet_decision_latency_seconds_count")).toBe(7);
    expect(v("awet_decision_latency_seconds_sum")).toBeCloseTo(0.70465, 9);
    expect(m.decisionLatency.percentile(50)).toBeCloseTo(0.3, 1);
  });

  test("awet_handler_duration_seconds: a series from the first scrape, then one per topic and handler", async () => {
    const m = new Metrics();
    expect(await m.registry.metrics()).toContain('awet_handler_duration_seconds_count{topic="market.raw",handler="none"} 0');
    m.handlerTime("predictions", "Risk", 0.00003);
    m.handlerTime("predictions", "Risk", 0.002);
    m.handlerTime("market.raw", "FeatureEngineering", 2);
    const text = await m.registry.metrics();
    expect(text).toContain('awet_handler_duration_seconds_bucket{topic="predictions",handler="Risk",le="0.00005"} 1');
    expect(text).toContain('awet_handler_duration_seconds_bucket{topic="predictions",handler="Risk",le="0.001"} 1');
    expect(text).toContain('awet_handler_duration_seconds_bucket{topic="predictions",handler="Risk",le="0.0025"} 2');
    expect(text).toContain('awet_handler_duration_seconds_count{topic="predictions",handler="Risk"} 2');
    expect(text).toContain('awet_handler_duration_seconds_bucket{topic="market.raw",handler="FeatureEngineering",le="1"} 0');
    expect(text).toContain('awet_handler_duration_seconds_bucket{topic="market.raw",handler="FeatureEngineering",le="+Inf"} 1');
    expect(text).not.toContain('awet_handler_duration_seconds_count{topic="market.raw",handler="none"}');
  });
});
