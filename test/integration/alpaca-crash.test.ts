import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { spawn } from "bun";
import { Database } from "bun:sqlite";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FakeAlpaca } from "../helpers/fake-alpaca";
import { ROOT, tempHome } from "../helpers";

/** The daemon's own CLI, as a separate process talking HTTP to the fake Alpaca in this process. */
describe("Alpaca end to end, including a SIGKILL between the write-ahead row and the broker's answer", () => {
  let fake: FakeAlpaca;
  let h: ReturnType<typeof tempHome>;
  let env: Record<string, string>;
  beforeEach(() => {
    fake = new FakeAlpaca();
    h = tempHome();
    mkdirSync(join(h.home, ".tmp"), { recursive: true });
    writeFileSync(join(h.home, ".tmp", "APPROVE_EXECUTION"), "");
    env = {
      ...(process.env as Record<string, string>), AWET_HOME: "", AWET_BROKER: "alpaca", AWET_EXECUTION_DRY_RUN: "false", ALPACA_BASE_URL: fake.url,
      AWET_ALLOW_LOOPBACK_BROKER: "1", APCA_API_KEY_ID: "PKCRASHTEST000000001", APCA_API_SECRET_KEY: "crash-secret",
    };
  });
  afterEach(() => {
    fake.stop();
    h.cleanup();
  });

  const awet = async (...args: string[]) => {
    const p = spawn({ cmd: [process.execPath, join(ROOT, "src", "main.ts"), ...args, "--home", h.home], env, stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    return { out, err, code };
  };
  const rows = (key?: string) => {
    const db = new Database(join(h.home, ".awet", "awet.db"), { readonly: true });
    try {
      return (key ? db.query("SELECT * FROM trades WHERE idempotency_key = ?").all(key) : db.query("SELECT * FROM trades ORDER BY id").all()) as any[];
    } finally {
      db.close();
    }
  };

  test("a replay trades through the fake Alpaca: every placed row is one broker order, no duplicates", async () => {
    const r = await awet("replay", join(ROOT, "data", "minute", "SPY.csv"), "--json");
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out);
    expect(s.orders_submitted).toBeGreaterThan(0);
    const placed = rows().filter((x) => x.status !== "blocked");
    expect(placed.length).toBe(fake.orders.length);
    expect(new Set(fake.orders.map((o) => o.client_order_id)).size).toBe(fake.orders.length);
    for (const p of placed) expect(fake.orders.find((o) => o.client_order_id === p.client_order_id)?.id).toBe(p.alpaca_order_id);
    // the closing reconcile cycle of the replay moved them on from `accepted`
    expect(placed.every((p) => p.status === "partially_filled" || p.status === "filled")).toBe(true);
  });

  test("SIGKILL while the POST is in flight: after restart and reconcile the order exists once at the broker and once in trades", async () => {
    fake.inject("POST /v2/orders", { kind: "hang-after-accept" });
    const p = spawn({ cmd: [process.execPath, join(ROOT, "src", "main.ts"), "replay", join(ROOT, "data", "minute", "SPY.csv"), "--home", h.home], env, stdout: "ignore", stderr: "ignore" });
    const deadline = Date.now() + 30_000;
    while (fake.orders.length === 0 && Date.now() < deadline) await Bun.sleep(20);
    expect(fake.orders.length).toBe(1);
    p.kill("SIGKILL");
    await p.exited;
    const key = fake.orders[0]!.client_order_id;
    const before = rows(key);
    expect(before.length).toBe(1);
    expect(before[0].status).toBe("pending_submit"); // the write-ahead row was committed before the call
    let r = await awet("reconcile", "--once");
    expect(r.code).toBe(0);
    expect(r.out).toContain("RECONCILE_CYCLE pending_found=1 updated=1");
    r = await awet("reconcile", "--once");
    const after = rows(key);
    expect(after.length).toBe(1);
    expect(after[0]).toMatchObject({ status: "filled", alpaca_status: "filled", alpaca_order_id: fake.orders[0]!.id, filled_qty: fake.orders[0]!.qty });
    expect(fake.orders.filter((o) => o.client_order_id === key).length).toBe(1);
    expect(fake.posts).toBe(1);
    // and a restarted replay does not resubmit it: the key is taken, the start-up reconcile sees it
    const again = await awet("replay", join(ROOT, "data", "minute", "SPY.csv"), "--json");
    expect(again.code).toBe(0);
    expect(fake.orders.filter((o) => o.client_order_id === key).length).toBe(1);
  });

  test("verify-alpaca reports the account and never prints the secret", async () => {
    const r = await awet("verify-alpaca");
    expect(r.code).toBe(0);
    expect(r.out).toContain("acct-1");
    expect(r.out).toContain("PKCR…");
    expect(r.out + r.err).not.toContain("crash-secret");
    env.ALPACA_BASE_URL = "https://api.alpaca.markets";
    const live = await awet("verify-alpaca");
    expect(live.code).toBe(1);
    expect(live.out).toContain("not Alpaca's paper host");
  });

  test("a live host in the environment stops the daemon's replay before anything runs", async () => {
    env.ALPACA_BASE_URL = "https://api.alpaca.markets";
    const r = await awet("replay", join(ROOT, "data", "minute", "SPY.csv"), "--json");
    expect(r.code).not.toBe(0);
    expect(r.err).toContain("not Alpaca's paper host");
  });
});
