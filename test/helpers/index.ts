import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadSettings, type Settings } from "../../src/config";
import type { NewTrade } from "../../src/store/port";
import type { OrderIntent } from "../../src/core/events";
import { SimBroker } from "../../src/broker/sim";
import type { OrderRequest } from "../../src/broker/port";

/** The simulated paper broker, recording every order it is sent (the safety tests count broker calls). */
export class CountingBroker extends SimBroker {
  calls: OrderRequest[] = [];
  override async submit(o: OrderRequest, now: number) {
    this.calls.push(o);
    return super.submit(o, now);
  }
}

export function tempHome(prefix = "awet-test-"): { home: string; cleanup: () => void } {
  const home = mkdtempSync(join(tmpdir(), prefix));
  return { home, cleanup: () => rmSync(home, { recursive: true, force: true }) };
}

/** Settings on a temp home with the bundled config and the given env overrides. */
export function testSettings(home: string, env: Record<string, string> = {}): Settings {
  return loadSettings({ home, env: { ...env } });
}

export const T0 = Date.parse("2013-10-07T14:00:00Z"); // Monday 10:00 New York

export function newTrade(over: Partial<NewTrade> = {}): NewTrade {
  return {
    ts: T0, correlation_id: "c-1", idempotency_key: "k-1", symbol: "SPY", side: "buy", qty: 10, price: 168.12,
    status: "blocked", error_message: "dry_run", alpaca_order_id: null, client_order_id: null, alpaca_status: null,
    filled_qty: 0, avg_fill_price: null, filled_at: null, updated_at: T0, paper_trade: true, dry_run: true,
    order_type: "market", take_profit_price: null, stop_loss_price: null, exit_reason: null, run_id: "test",
    ...over,
  };
}

export function intent(over: Partial<OrderIntent> = {}): OrderIntent {
  return {
    symbol: "SPY", side: "buy", qty: 10, reference_price: 100, ts: T0, correlation_id: "c-1",
    idempotency_key: "k-1", reason: "test", exit_reason: null, ...over,
  };
}

export const ROOT = join(import.meta.dir, "..", "..");

/**
 * Read a spawned daemon's stdout until `until(output)` holds, the stream ends, or `ms` pass (checked
 * between reads); returns what was read and the health base URL it printed ("" when none). With
 * `drain`, the rest of the stream is read and dropped in the background (a daemon that prints
 * progress never blocks on a full pipe); otherwise the stream is released for later reads.
 */
export async function readDaemon(
  stream: ReadableStream<Uint8Array>, until: (output: string) => boolean, o: { ms?: number; drain?: boolean } = {},
): Promise<{ output: string; base: string; ended: boolean }> {
  const reader = stream.getReader();
  const dec = new TextDecoder();
  let output = "";
  let ended = false;
  const deadline = Date.now() + (o.ms ?? 30_000);
  while (Date.now() < deadline && !until(output)) {
    const { value, done } = await reader.read();
    if (done) {
      ended = true;
      break;
    }
    output += dec.decode(value);
  }
  if (o.drain && !ended) void (async () => { while (!(await reader.read()).done); })();
  else reader.releaseLock();
  return { output, base: /health\s+(http:\/\/127\.0\.0\.1:\d+)\/health/.exec(output)?.[1] ?? "", ended };
}
