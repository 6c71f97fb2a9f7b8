import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Supervisor } from "../../src/agents/supervisor";
import { LISTING_WATERMARK_KEY, Reconciler } from "../../src/agents/reconciler";
import { AlpacaPaperBroker } from "../../src/broker/alpaca";
import { ReplayClock } from "../../src/core/clock";
import { intentKey } from "../../src/core/ids";
import { makeLogger } from "../../src/obs/log";
import { opsSnapshot } from "../../src/ops/snapshot";
import { loadMigrations } from "../../src/store/migrations";
import { SqliteStore } from "../../src/store/sqlite";
import { FakeAlpaca } from "../helpers/fake-alpaca";
import { intent, newTrade, T0, tempHome, testSettings } from "../helpers";

const KEY = "PKLATEORDERS00000001";
const SECRET = "late-secret";
const SEVEN_DAYS_OF_REPLAY = 630_900_000; // the event-time gap of the case 1

/**
 * Issue 12's lost orders, in process: the broker's answer comes late (or never) while the clocks
 * are controlled — event time from a replay clock in 2013, wall time = now + an offset the test
 * moves. Nothing here waits on real time.
 */
describe("late and orphan orders are linked, never lost", () => {
  let fake: FakeAlpaca;
  let h: ReturnType<typeof tempHome>;
  let sup: Supervisor;
  let broker: AlpacaPaperBroker;
  let clock: ReplayClock;
  let offset: number;
  let waits: number[];
  const wallNow = () => Date.now() + offset;
  const reconciler = (over: Partial<ConstructorParameters<typeof Reconciler>[0]> = {}) =>
    new Reconciler({ store: sup.store, broker, log: sup.log, now: () => clock.now(), wallNow, inFlightMs: 30_000, unfilledTimeoutMs: 3_600_000, sleep: async (ms) => void waits.push(ms), ...over });

  beforeEach(async () => {
    fake = new FakeAlpaca();
    h = tempHome();
    mkdirSync(join(h.home, ".tmp"), { recursive: true });
    writeFileSync(join(h.home, ".tmp", "APPROVE_EXECUTION"), "");
    const settings = testSettings(h.home, { AWET_EXECUTION_DRY_RUN: "false", AWET_BROKER: "alpaca" });
    broker = new AlpacaPaperBroker({ baseUrl: fake.url, allowLoopback: true, keyId: KEY, secret: SECRET, timeoutMs: 300 });
    clock = new ReplayClock(T0);
    sup = new Supervisor({ settings, broker, log: makeLogger({ logsDir: settings.paths.logs, level: "debug", stderr: false }), clock });
    await sup.init("late");
    offset = 0;
    waits = [];
  });
  afterEach(async () => {
    fake.release(); // let held answers go before the server stops
    await sup.close();
    fake.stop();
    h.cleanup();
  });

  const key = (n: number) => intentKey("abcd1234", "SPY", T0 + n * 60_000, "buy");
  const go = (k: string) => sup.execution.process(intent({ idempotency_key: k, correlation_id: `c-${k}`, ts: clock.now(), qty: 4, reference_price: 168.5 }), "entry");
  const row = async (k: string) => (await sup.store.getTradeByKey(k))!;

  test("case 1, slow accept: a miss inside the wall-time window leaves the row open, whatever 7 days of event time say; the late order is then found", async () => {
    fake.inject("POST /v2/orders", { kind: "post", store: "later", answer: "hold" });
    const k = key(1);
    expect((await go(k)).status).toBe("pending_submit"); // the client gave up; the broker still holds the POST
    const before = await row(k);
    expect(before.submit_wall_at).not.toBeNull();
    expect(before.updated_at).toBe(T0); // event time stays event time
    clock.advanceTo(T0 + SEVEN_DAYS_OF_REPLAY); // the replay's closing reconcile, a week of event time later
    offset = 12_700; // ... but only 12.7 s of wall time
    let st = await reconciler().reconcileOrders();
    expect(st).toMatchObject({ pending_found: 1, became_unknown: 0, became_terminal: 0, unchanged: 1 });
    expect((await row(k)).status).toBe("pending_submit");
    // the CLI's `reconcile --once` 1.1 s after the POST (case 2: the wall clock against a 2013 row)
    offset = 1_100;
    st = await reconciler({ now: wallNow }).reconcileOrders();
    expect(st.became_unknown).toBe(0);
    expect((await row(k)).status).toBe("pending_submit");
    fake.release(); // at 20 s the broker stores the order
    offset = 20_000;
    st = await reconciler().reconcileOrders();
    const after = await row(k);
    expect(after).toMatchObject({ status: "partially_filled", alpaca_order_id: fake.orders[0]!.id, error_message: null });
    expect(after.first_contact_wall_at).not.toBeNull();
    expect(after.last_contact_wall_at!).toBeGreaterThanOrEqual(after.first_contact_wall_at!);
    expect(fake.postedClientIds).toEqual([k]);
  });

  test("stored only after the window: the row becomes unknown (not rejected), then the listing links it and it fills; one POST", async () => {
    fake.inject("POST /v2/orders", { kind: "post", store: "later", answer: "500" });
    const k = key(2);
    expect((await go(k)).status).toBe("pending_submit");
    offset = 31_000;
    let st = await reconciler().reconcileOrders();
    expect(st).toMatchObject({ became_unknown: 1, became_terminal: 1, linked: 0 });
    let r = await row(k);
    expect(r.status).toBe("unknown");
    expect(r.error_message).toContain("of wall time");
    expect(r.error_message).toContain("never resubmitted");
    expect((await opsSnapshot(sup.settings, sup.store)).unknown_orders.map((o) => o.client_order_id)).toEqual([k]);
    fake.release(); // the broker had it after all
    offset = 40_000;
    st = await reconciler().reconcileOrders();
    expect(st).toMatchObject({ pending_found: 0, linked: 1, adopted: 0 });
    r = await row(k);
    expect(r).toMatchObject({ status: "submitted", alpaca_order_id: fake.orders[0]!.id, alpaca_status: "accepted" });
    expect(r.error_message).toContain("found at the broker after being recorded unknown");
    await sup.store.flush();
    const events = (await sup.store.auditByCorrelation(`c-${k}`)).map((e) => (e.payload as { event?: string }).event);
    expect(events).toContain("order_unknown");
    expect(events).toContain("order_revised");
    // open again, so it is polled to its fills like any working order
    await reconciler().reconcileOrders();
    await reconciler().reconcileOrders();
    r = await row(k);
    expect(r).toMatchObject({ status: "filled", filled_qty: 4, avg_fill_price: 168.5 });
    expect(fake.posts).toBe(1);
    expect((await opsSnapshot(sup.settings, sup.store)).unknown_orders).toEqual([]);
  });

  test("a broker order with our client_order_id and no row is adopted once, audited and shown by the ops snapshot; others' orders are not", async () => {
    const orphan = key(3);
    await broker.submit({ client_order_id: orphan, symbol: "SPY", side: "buy", qty: 2, type: "market" });
    await broker.submit({ client_order_id: "manual-order-1", symbol: "IBM", side: "buy", qty: 1, type: "market" });
    let st = await reconciler().reconcileOrders();
    expect(st).toMatchObject({ adopted: 1, foreign: 1 });
    const r = await row(orphan);
    expect(r).toMatchObject({ status: "submitted", client_order_id: orphan, alpaca_order_id: fake.orders[0]!.id, qty: 2, run_id: "abcd1234" });
    expect(r.adopted_at).not.toBeNull();
    expect(await sup.store.getTradeByKey("manual-order-1")).toBeNull();
    await sup.store.flush();
    expect((await sup.store.auditByCorrelation(r.correlation_id)).map((e) => (e.payload as { event: string }).event)).toEqual(["order_adopted"]);
    const snap = await opsSnapshot(sup.settings, sup.store);
    expect(snap.adopted_orders).toMatchObject([{ client_order_id: orphan, broker_order_id: fake.orders[0]!.id, qty: 2 }]);
    st = await reconciler().reconcileOrders();
    expect(st.adopted).toBe(0); // no second row
    expect((await sup.store.listTrades({ limit: 100 })).length).toBe(1);
    expect((await row(orphan)).status).toBe("partially_filled"); // polled like any working order
  });

  test("the listing pages (3 a page) and links every order, two of them sharing each millisecond", async () => {
    const keys = Array.from({ length: 7 }, (_, i) => key(10 + i));
    for (const k of keys) await broker.submit({ client_order_id: k, symbol: "SPY", side: "buy", qty: 1, type: "market" });
    const t = Date.now() - 60_000; // the broker's submission times: pairs in one millisecond, so page boundaries fall inside them
    fake.orders.forEach((o, i) => (o.created_at = new Date(t + Math.floor(i / 2)).toISOString()));
    const st = await reconciler({ pageLimit: 3 }).reconcileOrders();
    expect(st.adopted).toBe(7);
    const listings = fake.requests.filter((q) => q.method === "GET" && q.path.startsWith("/v2/orders?"));
    expect(listings.length).toBeGreaterThanOrEqual(3);
    expect(listings.every((q) => q.path.includes("status=all") && q.path.includes("direction=asc") && q.path.includes("after="))).toBe(true);
    for (const k of keys) expect((await row(k)).alpaca_order_id).toBe(fake.orders.find((o) => o.client_order_id === k)!.id);
  });

  test("a 429 storm with Retry-After on the listing is waited out, then the late order is linked", async () => {
    fake.inject("POST /v2/orders", { kind: "post", store: "later", answer: "reset" });
    const k = key(4);
    expect((await go(k)).status).toBe("pending_submit"); // connection cut after accepting: ambiguous
    offset = 31_000;
    await reconciler().reconcileOrders();
    expect((await row(k)).status).toBe("unknown");
    fake.release();
    fake.inject("GET /v2/orders", { kind: "status", status: 429, retryAfter: 7 }, { kind: "status", status: 429, retryAfter: 1 });
    waits = [];
    const st = await reconciler().reconcileOrders();
    expect(st).toMatchObject({ errors: 0, linked: 1 });
    expect(waits).toEqual([7_000, 15_000]); // Retry-After 7 s beats 5 s; then the 15 s step beats 1 s
    expect((await row(k)).alpaca_order_id).toBe(fake.orders[0]!.id);
  });

  test("a listing that keeps failing is an error of the cycle and leaves the watermark, so the next listing covers the gap", async () => {
    const first = await reconciler().reconcileOrders();
    expect(first.errors).toBe(0);
    const wm = await sup.store.getState(LISTING_WATERMARK_KEY);
    expect(wm).not.toBeNull();
    fake.inject("GET /v2/orders", ...Array.from({ length: 4 }, () => ({ kind: "status" as const, status: 500 })));
    const k = key(5);
    await broker.submit({ client_order_id: k, symbol: "SPY", side: "buy", qty: 1, type: "market" });
    const failed = await reconciler().reconcileOrders();
    expect(failed.errors).toBe(1);
    expect(await sup.store.getState(LISTING_WATERMARK_KEY)).toBe(wm);
    const next = await reconciler().reconcileOrders();
    expect(next).toMatchObject({ errors: 0, adopted: 1 });
  });

  test("rows an older version recorded 'rejected' for a lookup miss become unknown on migration, and the listing links them", async () => {
    const h2 = tempHome();
    try {
      const path = join(h2.home, "old.db");
      const db = new Database(path, { create: true });
      const [m1] = loadMigrations("sqlite");
      db.exec(m1!.sql);
      db.exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)");
      db.query("INSERT INTO schema_migrations VALUES (1, 'init', '2026-01-01T00:00:00Z')").run();
      const k = key(6);
      // as the old reconciler left them: a lookup miss recorded `rejected`, and a real broker 422
      const ins = db.query(`INSERT INTO trades (ts, correlation_id, idempotency_key, symbol, side, qty, price, status, error_message, client_order_id, updated_at)
        VALUES ('2013-10-07T14:00:00.000Z', ?, ?, 'SPY', 'buy', 10, 168.1, 'rejected', ?, ?, '2013-10-14T14:00:00.000Z') RETURNING id`);
      const lost = ins.get("c-lost", k, `not found at the broker by client_order_id ${k} after 630900s; never resubmitted`, k) as { id: number };
      const real = ins.get("c-real", "k-real", "broker: 422 qty must be > 0", "k-real") as { id: number };
      db.close();
      const s2 = new SqliteStore(path);
      try {
        expect(await s2.migrate()).toContain("002_order_wall_times");
        expect((await s2.getTrade(lost.id))!.status).toBe("unknown");
        expect((await s2.getTrade(real.id))!.status).toBe("rejected"); // a real broker rejection stays one
        await broker.submit({ client_order_id: k, symbol: "SPY", side: "buy", qty: 10, type: "market" });
        const st = await new Reconciler({ store: s2, broker, log: sup.log, now: Date.now, inFlightMs: 30_000, unfilledTimeoutMs: 3_600_000 }).reconcileOrders();
        expect(st.linked).toBe(1);
        expect((await s2.getTrade(lost.id))!).toMatchObject({ status: "submitted", alpaca_order_id: fake.orders[0]!.id });
      } finally {
        await s2.close();
      }
    } finally {
      h2.cleanup();
    }
  });
});

