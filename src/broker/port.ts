import type { Bar, Side } from "../core/events";

export interface OrderRequest {
  client_order_id: string;
  symbol: string;
  side: Side;
  qty: number;
  type: "market" | "bracket";
  take_profit_price?: number | null;
  stop_loss_price?: number | null;
}

export interface OrderAck {
  broker_order_id: string;
  status: string; // the broker's own status word (accepted, new, ...)
}

export interface Fill {
  client_order_id: string;
  broker_order_id: string;
  symbol: string;
  side: Side;
  qty: number;
  price: number;
  ts: number;
  /** Set for a bracket leg: the entry order it belongs to and which leg filled. */
  parent_client_order_id?: string;
  leg?: "take_profit" | "stop_loss";
}

/** The Broker port. Every implementation is a paper broker; `isPaper` is checked by the gates anyway. */
export interface Broker {
  readonly name: string;
  readonly isPaper: boolean;
  submit(o: OrderRequest, now: number): Promise<OrderAck>;
  ping(): Promise<void>;
}

/** A broker that learns prices from the bar stream (the simulator) and reports fills. */
export interface BarDrivenBroker extends Broker {
  onBar(bar: Bar): Fill[];
  /** Account equity the broker reports (for the pattern-day-trader rule). */
  equity(): number;
}
