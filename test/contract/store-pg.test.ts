import { afterAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { checkPostgres } from "../../src/store/check";
import { PostgresStore } from "../../src/store/postgres";
import { HYPERTABLES, type TimescaleOptions } from "../../src/store/timescale";
import { Supervisor } from "../../src/agents/supervisor";
import { T0, newTrade, tempHome, testSettings } from "../helpers";
import { TcpProxy } from "../helpers/tcp-proxy";
import { storeContract } from "./store";

// AWET_TEST_PG_URL: any PostgreSQL (CI: plain PostgreSQL 15). The TimescaleDB cases run only where a
// TimescaleDB server is named (CI does not set these): AWET_TEST_TIMESCALE_URL (preloaded, community
// license), AWET_TEST_TIMESCALE_NOPRELOAD_URL (extension files installed, library not preloaded),
// AWET_TEST_TIMESCALE_APACHE_URL (preloaded, timescaledb.license = 'apache').
const url = process.env.AWET_TEST_PG_URL;
const tsUrl = process.env.AWET_TEST_TIMESCALE_URL;
const noPreloadUrl = process.env.AWET_TEST_TIMESCALE_NOPRELOAD_URL;
const apacheUrl = process.env.AWET_TEST_TIMESCALE_APACHE_URL;

/**
 * A fresh schema per store, recorded BEFORE migrate so that it is dropped even when migrate fails
 * half-way (runs never see each other's rows and leave nothing behind).
 */
function schemas(dbUrl: string) {
  const admin = postgres(dbUrl, { max: 1, onnotice: () => {} });
  const made = new Map<PostgresStore, string>();
  const all = new Set<string>();
  let n = 0;
  const drop = (schema: string) => admin.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).then(() => all.delete(schema));
  afterAll(async () => {
    for (const s of [...all]) await drop(s);
    await admin.end();
  });
  const name = () => {
    const s = `awet_test_${process.pid}_${Date.now().toString(36)}_${++n}`;
    all.add(s);
    return s;
  };
  return {
    admin,
    name,
    async open(timescale?: Partial<TimescaleOptions>, schema = name()): Promise<PostgresStore> {
      const s = new PostgresStore({ url: dbUrl, schema, timescale });
      made.set(s, schema);
      try {
        await s.migrate();
      } catch (e) {
        await s.close().catch(() => undefined);
        await drop(schema);
        throw e;
      }
      return s;
    },
    /** A second store on the same schema (another client, no migrate): what another process sees. */
    peer(s: PostgresStore): PostgresStore {
      return new PostgresStore({ url: dbUrl, schema: made.get(s)! });
    },
    async close(s: PostgresStore) {
      await s.close();
      await drop(made.get(s)!);
    },
    drop,
  };
}

const hypertablesIn = async (admin: postgres.Sql, schema: string) =>
  (await admin`SELECT hypertable_name FROM timescaledb_information.hypertables WHERE hypertable_schema = ${schema} ORDER BY 1`).map((r) => r.hypertable_name as string);

