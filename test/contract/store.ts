import { describe, expect, test, beforeEach, afterEach } from "bun:test";
import type {
  AuditRepository, BacktestRunRepository, BarRepository, DeadLetterRepository, JobRunRepository, LlmTraceRepository, ModelRepository, PnlRepository,
  PositionRepository, StateRepository, Store, StoreLifecycle, TradeRepository, WatchRepository,
} from "../../src/store/port";
import { envelope } from "../../src/core/events";
import { StoreError } from "../../src/core/errors";
import { newTrade, T0 } from "../helpers";

type Methods<T> = { [K in keyof T]-?: NonNullable<T[K]> extends (...a: never[]) => unknown ? K : never }[keyof T];
interface Concerns {
  bars: BarRepository; audit: AuditRepository; trades: TradeRepository; positions: PositionRepository; llm: LlmTraceRepository; pnl: PnlRepository;
  models: ModelRepository; jobRuns: JobRunRepository; backtests: BacktestRunRepository; state: StateRepository; deadLetters: DeadLetterRepository;
  watch: WatchRepository; lifecycle: StoreLifecycle;
}

/** Every method of every repository of the port, which the contract must exercise on each adapter. */
export const STORE_METHODS = {
  bars: ["appendBars", "barCloses", "barsBetween", "latestBarTs"],
  audit: ["appendAudit", "auditByCorrelation", "recentAudit", "countAudit"],
  trades: ["insertTrade", "appendTrades", "updateTrade", "getTrade", "getTradeByKey", "listTrades", "orderStats", "placedTradesSince"],
  positions: ["positions", "getPosition", "upsertPosition", "recordFill"],
  llm: ["recordLlmTrace", "listLlmTraces"],
  pnl: ["saveDailyPnl", "listDailyPnl"],
  models: ["saveModel", "listModels", "productionModelVersion", "promoteModel", "setModelStatus"],
  jobRuns: ["startJobRun", "finishJobRun", "listJobRuns"],
  backtests: ["saveBacktestRun", "getBacktestRun", "listBacktestRuns"],
  state: ["getState", "setState", "watchState", "stateVersion"],
  deadLetters: ["recordDeadLetter"],
  watch: ["saveHeartbeat", "listHeartbeats", "deleteHeartbeat", "saveLag", "listLag", "pruneWatch"],
  lifecycle: ["migrate", "counts", "ping", "backlog", "warnings", "flush", "close"],
} as const satisfies { [C in keyof Concerns]: readonly Methods<Concerns[C]>[] };

// A method added to a repository and missing above fails the typecheck, naming it.
type Unlisted = { [C in keyof Concerns]: Exclude<Methods<Concerns[C]>, (typeof STORE_METHODS)[C][number]> }[keyof Concerns];
const everyMethodListed: [Unlisted] extends [never] ? true : Unlisted = true;
void everyMethodListed;

/**
 * The Store contract: every adapter must pass it unchanged. `make` returns a fresh, migrated,
 * empty store; `dispose` cleans it up. Every method of the port must be called by some test here
 * (checked after the suite).
 */