describe("positions inherited at start", () => {
  let fake: FakeAlpaca;
  let h: ReturnType<typeof tempHome>;
  let sup: Supervisor;
  beforeEach(async () => {
    fake = new FakeAlpaca();
    h = tempHome();
    const settings = testSettings(h.home, { AWET_EXECUTION_DRY_RUN: "false", AWET_BROKER: "alpaca" });
    const broker = new AlpacaPaperBroker({ baseUrl: fake.url, allowLoopback: true, keyId: KEY, secret: SECRET, timeoutMs: 300 });
    // a restarted replay: its clock reads 0 until the first bar
    sup = new Supervisor({ settings, broker, log: makeLogger({ logsDir: settings.paths.logs, level: "debug", stderr: false }), clock: new ReplayClock() });
    await sup.init("inherit");
  });
  afterEach(async () => {
    await sup.close();
    fake.stop();
    h.cleanup();
  });

  test("start-up reconcile before the first bar: wall-time stamps, never 1970; no time exit on the first bar", async () => {
    const k = intentKey("abcd1234", "SPY", T0, "buy");
    await sup.store.insertTrade(newTrade({ idempotency_key: k, client_order_id: k, status: "pending_submit", dry_run: false, error_message: "ambiguous: timeout", submit_wall_at: Date.now() - 5_000 }));
    await (sup.broker as AlpacaPaperBroker).submit({ client_order_id: k, symbol: "SPY", side: "buy", qty: 10, type: "market" });
    fake.positionsList = [{ symbol: "IBM", qty: 5, avg_entry_price: 180, current_price: 180 }];
    const t0 = Date.now();
    expect((await sup.startupReconcile()).ok).toBe(true);
    const row = (await sup.store.getTradeByKey(k))!;
    expect(row.status).toBe("partially_filled");
    expect(row.updated_at).toBeGreaterThanOrEqual(t0); // the wall clock, not the replay clock's 0
    const ibm = (await sup.store.getPosition("IBM"))!;
    expect(ibm.inherited).toBe(true);
    expect(ibm.opened_at!).toBeGreaterThanOrEqual(t0);
    expect(ibm.updated_at).toBeGreaterThanOrEqual(t0);
    // the first bar of the replay (2013): the inherited position is held, not sold by time_exit
    (sup.clock as ReplayClock).advanceTo(T0);
    const checks = await sup.exit.runOnce(T0);
    expect(checks.find((c) => c.symbol === "IBM")).toMatchObject({ decision: "hold" });
    expect(await sup.store.listTrades({ symbol: "IBM" })).toEqual([]);
    // ... and on a live clock it is time-exited only once its real holding time has passed
    const live = await sup.exit.runOnce(ibm.opened_at! + (sup.settings.app.max_holding_minutes - 1) * 60_000);
    expect(live.find((c) => c.symbol === "IBM")?.decision).toBe("hold");
  });

  test("a position the book did not hold takes opened_at from the symbol's fills when they account for it", async () => {
    const F = Date.now() - 3 * 3_600_000;
    await sup.store.insertTrade(newTrade({ idempotency_key: "b1", client_order_id: "b1", status: "filled", dry_run: false, qty: 6, filled_qty: 6, filled_at: F - 60_000 }));
    await sup.store.insertTrade(newTrade({ idempotency_key: "s1", client_order_id: "s1", side: "sell", status: "filled", dry_run: false, qty: 6, filled_qty: 6, filled_at: F - 30_000 }));
    await sup.store.insertTrade(newTrade({ idempotency_key: "b2", client_order_id: "b2", status: "filled", dry_run: false, qty: 5, filled_qty: 5, filled_at: F }));
    fake.positionsList = [{ symbol: "SPY", qty: 5, avg_entry_price: 168, current_price: 168 }];
    const r = await sup.reconciler!.reconcilePositions();
    expect(r).toEqual({ synced: 1, zeroed: 0, inherited: 0 });
    expect((await sup.store.getPosition("SPY"))!).toMatchObject({ qty: 5, opened_at: F });
    expect((await sup.store.getPosition("SPY"))!.inherited ?? false).toBe(false);
    // a later sync keeps the opening time
    fake.positionsList = [{ symbol: "SPY", qty: 5, avg_entry_price: 168, current_price: 169 }];
    await sup.reconciler!.reconcilePositions();
    expect((await sup.store.getPosition("SPY"))!).toMatchObject({ opened_at: F, last_price: 169 });
  });
});
