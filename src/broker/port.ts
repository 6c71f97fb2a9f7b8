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

/** The trading account as a venue reports it. */
export interface BrokerAccount {
  id: string;
  status: string;
  equity: number;
  buying_power: number;
  pattern_day_trader: boolean;
  currency: string;
}

/** The venue's market clock (times in epoch ms). */
export interface MarketClock {
  timestamp: number;
  is_open: boolean;
  next_open: number | null;
  next_close: number | null;
}

/** The Broker port. Every implementation is a paper broker; `isPaper` is checked by the gates anyway. */
export interface Broker {
  readonly name: string;
  readonly isPaper: boolean;
  submit(o: OrderRequest, now?: number): Promise<OrderAck>;
  ping(): Promise<void>;
  /** Optional: the venue's account (Alpaca); a broker without one (the simulator) lacks it. */
  account?(): Promise<BrokerAccount>;
  /** Optional: the venue's market clock (Alpaca); without it the NYSE calendar answers. */
  clock?(): Promise<MarketClock>;
}

/** A broker that learns prices from the bar stream (the simulator) and reports fills. */
export interface BarDrivenBroker extends Broker {
  onBar(bar: Bar): Fill[];
  /** Account equity the broker reports (for the pattern-day-trader rule). */
  equity(): number;
  /**
   * Shares of a symbol held back by armed bracket legs that have no trade row yet (the simulator
   * arms them itself); 0 for a broker whose legs are reconciled into trade rows (Alpaca).
   */
  legQty(symbol: string): number;
}

/** An order as the broker reports it (for reconciliation). */
export interface BrokerOrder {
  id: string;
  client_order_id: string;
  symbol: string;
  side: Side;
  qty: number;
  status: string; // the broker's word: new, accepted, pending_new, partially_filled, filled, canceled, ...
  filled_qty: number;
  avg_fill_price: number | null;
  filled_at: number | null;
  created_at: number | null;
  legs: BrokerOrder[];
}

export interface BrokerPosition {
  symbol: string;
  qty: number;
  avg_entry_price: number;
  market_value: number;
  current_price: number | null;
  unrealized_pl: number;
}

/** A broker whose order state is learned by asking it (Alpaca), not from bars. */
export interface ReconcilableBroker extends Broker {
  getOrderByClientId(clientOrderId: string): Promise<BrokerOrder | null>;
  /** One page of the account's orders in any status submitted after `after` (wall ms, exclusive), oldest first. */
  listOrders(q: { after: number; limit: number }): Promise<BrokerOrder[]>;
  cancelOrder(brokerOrderId: string): Promise<void>;
  positions(): Promise<BrokerPosition[]>;
}

export function isReconcilable(b: Broker): b is ReconcilableBroker {
  return typeof (b as Partial<ReconcilableBroker>).getOrderByClientId === "function";
}

/** Broker statuses after which an order is never polled again (runbook 12). */
export const TERMINAL_BROKER_STATUSES = ["filled", "canceled", "rejected", "expired", "replaced"] as const;
