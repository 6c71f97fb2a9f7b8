import { afterAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { TradingStateService } from "../../src/state/trading-state";
import { PostgresStore } from "../../src/store/postgres";

// A halt written by another process reaches a daemon's cached trading state through LISTEN/NOTIFY.
const url = process.env.AWET_TEST_PG_URL;

if (url) {
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  const schemas: string[] = [];
  const open: PostgresStore[] = [];
  const store = async (schema: string) => {
    const s = new PostgresStore({ url, schema });
    if (!schemas.includes(schema)) schemas.push(schema);
    open.push(s);
    await s.migrate();
    return s;
  };
  afterAll(async () => {
    for (const s of open) await s.close().catch(() => undefined);
    for (const s of schemas) await admin.unsafe(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    await admin.end();
  });
  const until = async (f: () => Promise<boolean>) => {
    for (let i = 0; i < 500 && !(await f()); i++) await Bun.sleep(10);
  };

  describe("trading state over PostgreSQL LISTEN/NOTIFY", () => {
    test("another process's halt is seen though the cached read never expires; other schemas' writes are ignored", async () => {
      const schema = `awet_test_state_${process.pid}_${Date.now().toString(36)}`;
      const daemon = await store(schema);
      const cli = await store(schema); // "awet halt" in another process: its own connections
      const other = await store(`${schema}_other`);
      let reads = 0;
      const getState = daemon.getState.bind(daemon);
      daemon.getState = (k: string) => (reads++, getState(k));
      // The wall clock frozen: a cached read never expires, so only a notification can refresh it.
      const svc = new TradingStateService(daemon, { now: () => 0 });
      expect(await svc.watch()).toBe(true);
      expect(await svc.current()).toBe("ACTIVE");
      for (let i = 0; i < 50; i++) await svc.current();
      expect(reads).toBe(1); // reused, no round trip per intent

      await new TradingStateService(other).set("HALTED", "other schema", Date.now(), "test");
      await Bun.sleep(200);
      expect(await svc.current()).toBe("ACTIVE");
      expect(reads).toBe(1); // the other schema's notification did not even invalidate

      await new TradingStateService(cli).set("HALTED", "operator halt", Date.now(), "cli test");
      let seen = "ACTIVE";
      await until(async () => (seen = await svc.current()) === "HALTED");
      expect(seen).toBe("HALTED");
      await svc.close();
    });

    test("the watch survives its connection being cut: after the reconnect a halt is seen again", async () => {
      const schema = `awet_test_state2_${process.pid}_${Date.now().toString(36)}`;
      const daemon = await store(schema);
      const cli = await store(schema);
      const svc = new TradingStateService(daemon, { now: () => 0 });
      await svc.watch();
      expect(await svc.current()).toBe("ACTIVE");
      const cut = await admin`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'awet-state' AND query ILIKE 'listen%'`;
      expect(cut.length).toBeGreaterThan(0);
      await Bun.sleep(300); // reconnected (backoff from 20 ms) and listening again
      await new TradingStateService(cli).set("HALTED", "after the cut", Date.now(), "cli test");
      let seen = "ACTIVE";
      await until(async () => (seen = await svc.current()) === "HALTED");
      expect(seen).toBe("HALTED");
      await svc.close();
    });
  });
} else {
  describe.skip("trading state over PostgreSQL (AWET_TEST_PG_URL not set)", () => test("skipped", () => {}));
}
