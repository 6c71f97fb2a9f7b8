import type { Bar } from "../core/events";
import { SafetyError } from "../core/errors";
import { round6 } from "../core/money";
import type { BarDrivenBroker, Fill, OrderAck, OrderRequest } from "./port";

interface Working {
  req: OrderRequest;
  id: string;
  submittedAt: number;
}

/** The two exit legs of a filled bracket entry: one cancels the other (OCO). */
interface Legs {
  parent: string;
  symbol: string;
  qty: number;
  tp: number;
  sl: number;
  armedAt: number;
}

/**
 * The embedded paper broker. An accepted market order fills at the open of the next bar of its
 * symbol, moved against us by `slippageBps`. A bracket entry fills the same way and then arms its
 * take-profit (limit) and stop-loss (stop) legs: on a later bar the stop fills when the low
 * touches it (at the open if the bar gapped through), else the limit when the high reaches it;
 * the stop is checked first, the conservative assumption when one bar touches both.
 * Deterministic: ids are a counter, no clock, no randomness. A reused client_order_id is refused
 * the way Alpaca refuses it.
 */
export class SimBroker implements BarDrivenBroker {
  readonly name = "sim";
  readonly isPaper = true;
  private working = new Map<string, Working[]>();
  private legs = new Map<string, Legs[]>();
  private seenClientIds = new Set<string>();
  private seq = 0;

  constructor(
    private slippageBps = 5,
    private accountEquity = 100_000,
  ) {}

  async submit(o: OrderRequest, now: number): Promise<OrderAck> {
    if (this.seenClientIds.has(o.client_order_id))
      throw new SafetyError(`client_order_id ${o.client_order_id} was already used (duplicate order refused)`);
    if (!(o.qty > 0) || !Number.isFinite(o.qty)) throw new Error(`invalid qty ${o.qty} for ${o.symbol}`);
    if (o.type === "bracket" && !(o.take_profit_price && o.stop_loss_price))
      throw new Error(`bracket order for ${o.symbol} needs take_profit_price and stop_loss_price`);
    this.seenClientIds.add(o.client_order_id);
    const id = `sim-${++this.seq}`;
    const list = this.working.get(o.symbol) ?? [];
    list.push({ req: o, id, submittedAt: now });
    this.working.set(o.symbol, list);
    return { broker_order_id: id, status: "accepted" };
  }

  onBar(bar: Bar): Fill[] {
    const fills: Fill[] = [];
    // Legs armed by an earlier bar first: they were working before this bar opened.
    const legs = this.legs.get(bar.symbol);
    if (legs && legs.length) {
      const rest: Legs[] = [];
      for (const l of legs) {
        if (bar.ts <= l.armedAt) {
          rest.push(l);
          continue;
        }
        let leg: "stop_loss" | "take_profit" | null = null;
        let price = 0;
        if (bar.low <= l.sl) (leg = "stop_loss"), (price = Math.min(bar.open, l.sl));
        else if (bar.high >= l.tp) (leg = "take_profit"), (price = Math.max(bar.open, l.tp));
        if (!leg) {
          rest.push(l);
          continue;
        }
        fills.push({
          client_order_id: `${l.parent}-${leg === "stop_loss" ? "sl" : "tp"}`, broker_order_id: `sim-${++this.seq}`,
          symbol: l.symbol, side: "sell", qty: l.qty, price: round6(price), ts: bar.ts, parent_client_order_id: l.parent, leg,
        });
      }
      this.legs.set(bar.symbol, rest);
    }
    const list = this.working.get(bar.symbol);
    if (list && list.length) {
      const rest: Working[] = [];
      for (const w of list) {
        if (bar.ts <= w.submittedAt) {
          rest.push(w);
          continue;
        }
        const slip = (bar.open * this.slippageBps) / 10_000;
        const price = round6(w.req.side === "buy" ? bar.open + slip : bar.open - slip);
        fills.push({ client_order_id: w.req.client_order_id, broker_order_id: w.id, symbol: bar.symbol, side: w.req.side, qty: w.req.qty, price, ts: bar.ts });
        if (w.req.type === "bracket") {
          const l = this.legs.get(bar.symbol) ?? [];
          l.push({ parent: w.req.client_order_id, symbol: bar.symbol, qty: w.req.qty, tp: w.req.take_profit_price!, sl: w.req.stop_loss_price!, armedAt: bar.ts });
          this.legs.set(bar.symbol, l);
        }
      }
      this.working.set(bar.symbol, rest);
    }
    return fills;
  }

  /** Shares held back by armed bracket legs, per symbol (they are open sell orders). */
  legQty(symbol: string): number {
    return (this.legs.get(symbol) ?? []).reduce((a, l) => a + l.qty, 0);
  }

  openOrders(): number {
    let n = 0;
    for (const l of this.working.values()) n += l.length;
    return n;
  }

  equity(): number {
    return this.accountEquity;
  }

  async ping(): Promise<void> {}
}
