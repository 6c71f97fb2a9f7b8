import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Supervisor } from "../../src/agents/supervisor";
import { Reconciler } from "../../src/agents/reconciler";
import { AlpacaPaperBroker } from "../../src/broker/alpaca";
import { BrokerAmbiguous, BrokerRejected } from "../../src/broker/errors";
import { SystemClock } from "../../src/core/clock";
import { makeLogger } from "../../src/obs/log";
import { SqliteStore } from "../../src/store/sqlite";
import { FakeAlpaca } from "../helpers/fake-alpaca";
import { intent, newTrade, T0, tempHome, testSettings } from "../helpers";

const KEY = "PKCANARYKEYID0000001";
const SECRET = "canary-secret-do-not-log-8f3a1c";

describe("AlpacaPaperBroker against a fake Alpaca over HTTP", () => {
  let fake: FakeAlpaca;
  let broker: AlpacaPaperBroker;
  beforeEach(() => {
    fake = new FakeAlpaca();
    broker = new AlpacaPaperBroker({ baseUrl: fake.url, allowLoopback: true, keyId: KEY, secret: SECRET, timeoutMs: 400 });
  });
  afterEach(() => fake.stop());

  test("a market order goes out once with client_order_id and the keys in headers", async () => {
    const ack = await broker.submit({ client_order_id: "k1", symbol: "SPY", side: "buy", qty: 3, type: "market" });
    expect(ack.status).toBe("accepted");
    expect(fake.orders.length).toBe(1);
    expect(fake.orders[0]!.client_order_id).toBe("k1");
    expect(fake.requests[0]).toMatchObject({ method: "POST", keyId: KEY, secret: SECRET });
  });

  test("a reused client_order_id gets 422 → BrokerRejected with the broker's message", async () => {
    await broker.submit({ client_order_id: "dup", symbol: "SPY", side: "buy", qty: 1, type: "market" });
    const e = await broker.submit({ client_order_id: "dup", symbol: "SPY", side: "buy", qty: 1, type: "market" }).catch((x) => x);
    expect(e).toBeInstanceOf(BrokerRejected);
    expect(e.message).toContain("client_order_id must be unique");
    expect(fake.orders.length).toBe(1);
  });

  test("a 500 or a hang on the POST is ambiguous, never retried", async () => {
    fake.inject("POST /v2/orders", { kind: "status", status: 500 });
    expect(await broker.submit({ client_order_id: "a1", symbol: "SPY", side: "buy", qty: 1, type: "market" }).catch((x) => x)).toBeInstanceOf(BrokerAmbiguous);
    fake.inject("POST /v2/orders", { kind: "hang-after-accept" });
    expect(await broker.submit({ client_order_id: "a2", symbol: "SPY", side: "buy", qty: 1, type: "market" }).catch((x) => x)).toBeInstanceOf(BrokerAmbiguous);
    expect(fake.posts).toBe(2); // one POST each, no transport retry
    expect(fake.orders.map((o) => o.client_order_id)).toEqual(["a2"]);
  });
});