if (url) {
  const pg = schemas(url);
  storeContract("postgres", () => pg.open(), (s) => pg.close(s as PostgresStore), (s) => pg.peer(s as PostgresStore));

  test("a flusher statement cut off whenever it is large is sent again in halves until it lands: nothing lost, no endless retry", async () => {
    const s = await pg.open();
    try {
      // A server that drops the connection under any statement of more than 300 rows (as one that
      // terminates backends faster than a large batch takes to write): the same 2,000-row batch
      // retried as it was would never land.
      const w = s as unknown as { writeBatch: (...a: unknown[]) => Promise<unknown[]> };
      const real = w.writeBatch.bind(s);
      const landed: number[] = [];
      let cut = 0;
      w.writeBatch = async (...a: unknown[]) => {
        const n = (a[0] as unknown[]).length + (a[1] as unknown[]).length;
        if (n > 300) {
          cut++;
          throw Object.assign(new Error("write CONNECTION_CLOSED 127.0.0.1:5432"), { code: "CONNECTION_CLOSED" });
        }
        landed.push(n);
        return real(...a);
      };
      const bars = Array.from({ length: 2000 }, (_, i) => ({ symbol: "SPY", ts: T0 + i * 60_000, open: 1, high: 2, low: 0.5, close: 1.5, volume: 10 }));
      await s.appendBars(bars, "test");
      await s.flush();
      expect(cut).toBeGreaterThan(0);
      expect(landed.reduce((x, y) => x + y, 0)).toBe(2000);
      expect((await s.counts()).market_bars).toBe(2000);
      expect((await s.barsBetween(T0, T0 + 2000 * 60_000)).map((b) => b.ts)).toEqual(bars.map((b) => b.ts));
    } finally {
      await pg.close(s);
    }
  }, 30_000);

  test("a write-ahead whose commit reply is lost is retried, finds its own row and returns it: one row, one order", async () => {
    const s = await pg.open();
    try {
      // The first attempt commits, then the connection "drops" before the reply is read: the
      // adapter retries the same statement on a fresh client, which now conflicts on the key.
      const w = s as unknown as { writeBatch: (...a: unknown[]) => Promise<unknown[]> };
      const real = w.writeBatch.bind(s);
      let lost = 0;
      w.writeBatch = async (...a: unknown[]) => {
        const rows = await real(...a);
        if ((a[2] as unknown[]).length > 0 && lost++ === 0) throw Object.assign(new Error("write CONNECTION_CLOSED 127.0.0.1:5432"), { code: "CONNECTION_CLOSED" });
        return rows;
      };
      const attempt = newTrade({ idempotency_key: "lost-reply", status: "pending_submit", submit_wall_at: Date.now() });
      const row = await s.insertTrade(attempt);
      expect(lost).toBe(2); // the attempt whose reply was lost, then the retry
      expect(row?.idempotency_key).toBe("lost-reply");
      expect((await s.listTrades({})).map((t) => t.id)).toEqual([row!.id]);
      // a redelivered intent is a new attempt: still a duplicate
      expect(await s.insertTrade({ ...attempt, submit_wall_at: attempt.submit_wall_at! + 1 })).toBeNull();
    } finally {
      await pg.close(s);
    }
  });

  test("a failed migrate leaves no schema behind", async () => {
    const schema = pg.name();
    // store_timescale: on against a server without the extension fails (CI's plain PostgreSQL); a
    // schema name PostgreSQL refuses fails everywhere — either way the schema must be gone after.
    const bad = (await pg.admin`SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'`).length === 0;
    await expect(pg.open(bad ? { mode: "on" } : { mode: "off" }, bad ? schema : `pg_${schema}`)).rejects.toThrow();
    expect((await pg.admin`SELECT 1 FROM pg_namespace WHERE nspname IN (${schema}, ${`pg_${schema}`})`).length).toBe(0);
  });

  test("every repository statement is retried on a lost connection, counts() included", async () => {
    const u = new URL(url);
    const proxy = new TcpProxy(u.hostname, Number(u.port || 5432));
    const schema = pg.name();
    const s = new PostgresStore({ url: `${u.protocol}//${u.username ? u.username + "@" : ""}127.0.0.1:${proxy.port}${u.pathname}`, schema });
    try {
      await s.migrate();
      await s.insertTrade(newTrade());
      await s.setState("trading_state", "ACTIVE", T0);
      // the server goes away; each read below starts while it is away and ends once it is back
      for (const read of [() => s.counts(), () => s.listTrades({}), () => s.getState("trading_state"), () => s.listJobRuns({})]) {
        proxy.cut();
        const r = read();
        await Bun.sleep(150);
        proxy.restore();
        expect(await r).toBeTruthy();
      }
      expect((await s.counts()).trades).toBe(1);
      expect(s.backlog().retries).toBeGreaterThanOrEqual(4);
    } finally {
      await s.close();
      proxy.stop();
      await pg.drop(schema);
    }
  });

  test("store_timescale auto / off never create the extension; on names the reason when the server cannot", async () => {
    const hasExt = (await pg.admin`SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'`).length > 0;
    const installed = (await pg.admin`SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'`).length > 0;
    const off = await pg.open({ mode: "off" });
    expect(off.timescale).toBe(false);
    await pg.close(off);
    const auto = await pg.open({ mode: "auto" });
    expect(auto.timescale).toBe(hasExt);
    await pg.close(auto);
    expect((await pg.admin`SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'`).length > 0).toBe(hasExt);
    if (!installed) await expect(pg.open({ mode: "on" })).rejects.toThrow(/store_timescale: on, but the timescaledb extension is not installed/);
  });
} else {
  console.log("Store contract on PostgreSQL: skipped (AWET_TEST_PG_URL is not set; .ci/run sets it)");
  describe.skip("Store contract: postgres (AWET_TEST_PG_URL not set)", () => test("skipped", () => {}));
}

