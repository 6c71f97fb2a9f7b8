import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import postgres from "postgres";
import { Supervisor } from "../../src/agents/supervisor";
import { promote, rollback } from "../../src/ops/model";
import { PostgresStore } from "../../src/store/postgres";
import { SqliteStore } from "../../src/store/sqlite";
import type { ModelRow, Store } from "../../src/store/port";
import { T0, tempHome, testSettings } from "../helpers";

const row = (version: string, status: ModelRow["status"], promoted_at: number | null): ModelRow => ({
  version, name: "linear-quantile", status, created_at: T0, promoted_at, metrics: null, train_window: null, features: [],
  params: { kind: "linear-quantile-v2", horizons: [30], heads: [] },
});

/**
 * A database as an older version left it: models with `statuses`, the `production_model` key naming
 * `key`, and migration 010 not applied yet (`unapply` removes its record with the dialect's SQL).
 */
async function oldDatabase(store: Store, unapply: () => Promise<void>, statuses: [string, ModelRow["status"], number | null][], key: string) {
  await store.migrate();
  for (const [v, st, p] of statuses) await store.saveModel(row(v, st, p));
  await store.setState("production_model", key, T0 + 10);
  await store.flush();
  await unapply();
}

describe("one record of the production model: the models table's status", () => {
  test("promote and rollback write the status only; no production_model key", async () => {
    const h = tempHome();
    const store = new SqliteStore(testSettings(h.home).paths.db);
    try {
      await store.migrate();
      await store.saveModel(row("v1", "candidate", null));
      await store.saveModel(row("v2", "candidate", null));
      await promote(store, "v1", T0 + 1);
      await promote(store, "v2", T0 + 2);
      expect(await store.productionModelVersion()).toBe("v2");
      expect(await rollback(store, T0 + 3)).toBe("v1");
      expect(await store.productionModelVersion()).toBe("v1");
      expect(await store.getState("production_model")).toBeNull();
    } finally {
      await store.close();
      h.cleanup();
    }
  });

  const sqliteCase = async (statuses: [string, ModelRow["status"], number | null][], key: string) => {
    const h = tempHome();
    const settings = testSettings(h.home, { LLM_ENABLED: "false" });
    const old = new SqliteStore(settings.paths.db);
    await oldDatabase(old, async () => {
      await old.close();
      const db = new Database(settings.paths.db);
      db.exec("DELETE FROM schema_migrations WHERE version = 10");
      db.close();
    }, statuses, key);
    const sup = new Supervisor({ settings });
    await sup.init("old-db");
    return { sup, cleanup: async () => (await sup.close(), h.cleanup()) };
  };

  test("an old SQLite database whose key was the only record comes up with that model in production, and the key is gone", async () => {
    const { sup, cleanup } = await sqliteCase([["v1", "retired", T0 + 1], ["v2", "candidate", null]], "v1");
    try {
      expect(sup.prediction.modelVersion).toBe("v1");
      const ms = Object.fromEntries((await sup.store.listModels()).map((m) => [m.version, [m.status, m.promoted_at]]));
      expect(ms).toEqual({ v1: ["production", T0 + 1], v2: ["candidate", null] });
      expect(await sup.store.getState("production_model")).toBeNull();
    } finally {
      await cleanup();
    }
  });

  test("where the key and the status disagree, the status wins", async () => {
    const { sup, cleanup } = await sqliteCase([["v1", "retired", T0 + 1], ["v2", "production", T0 + 2]], "v1");
    try {
      expect(sup.prediction.modelVersion).toBe("v2");
      expect(await sup.store.productionModelVersion()).toBe("v2");
      expect(await sup.store.getState("production_model")).toBeNull();
    } finally {
      await cleanup();
    }
  });

  const url = process.env.AWET_TEST_PG_URL;
  test.skipIf(!url)("PostgreSQL: an old database whose key was the only record comes up with that model in production (key promoted_at kept from the key's time when none)", async () => {
    const schema = `awet_pm_${process.pid}_${Date.now()}`;
    const admin = postgres(url!, { max: 1, onnotice: () => {} });
    const h = tempHome();
    try {
      const settings = testSettings(h.home, { DATABASE_URL: url!, AWET_PG_SCHEMA: schema, LLM_ENABLED: "false" });
      const old = new PostgresStore({ url: url!, schema });
      await oldDatabase(old, async () => {
        await old.close();
        await admin.unsafe(`DELETE FROM "${schema}".schema_migrations WHERE version = 10`);
      }, [["v1", "candidate", null], ["v2", "retired", T0 + 2]], "v1");
      const sup = new Supervisor({ settings });
      try {
        await sup.init("old-pg");
        expect(sup.prediction.modelVersion).toBe("v1");
        const v1 = (await sup.store.listModels()).find((m) => m.version === "v1")!;
        expect([v1.status, v1.promoted_at]).toEqual(["production", T0 + 10]);
        expect(await sup.store.getState("production_model")).toBeNull();
      } finally {
        await sup.close();
      }
    } finally {
      await admin.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
      h.cleanup();
    }
  });
});