describe("Execution + Reconciler against the fake Alpaca", () => {
  let fake: FakeAlpaca;
  let h: ReturnType<typeof tempHome>;
  let sup: Supervisor;
  let rec: Reconciler;
  let waits: number[];

  beforeEach(async () => {
    fake = new FakeAlpaca();
    h = tempHome();
    mkdirSync(join(h.home, ".tmp"), { recursive: true });
    writeFileSync(join(h.home, ".tmp", "APPROVE_EXECUTION"), "");
    const settings = testSettings(h.home, { AWET_EXECUTION_DRY_RUN: "false", AWET_BROKER: "alpaca" });
    const broker = new AlpacaPaperBroker({ baseUrl: fake.url, allowLoopback: true, keyId: KEY, secret: SECRET, timeoutMs: 400 });
    const log = makeLogger({ logsDir: settings.paths.logs, level: "debug", stderr: false });
    sup = new Supervisor({ settings, broker, log, clock: new SystemClock() });
    await sup.init("alpaca");
    waits = [];
    rec = new Reconciler({ store: sup.store, broker, log, metrics: sup.metrics, now: () => Date.now(), inFlightMs: 0, unfilledTimeoutMs: 3_600_000, sleep: async (ms) => void waits.push(ms) });
  });
  afterEach(async () => {
    await sup.close();
    fake.stop();
    h.cleanup();
  });

  const go = (key: string, over = {}) =>
    sup.execution.process(intent({ idempotency_key: key, correlation_id: `c-${key}`, ts: Date.now(), qty: 4, reference_price: 168.5, ...over }), "entry");

  test("write-ahead, submit, then accepted → partially_filled → filled by reconciliation", async () => {
    const r = await go("e1");
    expect(r.status).toBe("submitted");
    let row = (await sup.store.getTradeByKey("e1"))!;
    expect(row).toMatchObject({ status: "submitted", client_order_id: "e1", alpaca_order_id: "fake-1", alpaca_status: "accepted" });
    expect(row.submit_wall_at).not.toBeNull(); // wall time of the attempt, then of the ack
    expect(row.first_contact_wall_at!).toBeGreaterThanOrEqual(row.submit_wall_at!);
    expect(row.last_contact_wall_at).toBe(row.first_contact_wall_at);
    let st = await rec.reconcileOrders();
    expect(st).toMatchObject({ pending_found: 1, updated: 1, became_terminal: 0, errors: 0 });
    row = (await sup.store.getTradeByKey("e1"))!;
    expect(row).toMatchObject({ status: "partially_filled", filled_qty: 2, avg_fill_price: 168.5 });
    st = await rec.reconcileOrders();
    expect(st).toMatchObject({ pending_found: 1, updated: 1, became_terminal: 1 });
    row = (await sup.store.getTradeByKey("e1"))!;
    expect(row).toMatchObject({ status: "filled", alpaca_status: "filled", filled_qty: 4, avg_fill_price: 168.5 });
    expect(row.filled_at).not.toBeNull();
    st = await rec.reconcileOrders();
    expect(st.pending_found).toBe(0); // terminal orders are not polled again
  });

  test("a broker 422 is stored as rejected with its message, no second POST", async () => {
    fake.inject("POST /v2/orders", { kind: "status", status: 422 });
    const r = await go("e2");
    expect(r.status).toBe("rejected");
    const row = (await sup.store.getTradeByKey("e2"))!;
    expect(row.status).toBe("rejected");
    expect(row.error_message).toContain("injected 422");
    expect(row.first_contact_wall_at).not.toBeNull(); // the broker's 4xx was an answer
    expect(row.first_contact_wall_at!).toBeGreaterThanOrEqual(row.submit_wall_at!);
    expect(fake.posts).toBe(1);
  });

  test("an ambiguous POST that did reach the broker is found by client_order_id, exactly once", async () => {
    fake.inject("POST /v2/orders", { kind: "hang-after-accept" });
    const r = await go("e3");
    expect(r.status).toBe("pending_submit");
    expect((await sup.store.getTradeByKey("e3"))!.error_message).toStartWith("ambiguous:");
    await rec.reconcileOrders();
    const row = (await sup.store.getTradeByKey("e3"))!;
    expect(row.status).toBe("partially_filled");
    expect(row.error_message).toBeNull();
    expect(fake.orders.filter((o) => o.client_order_id === "e3").length).toBe(1);
    expect(fake.posts).toBe(1);
  });

  test("an ambiguous POST that never reached the broker ends unknown (not rejected) after the in-flight window, never resubmitted", async () => {
    fake.inject("POST /v2/orders", { kind: "status", status: 503 });
    expect((await go("e4")).status).toBe("pending_submit");
    const st = await rec.reconcileOrders();
    expect(st.became_unknown).toBe(1);
    const row = (await sup.store.getTradeByKey("e4"))!;
    expect(row.status).toBe("unknown");
    expect(row.error_message).toContain("never resubmitted");
    expect(row.submit_wall_at).not.toBeNull();
    expect(row.last_contact_wall_at).not.toBeNull();
    expect(fake.posts).toBe(1);
    expect(fake.orders.length).toBe(0);
  });

  test("429 with Retry-After and 500s on reads are retried on the 5s/15s/30s schedule", async () => {
    await go("e5");
    fake.inject("GET /v2/orders:by_client_order_id", { kind: "status", status: 429, retryAfter: 20 }, { kind: "status", status: 500 });
    const st = await rec.reconcileOrders();
    expect(st.errors).toBe(0);
    expect(waits).toEqual([20_000, 15_000]); // Retry-After 20s beats 5s; then the 15s step
    fake.inject("GET /v2/orders:by_client_order_id", ...Array.from({ length: 4 }, () => ({ kind: "status" as const, status: 500 })));
    waits = [];
    const errorsBefore = (await sup.metrics.reconcileErrors.get()).values[0]?.value ?? 0;
    const st2 = await rec.reconcileOrders();
    expect(st2.errors).toBe(1);
    expect((await sup.metrics.reconcileErrors.get()).values[0]!.value).toBe(errorsBefore + 1); // counted in /metrics
  });

  test("positions: upserted from the broker, symbols no longer held are zeroed", async () => {
    await sup.store.upsertPosition({ symbol: "IBM", qty: 5, avg_entry_price: 180, last_price: 181, market_value: 905, unrealized_pl: 5, opened_at: T0, updated_at: T0 });
    fake.positionsList = [{ symbol: "SPY", qty: 10, avg_entry_price: 168, current_price: 169 }];
    const r = await rec.reconcilePositions();
    expect(r).toEqual({ synced: 1, zeroed: 1, inherited: 1 });
    expect((await sup.store.getPosition("SPY"))!).toMatchObject({ qty: 10, avg_entry_price: 168, market_value: 1690, unrealized_pl: 10 });
    expect((await sup.store.getPosition("IBM"))!.qty).toBe(0);
  });

  test("the daemon's reconcile reaches the in-memory book: a position synced from the broker is seen by the gates", async () => {
    fake.positionsList = [{ symbol: "SPY", qty: 10, avg_entry_price: 168, current_price: 169 }];
    expect(sup.portfolio.position("SPY")).toBeNull();
    expect(await sup.syncPositions()).toMatchObject({ synced: 1, zeroed: 0 });
    expect(sup.portfolio.position("SPY")).toMatchObject({ qty: 10, avg_entry_price: 168 });
    const r = await go("after-sync", { symbol: "SPY" });
    expect(r).toMatchObject({ status: "blocked", reason: "position_exists" }); // the gate saw the broker's position
    // an order filled at the broker: the reconcile cycle updates the row and the book
    const e = await go("e-cycle", { symbol: "IBM" });
    expect(e.status).toBe("submitted");
    await sup.reconcileCycle(Date.parse("2013-10-07T15:00:00Z")); // a Monday in session: orders are reconciled
    await sup.reconcileCycle(Date.parse("2013-10-07T15:00:00Z"));
    expect((await sup.store.getTradeByKey("e-cycle"))!.status).toBe("filled");
    expect(sup.portfolio.tradeByKey("e-cycle")!.status).toBe("filled");
  });

  test("an entry not filled after unfilled_timeout_seconds is cancelled and recorded", async () => {
    fake.progress = false;
    await go("e6");
    // two hours of wall time later (the window is wall time, whatever the row's event time says)
    const later = () => Date.now() + 7_200_000;
    const r2 = new Reconciler({ store: sup.store, broker: sup.broker as AlpacaPaperBroker, log: sup.log, now: later, wallNow: later, inFlightMs: 30_000, unfilledTimeoutMs: 600_000 });
    const st = await r2.reconcileOrders();
    expect(st.became_terminal).toBe(1);
    const row = (await sup.store.getTradeByKey("e6"))!;
    expect(row.status).toBe("canceled");
    expect(row.error_message).toContain("unfilled after");
    expect(fake.orders[0]!.status).toBe("canceled");
  });

  test("while RECONCILING every order is blocked with 'reconciling' and nothing reaches the broker", async () => {
    await sup.store.setState("trading_state", "RECONCILING", Date.now());
    const r = await go("e7");
    expect(r).toMatchObject({ status: "blocked", reason: "reconciling" });
    expect(fake.posts).toBe(0);
    const ok = await sup.startupReconcile();
    expect(ok.ok).toBe(true);
    expect(await sup.store.getState("trading_state")).toBe("ACTIVE");
  });

  test("a failed start-up reconciliation leaves trading RECONCILING", async () => {
    fake.inject("GET /v2/account", { kind: "status", status: 401 });
    const r = await sup.startupReconcile();
    expect(r.ok).toBe(false);
    expect(await sup.store.getState("trading_state")).toBe("RECONCILING");
  });

  test("the secret never appears in the logs, even on error paths", async () => {
    fake.inject("POST /v2/orders", { kind: "status", status: 500 });
    await go("e8");
    fake.inject("GET /v2/orders:by_client_order_id", { kind: "status", status: 403 });
    await rec.reconcileOrders();
    sup.log.flush();
    await Bun.sleep(50);
    const logText = readFileSync(join(h.home, "logs", "awet.log"), "utf8");
    expect(logText.length).toBeGreaterThan(0);
    expect(logText).not.toContain(SECRET);
    const store = new SqliteStore(join(h.home, ".awet", "awet.db"));
    const rows = await store.listTrades({ limit: 100 });
    await store.close();
    expect(JSON.stringify(rows)).not.toContain(SECRET);
    void newTrade;
  });
});