if (tsUrl) {
  const ts = schemas(tsUrl);
  // The whole contract on hypertables in a per-run schema, the extension living in public.
  storeContract("postgres+timescaledb", () => ts.open({ mode: "on" }), (s) => ts.close(s as PostgresStore), (s) => ts.peer(s as PostgresStore));

  describe("TimescaleDB", () => {
    const asked: TimescaleOptions = { mode: "auto", compressAfterDays: 7, retainDays: 30 };

    test("hypertables in the store's own schema, the extension stays in its schema and survives DROP SCHEMA", async () => {
      const s = await ts.open({ mode: "on" });
      const schema = (await s.sql`SELECT current_schema() AS s`)[0]!.s as string;
      expect(s.timescale).toBe(true);
      expect(await hypertablesIn(ts.admin, schema)).toEqual(["audit_events", "llm_traces", "market_bars"]);
      const [ext] = await ts.admin`SELECT extnamespace::regnamespace::text AS ns FROM pg_extension WHERE extname = 'timescaledb'`;
      expect(ext!.ns).not.toBe(schema);
      await ts.close(s);
      expect((await ts.admin`SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'`).length).toBe(1);
    });

    test("policies and compression settings as configured; migrate reconciles them; db check names every difference", async () => {
      const schema = ts.name();
      const s = await ts.open(asked, schema);
      expect(s.warnings()).toEqual([]);
      const settings = await ts.admin`SELECT hypertable::text AS t, segmentby, orderby FROM timescaledb_information.hypertable_compression_settings
        WHERE hypertable::text LIKE ${`${schema}.%`} ORDER BY 1`;
      expect(settings.map((r) => [r.t.split(".")[1], r.segmentby, r.orderby])).toEqual(
        Object.entries(HYPERTABLES).map(([t, c]) => [t, c.segmentBy, c.orderBy]).sort(),
      );
      expect((await checkPostgres(tsUrl, schema, asked)).timescale).toEqual([]);
      // the config asks for something else: every table is named
      const other = await checkPostgres(tsUrl, schema, { ...asked, compressAfterDays: 3, retainDays: 0 });
      expect(other.timescale).toContain("market_bars: compression policy after 7 days, expected 3 days");
      expect(other.timescale).toContain("audit_events: retention policy drops after 30 days but timescale_retain_days is 0 (keep everything)");
      expect(other.timescale).toHaveLength(6);
      // a policy removed by hand is missing
      await ts.admin.unsafe(`SELECT remove_retention_policy('"${schema}".llm_traces')`);
      expect((await checkPostgres(tsUrl, schema, asked)).timescale).toEqual(["llm_traces: no retention policy (expected 30 days)"]);
      await s.close();
      // migrating with the other settings makes the database match them (replaced / removed policies)
      const again = await ts.open({ ...asked, compressAfterDays: 3, retainDays: 0 }, schema);
      expect((await checkPostgres(tsUrl, schema, { ...asked, compressAfterDays: 3, retainDays: 0 })).timescale).toEqual([]);
      await ts.close(again);
    });

    test("db check: tables that should be hypertables but are plain are named", async () => {
      const schema = ts.name();
      const s = await ts.open({ mode: "off" }, schema);
      expect(s.timescale).toBe(false);
      const r = await checkPostgres(tsUrl, schema, { mode: "auto", compressAfterDays: 0, retainDays: 0 });
      expect(r.timescale.sort()).toEqual(["audit_events is not a hypertable", "llm_traces is not a hypertable", "market_bars is not a hypertable"]);
      expect((await checkPostgres(tsUrl, schema, { mode: "off", compressAfterDays: 0, retainDays: 0 })).timescale).toEqual([]);
      // and the next migrate in auto mode turns them into hypertables, keeping their rows
      await s.appendBars([{ symbol: "SPY", ts: Date.UTC(2013, 0, 2, 15), open: 1, high: 2, low: 1, close: 2, volume: 10 }], "test");
      await s.close();
      const auto = await ts.open({ mode: "auto" }, schema);
      expect(auto.timescale).toBe(true);
      expect(await hypertablesIn(ts.admin, schema)).toEqual(["audit_events", "llm_traces", "market_bars"]);
      expect((await auto.counts()).market_bars).toBe(1);
      await ts.close(auto);
    });
  });
} else {
  console.log("TimescaleDB store cases: skipped (AWET_TEST_TIMESCALE_URL is not set)");
  describe.skip("TimescaleDB (AWET_TEST_TIMESCALE_URL not set)", () => test("skipped", () => {}));
}

if (noPreloadUrl) {
  const np = schemas(noPreloadUrl);
  test("installed but not preloaded: store_timescale on fails with the reason, auto keeps plain tables", async () => {
    await expect(np.open({ mode: "on" })).rejects.toThrow(/installed on this PostgreSQL server but not preloaded: add shared_preload_libraries = 'timescaledb'/);
    const auto = await np.open({ mode: "auto" });
    expect(auto.timescale).toBe(false);
    await np.close(auto);
  });
}

if (apacheUrl) {
  const ap = schemas(apacheUrl);
  test("Apache-licensed TimescaleDB: hypertables, and every policy it cannot create is a warning", async () => {
    const s = await ap.open({ mode: "on", compressAfterDays: 7, retainDays: 30 });
    expect(s.timescale).toBe(true);
    const w = s.warnings();
    expect(w).toHaveLength(6);
    expect(w[0]).toMatch(/^market_bars: compression \(after 7 days\) not set up: .*apache/);
    expect(w.some((x) => /^llm_traces: retention policy \(30 days\) not created: .*apache/.test(x))).toBe(true);
    // /health shows them, and they do not make the daemon unhealthy
    const h = tempHome();
    try {
      const sup = new Supervisor({ settings: testSettings(h.home, { LLM_ENABLED: "false" }), store: s });
      const health = await sup.health();
      expect(health.store.ok).toBe(true);
      expect(health.store.warnings).toEqual(w);
    } finally {
      h.cleanup();
    }
    await ap.close(s);
  });
}