export function storeContract(name: string, make: () => Promise<Store>, dispose: (s: Store) => Promise<void>, peer: (s: Store) => Store) {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    let raw: Store;
    const used = new Set<string>();
    const listed = new Set<string>(Object.values(STORE_METHODS).flat());
    beforeEach(async () => {
      raw = await make();
      // the tests see the store through a proxy that records which members they use
      store = new Proxy(raw, { get: (t, k, r) => (typeof k === "string" && used.add(k), Reflect.get(t, k, r)) });
    });
    afterEach(async () => {
      await dispose(raw);
    });

    test("migrate is idempotent: a second run applies nothing", async () => {
      expect(await store.migrate()).toEqual([]);
    });

    test("insertTrade writes a row and returns it with an id", async () => {
      const row = await store.insertTrade(newTrade());
      expect(row).not.toBeNull();
      expect(row!.id).toBeGreaterThan(0);
      expect(row!.symbol).toBe("SPY");
      expect(row!.ts).toBe(T0);
      expect(row!.paper_trade).toBe(true);
    });

    test("insertTrade retried after its reply was lost returns its own row; a new attempt on the same key gets null", async () => {
      const attempt = newTrade({ idempotency_key: "w-lost", status: "pending_submit", submit_wall_at: 1_700_000_000_123 });
      const first = (await store.insertTrade(attempt))!;
      // the same statement again (what a retry after a dropped connection sends): it is ours
      const retried = await store.insertTrade(attempt);
      expect(retried?.id).toBe(first.id);
      // a redelivered intent is a new attempt (another wall time), and a blocked row has none: duplicates
      expect(await store.insertTrade({ ...attempt, submit_wall_at: 1_700_000_000_999 })).toBeNull();
      expect(await store.insertTrade({ ...attempt, submit_wall_at: null })).toBeNull();
      expect(await store.insertTrade({ ...attempt, run_id: "other-run" })).toBeNull();
      expect((await store.listTrades({})).length).toBe(1);
    });

    test("a second insert with the same idempotency key writes nothing and returns null", async () => {
      await store.insertTrade(newTrade({ status: "pending_submit" }));
      const again = await store.insertTrade(newTrade({ status: "blocked", symbol: "IBM" }));
      expect(again).toBeNull();
      const all = await store.listTrades({});
      expect(all.length).toBe(1);
      expect(all[0]!.symbol).toBe("SPY");
    });

    test("prices keep their cents exactly (6 decimals)", async () => {
      const prices = [0.1 + 0.2, 168.125, 1234567.891234, 0.0001];
      for (const [i, p] of prices.entries()) await store.insertTrade(newTrade({ idempotency_key: `k${i}`, price: p, avg_fill_price: p }));
      const rows = (await store.listTrades({ limit: 10 })).sort((a, b) => a.id - b.id);
      expect(rows.map((r) => r.price)).toEqual([0.3, 168.125, 1234567.891234, 0.0001]);
      expect(rows.map((r) => r.avg_fill_price)).toEqual([0.3, 168.125, 1234567.891234, 0.0001]);
    });

    test("updateTrade patches fields; an unknown id is an error", async () => {
      const row = (await store.insertTrade(newTrade({ status: "pending_submit" })))!;
      await store.updateTrade(row.id, { status: "filled", filled_qty: 10, avg_fill_price: 168.2, filled_at: T0 + 60_000, updated_at: T0 + 60_000 });
      const got = (await store.getTrade(row.id))!;
      expect(got.status).toBe("filled");
      expect(got.filled_qty).toBe(10);
      expect(got.avg_fill_price).toBe(168.2);
      expect(got.filled_at).toBe(T0 + 60_000);
      await expect(store.updateTrade(999_999, { status: "filled" })).rejects.toThrow(/999999 not found/);
    });

    test("listTrades filters by status and symbol, newest first, honours limit", async () => {
      await store.insertTrade(newTrade({ idempotency_key: "a", ts: T0, status: "blocked" }));
      await store.insertTrade(newTrade({ idempotency_key: "b", ts: T0 + 1000, status: "filled", symbol: "IBM" }));
      await store.insertTrade(newTrade({ idempotency_key: "c", ts: T0 + 2000, status: "blocked" }));
      expect((await store.listTrades({ status: "blocked" })).map((t) => t.idempotency_key)).toEqual(["c", "a"]);
      expect((await store.listTrades({ symbol: "IBM" })).map((t) => t.idempotency_key)).toEqual(["b"]);
      expect((await store.listTrades({ limit: 1 })).map((t) => t.idempotency_key)).toEqual(["c"]);
    });

    test("orderStats counts non-blocked orders in the window, open orders and pending buys", async () => {
      await store.insertTrade(newTrade({ idempotency_key: "old", ts: T0 - 120_000, status: "filled", filled_qty: 10 }));
      await store.insertTrade(newTrade({ idempotency_key: "open", ts: T0 - 30_000, status: "submitted", qty: 10, price: 100 }));
      await store.insertTrade(newTrade({ idempotency_key: "blk", ts: T0 - 10_000, status: "blocked" }));
      await store.insertTrade(newTrade({ idempotency_key: "ibm", ts: T0 - 5_000, status: "pending_submit", symbol: "IBM", qty: 2, price: 50 }));
      const s = await store.orderStats("SPY", T0 - 60_000, T0 - 3_600_000);
      expect(s.ordersSince).toBe(2); // open + ibm; blocked never counts
      expect(s.symbolOrdersSince).toBe(2); // old + open
      expect(s.openOrders).toBe(2);
      expect(s.lastSymbolOrderTs).toBe(T0 - 30_000);
      expect(s.pendingBuyNotional).toBe(1100);
      expect(s.pendingSymbolBuyNotional).toBe(1000);
    });

    test("wall-clock columns round-trip apart from event time; unknown status; the adopted filter", async () => {
      const W = 1_790_000_000_000; // a wall time far from the event time T0
      const row = (await store.insertTrade(newTrade({ status: "pending_submit", client_order_id: "k-1", submit_wall_at: W })))!;
      expect(row).toMatchObject({ ts: T0, updated_at: T0, submit_wall_at: W, first_contact_wall_at: null, last_contact_wall_at: null, adopted_at: null });
      await store.updateTrade(row.id, { status: "unknown", first_contact_wall_at: W + 1_000, last_contact_wall_at: W + 31_000 });
      expect((await store.getTrade(row.id))!).toMatchObject({ status: "unknown", ts: T0, updated_at: T0, submit_wall_at: W, first_contact_wall_at: W + 1_000, last_contact_wall_at: W + 31_000 });
      expect((await store.listTrades({ status: "unknown" })).map((t) => t.id)).toEqual([row.id]);
      await store.insertTrade(newTrade({ idempotency_key: "k-2", client_order_id: "k-2", status: "filled", adopted_at: W + 5 }));
      expect((await store.listTrades({ adopted: true })).map((t) => [t.idempotency_key, t.adopted_at])).toEqual([["k-2", W + 5]]);
    });

    test("a position's inherited flag round-trips and an update can clear it", async () => {
      await store.upsertPosition({ symbol: "SPY", qty: 5, avg_entry_price: 168, last_price: 168, market_value: 840, unrealized_pl: 0, opened_at: T0, updated_at: T0, inherited: true });
      expect((await store.getPosition("SPY"))!.inherited).toBe(true);
      await store.upsertPosition({ symbol: "SPY", qty: 5, avg_entry_price: 168, last_price: 169, market_value: 845, unrealized_pl: 5, opened_at: T0, updated_at: T0 + 1 });
      expect((await store.getPosition("SPY"))!.inherited ?? false).toBe(false);
    });

    test("recordFill: the trade's fill and the position in one commit; an unknown trade writes neither", async () => {
      const row = (await store.insertTrade(newTrade({ idempotency_key: "fill-1", status: "submitted", qty: 10 })))!;
      const pos = { symbol: "SPY", qty: 10, avg_entry_price: 168.2, last_price: 168.2, market_value: 1682, unrealized_pl: 0, opened_at: T0 + 60_000, updated_at: T0 + 60_000 };
      await store.recordFill(row.id, { status: "filled", filled_qty: 10, avg_fill_price: 168.2, filled_at: T0 + 60_000, updated_at: T0 + 60_000 }, pos);
      const other = peer(raw); // committed: another connection sees both
      try {
        expect(await other.getTrade(row.id)).toMatchObject({ status: "filled", filled_qty: 10, avg_fill_price: 168.2, filled_at: T0 + 60_000 });
        expect(await other.getPosition("SPY")).toMatchObject({ qty: 10, avg_entry_price: 168.2, opened_at: T0 + 60_000 });
      } finally {
        await other.close();
      }
      // an unknown trade: an error naming it, and the position is not touched either
      await expect(store.recordFill(999_999, { status: "filled", filled_qty: 5 }, { ...pos, qty: 5, updated_at: T0 + 120_000 })).rejects.toThrow(/trade 999999 not found/);
      expect((await store.getPosition("SPY"))!.qty).toBe(10);
      // the position written first would be kept by a second commit: both must be one transaction
      const row2 = (await store.insertTrade(newTrade({ idempotency_key: "fill-2", status: "submitted", qty: 5, symbol: "IBM" })))!;
      await store.recordFill(row2.id, { status: "filled", filled_qty: 5 }, { ...pos, symbol: "IBM", qty: 5 });
      expect((await store.getTrade(row2.id))!.status).toBe("filled");
      expect((await store.getPosition("IBM"))!.qty).toBe(5);
    });

    test("positions upsert and read back", async () => {
      await store.upsertPosition({ symbol: "SPY", qty: 10, avg_entry_price: 168.1, last_price: 168.3, market_value: 1683, unrealized_pl: 2, opened_at: T0, updated_at: T0 });
      await store.upsertPosition({ symbol: "SPY", qty: 0, avg_entry_price: 0, last_price: 169, market_value: 0, unrealized_pl: 0, opened_at: null, updated_at: T0 + 1 });
      const ps = await store.positions();
      expect(ps.length).toBe(1);
      expect(ps[0]!.qty).toBe(0);
      expect((await store.getPosition("SPY"))!.last_price).toBe(169);
      expect(await store.getPosition("IBM")).toBeNull();
    });

    test("buffered bars and audit events are readable after flush, and replays do not duplicate them", async () => {
      const bar = { symbol: "SPY", ts: T0, open: 1, high: 2, low: 0.5, close: 1.5, volume: 10 };
      const e = envelope("market.raw", { ts: T0, correlation_id: "corr-1", source: "test", symbol: "SPY", payload: bar });
      await store.appendBars([bar], "test");
      await store.appendAudit([e]);
      await store.appendAudit([e]); // at-least-once delivery: same event id twice
      await store.flush();
      const c = await store.counts();
      expect(c.market_bars).toBe(1);
      expect(c.audit_events).toBe(1);
      const rows = await store.auditByCorrelation("corr-1");
      expect(rows.length).toBe(1);
      expect(rows[0]!.event_type).toBe("market.raw");
      expect((rows[0]!.payload as { close: number }).close).toBe(1.5);
      await store.appendBars([bar], "test");
      await store.flush();
      expect((await store.counts()).market_bars).toBe(1);
    });

    test("recentAudit lists one correlation id's rows, newest first, up to the limit", async () => {
      const ev = (i: number, corr: string) => envelope("audit", { ts: T0 + i * 1000, correlation_id: corr, idempotency_key: `k-${i}`, source: "operator", symbol: "", payload: { event: "control", i } });
      await store.appendAudit([ev(1, "operator"), ev(2, "c-other"), ev(3, "operator"), ev(4, "operator")]);
      const rows = await store.recentAudit("operator", 2);
      expect(rows.map((r) => (r.payload as { i: number }).i)).toEqual([4, 3]);
      expect(rows[0]!.correlation_id).toBe("operator");
      expect((await store.recentAudit("nobody", 5)).length).toBe(0);
    });

    test("a time filter beyond year 9999 or before year 1 is not compared as text (issue 13.9)", async () => {
      const base = { base_url: null, latency_ms: 1, error_message: null, prompt_tokens: null, completion_tokens: null, agent_name: "RiskAgent", model: "m", status: "ok", request: {}, response: {} };
      await store.recordLlmTrace({ ...base, ts: T0, correlation_id: "c1" });
      const y10000 = Date.parse("+010000-01-01T00:00:00Z");
      expect((await store.listLlmTraces({ since: y10000 })).length).toBe(0);
      expect((await store.listLlmTraces({ since: Date.parse("-000001-01-01T00:00:00Z") })).length).toBe(1);
      expect((await store.listLlmTraces({ until: y10000 })).length).toBe(1);
      expect((await store.listTrades({ since: y10000 })).length).toBe(0);
    });

    test("dead letters and state are stored", async () => {
      const e = envelope("predictions", { ts: T0, correlation_id: "c", source: "t", symbol: "SPY", payload: {} });
      await store.recordDeadLetter({ ts: T0, topic: "predictions", handler: "Risk", event: e, error: "boom" });
      expect((await store.counts()).dead_letters).toBe(1);
      expect(await store.getState("trading_state")).toBeNull();
      await store.setState("trading_state", "HALTED", T0);
      await store.setState("trading_state", "ACTIVE", T0 + 1);
      expect(await store.getState("trading_state")).toBe("ACTIVE");
    });

    test("LLM traces keep request/response JSON and filter by agent, status and correlation", async () => {
      const base = { base_url: "http://127.0.0.1:11434", latency_ms: 12.5, error_message: null, prompt_tokens: 10, completion_tokens: 5 };
      await store.recordLlmTrace({ ...base, ts: T0, correlation_id: "c1", agent_name: "RiskAgent", model: "m", status: "ok", request: { messages: [{ role: "user", content: "hi" }] }, response: { content: "{}" } });
      await store.recordLlmTrace({ ...base, ts: T0 + 1000, correlation_id: "c2", agent_name: "Orchestrator", model: "m", status: "error", error_message: "boom", request: { a: 1 }, response: null });
      const all = await store.listLlmTraces({});
      expect(all.map((t) => t.correlation_id)).toEqual(["c2", "c1"]);
      expect(all[1]!.request).toEqual({ messages: [{ role: "user", content: "hi" }] });
      expect(all[1]!.latency_ms).toBe(12.5);
      expect((await store.listLlmTraces({ agent: "RiskAgent" })).length).toBe(1);
      expect((await store.listLlmTraces({ status: "error" }))[0]!.error_message).toBe("boom");
      expect((await store.listLlmTraces({ correlation_id: "c1" }))[0]!.prompt_tokens).toBe(10);
      expect((await store.listLlmTraces({ afterId: all[1]!.id })).map((t) => t.correlation_id)).toEqual(["c2"]);
      expect((await store.listLlmTraces({ since: T0 + 500 })).length).toBe(1);
    });

    test("daily PnL rows: one per date, overwritten on re-run; bar closes and the latest bar", async () => {
      const row = { report_date: "2013-10-07", realized_pnl_usd: 12.34, unrealized_pnl_usd: -1.5, total_pnl_usd: 10.84, win_rate: 0.5, num_trades: 4, num_buys: 2, num_sells: 2, volume_usd: 1234.56, wins: 1, losses: 1, avg_win_usd: 20, avg_loss_usd: -7.66, max_drawdown_usd: 9.99, best_symbol: "SPY", worst_symbol: "IBM", created_at: T0 };
      await store.saveDailyPnl(row);
      await store.saveDailyPnl({ ...row, realized_pnl_usd: 13.01, total_pnl_usd: 11.51 });
      await store.saveDailyPnl({ ...row, report_date: "2013-10-08", win_rate: null, avg_win_usd: null });
      const rows = await store.listDailyPnl(7);
      expect(rows.map((r) => r.report_date)).toEqual(["2013-10-08", "2013-10-07"]);
      expect(rows[1]).toMatchObject({ realized_pnl_usd: 13.01, total_pnl_usd: 11.51, max_drawdown_usd: 9.99, best_symbol: "SPY", win_rate: 0.5 });
      expect(rows[0]!.win_rate).toBeNull();
      expect(await store.latestBarTs()).toBeNull();
      await store.appendBars([{ symbol: "SPY", ts: T0, open: 1, high: 2, low: 0.5, close: 1.25, volume: 1 }, { symbol: "IBM", ts: T0 + 60_000, open: 1, high: 2, low: 0.5, close: 1.5, volume: 1 }], "t");
      expect(await store.barCloses(T0, T0 + 60_000)).toEqual([{ symbol: "SPY", ts: T0, price: 1.25 }]);
      expect(await store.latestBarTs()).toBe(T0 + 60_000);
    });

    test("model registry: one production version at a time; job runs with steps", async () => {
      const m = { name: "q", status: "candidate" as const, created_at: T0, promoted_at: null, metrics: { pinball_loss: 0.1 }, train_window: { n: 5 }, features: ["a"], params: { w: [1, 2] } };
      await store.saveModel({ ...m, version: "v1" });
      await store.saveModel({ ...m, version: "v2", created_at: T0 + 1 });
      expect(await store.productionModelVersion()).toBeNull();
      await store.promoteModel("v1", T0 + 2);
      expect(await store.productionModelVersion()).toBe("v1");
      await store.promoteModel("v2", T0 + 3);
      const ms = await store.listModels();
      expect(ms.map((x) => [x.version, x.status])).toEqual([["v2", "production"], ["v1", "retired"]]);
      expect(await store.productionModelVersion()).toBe("v2");
      expect(ms[0]!.params).toEqual({ w: [1, 2] });
      await expect(store.promoteModel("nope", T0)).rejects.toThrow(/no model version nope/);
      const id = await store.startJobRun("night_trainer", "manual", T0);
      await store.finishJobRun(id, { status: "ok", steps: [{ name: "train", input: "100 bars", output: "v3", duration_ms: 5, ok: true }], error: null, finished_at: T0 + 5 });
      await store.startJobRun("trade_watchdog", "cron", T0 + 10);
      const runs = await store.listJobRuns({ job: "night_trainer" });
      expect(runs).toEqual([{ id, job: "night_trainer", trigger: "manual", started_at: T0, finished_at: T0 + 5, status: "ok", steps: [{ name: "train", input: "100 bars", output: "v3", duration_ms: 5, ok: true }], error: null }]);
      expect((await store.listJobRuns({})).length).toBe(2);
      await store.appendBars([{ symbol: "SPY", ts: T0, open: 1, high: 2, low: 0.5, close: 1.25, volume: 10 }], "t");
      expect(await store.barsBetween(T0, T0 + 1)).toEqual([{ symbol: "SPY", ts: T0, open: 1, high: 2, low: 0.5, close: 1.25, volume: 10 }]);
    });

    test("backtest runs: stored whole, newest first, a reused id refused", async () => {
      const run = (id: string, at: number) => ({
        id, label: id === "r1" ? "baseline" : null, started_at: at, finished_at: at + 1_500, symbols: ["SPY", "IBM"], range_from: "2013-10-07", range_to: null,
        data_files: [{ path: "/d/SPY.csv", sha256: "ab".repeat(32), bytes: 123 }], config: { app: { take_profit_pct: 1 }, llm: { llm_enabled: false } },
        config_hash: "cd".repeat(32), code_version: "0.1.0", summary: { bars_read: 10, rejected_by_reason: { unknown_symbol: 2 } },
        results: { return_pct: -0.4, equity_curve: [{ ts: at, equity_usd: 100_000, benchmark_usd: 100_000 }], sharpe: null },
      });
      await store.saveBacktestRun(run("r1", T0));
      await store.saveBacktestRun(run("r2", T0 + 60_000));
      expect(await store.getBacktestRun("r1")).toEqual(run("r1", T0));
      expect(await store.getBacktestRun("nope")).toBeNull();
      expect((await store.listBacktestRuns(10)).map((r) => r.id)).toEqual(["r2", "r1"]);
      expect((await store.listBacktestRuns(1)).map((r) => r.id)).toEqual(["r2"]);
      await expect(store.saveBacktestRun(run("r1", T0 + 5))).rejects.toThrow(/cannot store run r1: .*(UNIQUE constraint failed: backtest_runs.id|duplicate key value violates unique constraint "backtest_runs_pkey")/);
      expect((await store.getBacktestRun("r1"))!.started_at).toBe(T0);
    });

    test("heartbeats: one row per process, replaced on each beat, deleted on a clean stop, pruned when old", async () => {
      const hb = { process_id: "host-a:ingestion,features", host: "host-a", pid: 101, agents: ["ingestion", "features"], groups: [{ group: "awet.FeatureEngineering", topics: ["market.raw"] }], version: "0.1.0", bus: "memory", store: store.kind, url: "http://127.0.0.1:8001", started_at: T0, last_beat: T0 + 5_000 };
      await store.saveHeartbeat(hb);
      await store.saveHeartbeat({ ...hb, last_beat: T0 + 10_000 });
      await store.saveHeartbeat({ ...hb, process_id: "host-b:risk", host: "host-b", pid: 7, agents: ["risk"], groups: [], url: null, last_beat: T0 + 1_000 });
      const rows = await store.listHeartbeats();
      expect(rows.map((r) => r.process_id)).toEqual(["host-a:ingestion,features", "host-b:risk"]);
      expect(rows[0]).toEqual({ ...hb, last_beat: T0 + 10_000 });
      expect(rows[1]!.url).toBeNull();
      await store.deleteHeartbeat("host-a:ingestion,features");
      expect((await store.listHeartbeats()).map((r) => r.process_id)).toEqual(["host-b:risk"]);
      expect(await store.pruneWatch(T0 + 1_001)).toEqual({ heartbeats: 1, lag: 0 });
      expect(await store.listHeartbeats()).toEqual([]);
    });

    test("consumer lag rows: keyed by group, topic and partition; no committed offset is null; replaced on each observation", async () => {
      const base = { group: "awet.Risk", topic: "predictions", observed_by: "p1" };
      await store.saveLag([
        { ...base, partition: 0, committed: 10, end: 15, lag: 5, above_since: null, observed_at: T0 },
        { ...base, partition: 1, committed: null, end: 3000, lag: 3000, above_since: T0, observed_at: T0 },
      ]);
      await store.saveLag([{ ...base, partition: 1, committed: 2990, end: 3000, lag: 10, above_since: null, observed_at: T0 + 30_000 }]);
      await store.saveLag([]);
      expect(await store.listLag()).toEqual([
        { ...base, partition: 0, committed: 10, end: 15, lag: 5, above_since: null, observed_at: T0 },
        { ...base, partition: 1, committed: 2990, end: 3000, lag: 10, above_since: null, observed_at: T0 + 30_000 },
      ]);
      await store.saveLag([{ ...base, partition: 2, committed: null, end: 2000, lag: 2000, above_since: T0 + 1, observed_at: T0 + 30_000 }]);
      expect((await store.listLag()).find((r) => r.partition === 2)).toMatchObject({ committed: null, above_since: T0 + 1 });
      expect(await store.pruneWatch(T0 + 1)).toEqual({ heartbeats: 0, lag: 1 });
      expect((await store.listLag()).map((r) => r.partition)).toEqual([1, 2]);
      await expect(store.saveLag([{ ...base, partition: 3, committed: 5, end: 4, lag: -1, above_since: null, observed_at: T0 }])).rejects.toThrow(/^saveLag failed: .*(CHECK constraint failed: lag >= 0|violates check constraint "consumer_lag_lag_check")/);
    });

    test("getTradeByKey, placedTradesSince (not blocked or rejected, oldest first), countAudit and ping", async () => {
      const a = (await store.insertTrade(newTrade({ idempotency_key: "ka", status: "submitted", ts: T0 + 2000 })))!;
      await store.insertTrade(newTrade({ idempotency_key: "kb", status: "blocked", ts: T0 + 1000 }));
      await store.insertTrade(newTrade({ idempotency_key: "kc", status: "rejected", ts: T0 + 3000 }));
      const d = (await store.insertTrade(newTrade({ idempotency_key: "kd", status: "filled", ts: T0 + 1500 })))!;
      await store.insertTrade(newTrade({ idempotency_key: "ke", status: "filled", ts: T0 - 60_000 }));
      expect((await store.getTradeByKey("ka"))!.id).toBe(a.id);
      expect(await store.getTradeByKey("nope")).toBeNull();
      expect((await store.placedTradesSince(T0)).map((r) => r.idempotency_key)).toEqual(["kd", "ka"]);
      expect((await store.placedTradesSince(T0)).map((r) => r.id)).toEqual([d.id, a.id]);
      const ev = (n: number, type: "audit" | "risk.approved") => envelope(type, { ts: T0 + n, correlation_id: `c${n}`, source: "t", symbol: "SPY", payload: { n } });
      await store.appendAudit([ev(1, "audit"), ev(2, "audit"), ev(3, "risk.approved")]);
      await store.flush();
      expect(await store.countAudit()).toBe(3);
      expect(await store.countAudit("audit")).toBe(2);
      expect(await store.countAudit("predictions")).toBe(0);
      await store.ping(); // resolves on a live store
    });

    test("text through the batched writer comes back exactly: quotes, backslashes, commas, braces, newlines, the word NULL, non-ASCII", async () => {
      const hostile = 'say "hi", C:\\path\\x {x} NULL\nline 2 \\" ünï €';
      const e = envelope("audit", { ts: T0, correlation_id: "corr-hostile", source: "test", symbol: "SPY", payload: { event: "note", detail: hostile, nested: { q: '"', b: "\\", n: "NULL" } } });
      await store.appendAudit([e]);
      await store.appendTrades([newTrade({ idempotency_key: "hostile-1", status: "blocked", error_message: hostile })]);
      await store.appendTrades([newTrade({ idempotency_key: "hostile-2", status: "blocked", error_message: "NULL" })]);
      await store.appendTrades([newTrade({ idempotency_key: "hostile-4", status: "blocked", error_message: "C:\\dir\\n no quote" })]);
      const w = (await store.insertTrade(newTrade({ idempotency_key: "hostile-3", status: "pending_submit", error_message: hostile })))!;
      expect(w.error_message).toBe(hostile);
      await store.flush();
      const [a] = await store.auditByCorrelation("corr-hostile");
      expect(a!.payload).toEqual({ event: "note", detail: hostile, nested: { q: '"', b: "\\", n: "NULL" } });
      expect((await store.getTradeByKey("hostile-1"))!.error_message).toBe(hostile);
      expect((await store.getTradeByKey("hostile-2"))!.error_message).toBe("NULL"); // the text, not a NULL
      expect((await store.getTradeByKey("hostile-4"))!.error_message).toBe("C:\\dir\\n no quote");
    });

    test("insertTrade commits the order's chain with it — its bar, its correlation's audit rows, the blocked rows decided before it — as another connection sees", async () => {
      const bar = (symbol: string) => ({ symbol, ts: T0, open: 1, high: 2, low: 0.5, close: 1.5, volume: 10 });
      const ev = (corr: string, type: "market.engineered" | "predictions" | "risk.approved", symbol: string) =>
        envelope(type, { ts: T0, correlation_id: corr, source: "test", symbol, payload: { type } });
      await store.appendBars([bar("SPY"), bar("IBM")], "test");
      await store.appendAudit([ev("corr-A", "market.engineered", "SPY"), ev("corr-B", "market.engineered", "IBM"), ev("corr-A", "predictions", "SPY")]);
      await store.appendTrades([newTrade({ idempotency_key: "blk-1", status: "blocked", symbol: "IBM", correlation_id: "corr-B" })]);
      await store.appendAudit([ev("corr-A", "risk.approved", "SPY")]);
      const w = (await store.insertTrade(newTrade({ idempotency_key: "wa-1", status: "pending_submit", symbol: "SPY", correlation_id: "corr-A" })))!;
      // What the broker call may rely on, read over a second connection before anything else is flushed:
      const other = peer(raw);
      try {
        expect((await other.auditByCorrelation("corr-A")).map((r) => r.event_type)).toEqual(["market.engineered", "predictions", "risk.approved"]);
        expect((await other.barsBetween(T0, T0 + 1)).map((b) => b.symbol)).toContain("SPY");
        const trades = (await other.listTrades({ limit: 10 })).sort((x, y) => x.id - y.id);
        expect(trades.map((t) => t.idempotency_key)).toEqual(["blk-1", "wa-1"]); // ids keep the order of the decisions
        expect(trades[1]!.id).toBe(w.id);
      } finally {
        await other.close();
      }
      // the rest follows with the next flush
      await store.flush();
      expect((await store.auditByCorrelation("corr-B")).length).toBe(1);
      expect((await store.barsBetween(T0, T0 + 1)).map((b) => b.symbol).sort()).toEqual(["IBM", "SPY"]);
    });

    test("appendTrades: buffered rows land with the next batch, a known key is skipped, reads and inserts see them in order", async () => {
      await store.appendTrades([newTrade({ idempotency_key: "b1", status: "blocked", error_message: "cooldown" }), newTrade({ idempotency_key: "b2", status: "blocked" })]);
      const w = (await store.insertTrade(newTrade({ idempotency_key: "w1", status: "pending_submit" })))!;
      await store.appendTrades([newTrade({ idempotency_key: "b1", status: "blocked", symbol: "IBM" })]); // a repeat: skipped
      const rows = (await store.listTrades({ limit: 10 })).sort((x, y) => x.id - y.id);
      expect(rows.map((r) => r.idempotency_key)).toEqual(["b1", "b2", "w1"]); // ids keep the order of the decisions
      expect(rows[0]!.symbol).toBe("SPY");
      expect(rows[0]!.error_message).toBe("cooldown");
      expect(w.id).toBe(rows[2]!.id);
      expect((await store.counts()).trades).toBe(3);
    });

    test("setModelStatus changes one model's status and nothing else", async () => {
      const m = (v: string) => ({ version: v, name: "linear-quantile", status: "candidate" as const, created_at: T0, promoted_at: null, metrics: { p: 1 }, train_window: null, features: ["a"], params: { w: [1] } });
      await store.saveModel(m("v1"));
      await store.saveModel(m("v2"));
      await store.setModelStatus("v1", "retired");
      const byV = Object.fromEntries((await store.listModels()).map((x) => [x.version, x.status]));
      expect(byV).toEqual({ v1: "retired", v2: "candidate" });
    });

    test("the trades table refuses a non-paper row: a StoreError naming the operation, nothing written", async () => {
      const e = await store.insertTrade(newTrade({ paper_trade: false })).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(StoreError);
      expect((e as StoreError).message).toMatch(/^insertTrade failed: .*paper_trade/);
      expect((e as StoreError).op).toBe("insertTrade");
      expect((await store.listTrades({})).length).toBe(0);
    });
  test("audit rows of one time keep the order they were appended in, across batches (not the event ids' order)", async () => {
      const ev = (id: string, i: number) => ({ ...envelope("audit", { ts: T0, correlation_id: "c-order", idempotency_key: `k${i}`, source: "t", symbol: "SPY", payload: { i } }), id });
      await store.appendAudit([ev("e3", 1), ev("e1", 2)]);
      await store.flush();
      await store.appendAudit([ev("e2", 3), ev("e0", 4)]);
      await store.appendAudit([envelope("audit", { ts: T0 - 1, correlation_id: "c-order", source: "t", symbol: "SPY", payload: { i: 0 } })]);
      expect((await store.auditByCorrelation("c-order")).map((r) => (r.payload as { i: number }).i)).toEqual([0, 1, 2, 3, 4]);
      expect((await store.recentAudit("c-order", 3)).map((r) => r.event_id)).toEqual(["e0", "e2", "e1"]);
      expect((await store.auditByCorrelation("c-order"))[1]).toEqual({ ts: T0, event_id: "e3", correlation_id: "c-order", event_type: "audit", source: "t", symbol: "SPY", payload: { i: 1 } });
    });

    test("updateTrade leaves fields given as undefined alone and refuses a column trades lacks", async () => {
      const row = (await store.insertTrade(newTrade({ status: "pending_submit", error_message: "ambiguous: timeout" })))!;
      await store.updateTrade(row.id, { status: "submitted", error_message: undefined });
      expect(await store.getTrade(row.id)).toMatchObject({ status: "submitted", error_message: "ambiguous: timeout" });
      await expect(store.updateTrade(row.id, { "status = 'filled', qty": 1 } as never)).rejects.toThrow(/trades has no column status = 'filled', qty/);
      expect((await store.getTrade(row.id))!.status).toBe("submitted");
    });

    test("bars come back as stored (6 decimals), without their source", async () => {
      await store.appendBars([{ symbol: "SPY", ts: T0, open: 168.1234567, high: 169, low: 167.5, close: 168.25, volume: 1234.5 }], "replay");
      expect(await store.barsBetween(T0, T0 + 1)).toEqual([{ symbol: "SPY", ts: T0, open: 168.123457, high: 169, low: 167.5, close: 168.25, volume: 1234.5 }]);
    });

    test("watchState, where the adapter has it: every state write of this schema is announced", async () => {
      if (!store.watchState) {
        expect(store.kind).toBe("sqlite");
        return;
      }
      const seen: string[] = [];
      let listening = 0;
      const stop = await store.watchState((k) => seen.push(k), () => listening++);
      try {
        expect(listening).toBe(1);
        await store.setState("trading_state", "HALTED", T0);
        await store.setState("trading_state_reason", "test", T0);
        for (let i = 0; i < 100 && seen.length < 2; i++) await Bun.sleep(20);
        expect(seen).toEqual(["trading_state", "trading_state_reason"]);
        expect(await store.getState("trading_state")).toBe("HALTED");
      } finally {
        await stop();
      }
    });

    test("stateVersion, where the adapter has it: moves on another connection's commit and on this store's state write, not on reads", async () => {
      if (!store.stateVersion) {
        expect(store.kind).toBe("postgres"); // announces writes instead (watchState)
        return;
      }
      const v0 = store.stateVersion();
      await store.getState("trading_state");
      expect(store.stateVersion()).toBe(v0);
      await store.setState("trading_state", "REDUCING", T0);
      const v1 = store.stateVersion();
      expect(v1).not.toBe(v0);
      const other = peer(raw); // "awet halt" in another process
      try {
        await other.setState("trading_state", "HALTED", T0 + 1);
        const v2 = store.stateVersion();
        expect(v2).not.toBe(v1);
        expect(await store.getState("trading_state")).toBe("HALTED");
        expect(store.stateVersion()).toBe(v2);
      } finally {
        await other.close();
      }
    });

    test("backlog and warnings, where the adapter has them; close is idempotent", async () => {
      if (store.kind === "postgres") {
        expect(store.backlog!()).toMatchObject({ queued: 0, waiting: false, connected: true, lastError: null });
        expect(store.warnings!()).toEqual([]);
      } else {
        expect(store.backlog).toBeUndefined();
        expect(store.warnings).toBeUndefined();
      }
      await store.appendBars([{ symbol: "SPY", ts: T0, open: 1, high: 1, low: 1, close: 1, volume: 1 }], "t");
      await store.close();
      await store.close();
    });

    // declared last: runs after every test above
    test("every method of every repository of the port was exercised above", () => {
      expect([...listed].filter((m) => !used.has(m))).toEqual([]);
    });
  });
}
