import type { Bar } from "../core/events";
import { SafetyError } from "../core/errors";
import { round6 } from "../core/money";
import type { BarDrivenBroker, Fill, OrderAck, OrderRequest } from "./port";

interface Working {
  req: OrderRequest;
  id: string;
  submittedAt: number;
}

/**
 * The embedded paper broker: an accepted market order fills at the open of the next bar of its
 * symbol, moved against us by `slippageBps`. Deterministic: ids are a counter, no clock, no
 * randomness. It rejects a reused client_order_id the way Alpaca does.
 */
export class SimBroker implements BarDrivenBroker {
  readonly name = "sim";
  readonly isPaper = true;
  private working = new Map<string, Working[]>();
  private seenClientIds = new Set<string>();
  private seq = 0;

  constructor(private slippageBps = 5) {}

  async submit(o: OrderRequest, now: number): Promise<OrderAck> {
    if (this.seenClientIds.has(o.client_order_id))
      throw new SafetyError(`client_order_id ${o.client_order_id} was already used (duplicate order refused)`);
    if (!(o.qty > 0) || !Number.isFinite(o.qty)) throw new Error(`invalid qty ${o.qty} for ${o.symbol}`);
    this.seenClientIds.add(o.client_order_id);
    const id = `sim-${++this.seq}`;
    const list = this.working.get(o.symbol) ?? [];
    list.push({ req: o, id, submittedAt: now });
    this.working.set(o.symbol, list);
    return { broker_order_id: id, status: "accepted" };
  }

  onBar(bar: Bar): Fill[] {
    const list = this.working.get(bar.symbol);
    if (!list || list.length === 0) return [];
    const fills: Fill[] = [];
    const rest: Working[] = [];
    for (const w of list) {
      if (bar.ts <= w.submittedAt) {
        rest.push(w);
        continue;
      }
      const slip = (bar.open * this.slippageBps) / 10_000;
      const price = round6(w.req.side === "buy" ? bar.open + slip : bar.open - slip);
      fills.push({ client_order_id: w.req.client_order_id, broker_order_id: w.id, symbol: bar.symbol, side: w.req.side, qty: w.req.qty, price, ts: bar.ts });
    }
    this.working.set(bar.symbol, rest);
    return fills;
  }

  openOrders(): number {
    let n = 0;
    for (const l of this.working.values()) n += l.length;
    return n;
  }

  async ping(): Promise<void> {}
}
