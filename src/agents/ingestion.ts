import { envelope, type Bar } from "../core/events";
import { barCorrelations, timeId } from "../core/ids";
import type { CsvItem } from "../market/csv";
import type { MarketSource } from "../market/replay";
import { validateBar } from "../market/validate";
import type { LatencyHistogram } from "../obs/latency";
import { AgentStatus, bump, type AgentContext } from "./context";

export interface IngestionProgress {
  read: number;
  total: number | null;
}

/**
 * DataIngestion: reads a MarketSource, validates every bar, stores good ones and publishes them
 * on market.raw with a fresh correlation id; bad ones go to market.rejected with a reason and the
 * run goes on.
 */
export class DataIngestionAgent {
  readonly status = new AgentStatus("DataIngestion");
  private lastTs = new Map<string, number>();
  private symbols: Set<string>;
  /** Correlation ids of the current run's bars (the run changes between replays of one daemon). */
  private correlation: (symbol: string, ts: number) => string = () => "";
  private corrRun: string | null = null;
  /** Wall-clock ms from ingestion to the end of the bar's chain (fixed size, any run length): the metrics' histogram. */
  readonly latency: LatencyHistogram;

  constructor(private ctx: AgentContext) {
    this.symbols = new Set(ctx.settings.app.symbols);
    this.latency = ctx.metrics.decisionLatency;
  }

  async run(src: MarketSource, opts: { signal?: AbortSignal; onProgress?: (p: IngestionProgress) => void } = {}): Promise<void> {
    this.status.state = "running";
    const every = 2000;
    const progress = () => {
      if (opts.onProgress && this.ctx.stats.bars_read % every === 0) opts.onProgress({ read: this.ctx.stats.bars_read, total: src.total });
    };
    const now = src.itemsNow?.() ?? null;
    if (now !== null) {
      // Nothing to wait for between items: a bar whose chain does no I/O costs no promise at all.
      // Every ~50 ms the loop lets timers and sockets run (/health, metrics, flush timers answer
      // during a long replay).
      let turn = performance.now();
      let n = 0;
      for (const it of now) {
        if (opts.signal?.aborted) break;
        if ((++n & 255) === 0 && performance.now() - turn > 50) {
          await new Promise<void>((r) => setImmediate(r));
          turn = performance.now();
        }
        const r = this.handle(it);
        if (r) await r;
        progress();
      }
    } else
      for await (const it of src.items(opts.signal)) {
        const r = this.handle(it);
        if (r) await r;
        progress();
      }
    await this.ctx.store.flush();
    this.status.state = "idle";
  }

  handle(it: CsvItem): Promise<void> | void {
    const { ctx } = this;
    ctx.stats.bars_read++;
    if (it.kind === "bad") return this.reject(it.symbol || "?", it.ts ?? 0, it.reason, it.detail, { file: it.file, line: it.line });
    const bar = it.bar;
    const bad = validateBar(bar, this.lastTs.get(bar.symbol), this.symbols, ctx.settings.app.max_bar_range_pct);
    if (bad) return this.reject(bar.symbol, bar.ts, bad.reason, bad.detail, { file: it.file, line: it.line, bar });
    this.lastTs.set(bar.symbol, bar.ts);
    return this.accept(bar);
  }

  /** Accept a validated bar: store it, advance the clock, and run it through the pipeline. */
  accept(bar: Bar): Promise<void> | void {
    const { ctx } = this;
    const t0 = performance.now();
    if (this.corrRun !== ctx.runId) (this.corrRun = ctx.runId), (this.correlation = barCorrelations(ctx.runId));
    const correlation_id = this.correlation(bar.symbol, bar.ts);
    ctx.clock.advanceTo?.(bar.ts);
    const stored = ctx.store.appendBars([bar], ctx.runId);
    const go = (): Promise<void> | void => {
      ctx.stats.bars_processed++;
      this.status.seen(bar.ts);
      const r = ctx.emit(envelope("market.raw", { ts: bar.ts, correlation_id, source: "DataIngestion", symbol: bar.symbol, payload: bar }));
      if (r) return r.then(() => this.done(t0));
      this.done(t0);
    };
    return stored ? stored.then(go) : go();
  }

  private done(t0: number): void {
    const dt = performance.now() - t0;
    this.latency.record(dt); // also awet_decision_latency_seconds, read at each scrape
  }

  private async reject(symbol: string, ts: number, reason: string, detail: string, where: Record<string, unknown>): Promise<void> {
    const { ctx } = this;
    ctx.stats.bars_rejected++;
    bump(ctx.stats.rejected_by_reason, reason);
    ctx.metrics.barsRejected.inc({ reason });
    ctx.log.warn({ symbol, reason, detail, ...where, bar: undefined }, "bar rejected");
    const correlation_id = timeId(ts, `${ctx.runId}|rejected|${String(where.file)}|${String(where.line)}`);
    await ctx.emit(
      envelope("market.rejected", { ts, correlation_id, source: "DataIngestion", symbol, payload: { reason, detail, ...where } }),
    );
  }
}
