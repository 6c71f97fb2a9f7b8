import { describe, test } from "bun:test";
import postgres from "postgres";
import { PostgresStore } from "../../src/store/postgres";
import { storeContract } from "./store";

const url = process.env.AWET_TEST_PG_URL;
if (url) {
  // A fresh schema per store, dropped afterwards, so runs never see each other's rows.
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  const schemas = new Map<PostgresStore, string>();
  let n = 0;
  storeContract(
    "postgres",
    async () => {
      const schema = `awet_test_${process.pid}_${Date.now().toString(36)}_${++n}`;
      const s = new PostgresStore({ url, schema });
      await s.migrate();
      schemas.set(s, schema);
      return s;
    },
    async (s) => {
      await s.close();
      await admin.unsafe(`DROP SCHEMA IF EXISTS "${schemas.get(s as PostgresStore)}" CASCADE`);
    },
  );
} else {
  console.log("Store contract on PostgreSQL: skipped (AWET_TEST_PG_URL is not set; .ci/run sets it)");
  describe.skip("Store contract: postgres (AWET_TEST_PG_URL not set)", () => test("skipped", () => {}));
}
