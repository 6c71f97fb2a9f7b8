import { Alpaca } from "@alpacahq/alpaca-trade-api";
import { SafetyError } from "../core/errors";
import { round6 } from "../core/money";
import type { Bar } from "../core/events";
import { BrokerAmbiguous, BrokerRejected, BrokerTemporary } from "./errors";
import type { BarDrivenBroker, BrokerAccount, BrokerOrder, MarketClock, BrokerPosition, Fill, OrderAck, OrderRequest, ReconcilableBroker } from "./port";
import { safeUrl } from "../core/url";

export const ALPACA_PAPER_HOST = "paper-api.alpaca.markets";
export const ALPACA_PAPER_URL = `https://${ALPACA_PAPER_HOST}`;

export interface AlpacaConfig {
  baseUrl?: string; // ALPACA_BASE_URL
  paper?: string | boolean; // ALPACA_PAPER
  keyId?: string; // APCA_API_KEY_ID
  secret?: string; // APCA_API_SECRET_KEY
  allowLoopback?: boolean; // AWET_ALLOW_LOOPBACK_BROKER=1, for test doubles only
  timeoutMs?: number;
}

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|\[::1\])$/;

/**
 * Pure: decide the trading URL, or refuse with why. Only Alpaca's paper host passes, whatever
 * the env or config says; a loopback URL passes only for test doubles. `paper: false` is refused
 * outright.
 */
export function validateTradingHost(c: Pick<AlpacaConfig, "baseUrl" | "paper" | "allowLoopback">): { url: string; loopback: boolean } {
  const paper = typeof c.paper === "string" ? c.paper.trim().toLowerCase() : c.paper;
  if (paper === false || paper === "false" || paper === "0" || paper === "no")
    throw new SafetyError(`ALPACA_PAPER=${String(c.paper)}: AWET trades paper only and will not construct a live Alpaca broker`);
  if (paper !== undefined && paper !== true && paper !== "true" && paper !== "1" && paper !== "yes" && paper !== "")
    throw new SafetyError(`ALPACA_PAPER has the unreadable value '${String(c.paper)}' (expected true); refusing to guess`);
  const raw = (c.baseUrl ?? "").trim() || ALPACA_PAPER_URL;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new SafetyError(`ALPACA_BASE_URL '${safeUrl(raw)}' is not a URL; only ${ALPACA_PAPER_URL} is allowed`);
  }
  const path = u.pathname.replace(/\/+$/, "");
  if (u.username || u.password || u.search || u.hash || (path !== "" && path !== "/v2"))
    throw new SafetyError(`ALPACA_BASE_URL '${safeUrl(raw)}' has extra parts; only ${ALPACA_PAPER_URL} is allowed`);
  if (LOOPBACK.test(u.hostname)) {
    if (!c.allowLoopback) throw new SafetyError(`ALPACA_BASE_URL '${safeUrl(raw)}' is a loopback test double; set AWET_ALLOW_LOOPBACK_BROKER=1 to use it in tests`);
    return { url: `${u.protocol}//${u.host}`, loopback: true };
  }
  if (u.protocol !== "https:" || u.hostname !== ALPACA_PAPER_HOST || (u.port !== "" && u.port !== "443"))
    throw new SafetyError(`ALPACA_BASE_URL '${safeUrl(raw)}' is not Alpaca's paper host ${ALPACA_PAPER_URL}; AWET trades paper only`);
  return { url: ALPACA_PAPER_URL, loopback: false };
}

function statusOf(e: unknown): number | undefined {
  const s = (e as { status?: unknown })?.status;
  return typeof s === "number" ? s : undefined;
}

function messageOf(e: unknown): string {
  const m = (e as { message?: unknown })?.message;
  return typeof m === "string" ? m : String(e);
}

function toOrder(o: Record<string, any>): BrokerOrder {
  const num = (x: unknown) => (x === null || x === undefined || x === "" ? null : Number(x));
  const t = (x: unknown) => (x instanceof Date ? x.getTime() : typeof x === "string" ? Date.parse(x) : null);
  return {
    id: String(o.id),
    client_order_id: String(o.clientOrderId ?? ""),
    symbol: String(o.symbol ?? ""),
    side: o.side === "sell" ? "sell" : "buy",
    qty: num(o.qty) ?? 0,
    status: String(o.status ?? "unknown"),
    filled_qty: num(o.filledQty) ?? 0,
    avg_fill_price: num(o.filledAvgPrice) === null ? null : round6(num(o.filledAvgPrice)!),
    filled_at: t(o.filledAt),
    created_at: t(o.createdAt),
    legs: Array.isArray(o.legs) ? o.legs.map((l: Record<string, any>) => toOrder(l)) : [],
  };
}

/**
 * The Alpaca paper broker over @alpacahq/alpaca-trade-api v4. Construction fails, saying why,
 * for any host but the paper host. The SDK never re-POSTs an order; a submission without a
 * definite answer raises BrokerAmbiguous so the row stays pending_submit for the reconciler.
 */
export class AlpacaPaperBroker implements BarDrivenBroker, ReconcilableBroker {
  readonly name = "alpaca";
  readonly isPaper = true;
  readonly url: string;
  private client: Alpaca;
  private lastEquity = 0;

  constructor(c: AlpacaConfig) {
    const v = validateTradingHost(c);
    if (!c.keyId || !c.secret) throw new SafetyError("Alpaca keys missing: set APCA_API_KEY_ID and APCA_API_SECRET_KEY (in the environment or <home>/.env)");
    this.url = v.url;
    const target = v.url;
    this.client = new Alpaca({
      keyId: c.keyId,
      secret: c.secret,
      paper: true,
      retry: false, // the reconciler owns retries (5s/15s/30s); POSTs are never retried anyway
      timeoutMs: c.timeoutMs ?? 10_000,
      // A loopback test double: send the SDK's paper-host requests to it over real HTTP.
      fetchApi: v.loopback
        ? (input: any, init?: any) => fetch(String(input instanceof Request ? input.url : input).replace(ALPACA_PAPER_URL, target), init)
        : undefined,
    });
  }

  async submit(o: OrderRequest): Promise<OrderAck> {
    try {
      const base = { symbol: o.symbol, qty: o.qty, side: o.side, clientOrderId: o.client_order_id } as const;
      const r =
        o.type === "bracket"
          ? await this.client.trading.orders.bracket({ ...base, takeProfit: { limitPrice: o.take_profit_price! }, stopLoss: { stopPrice: o.stop_loss_price! } })
          : await this.client.trading.orders.market(base);
      return { broker_order_id: String(r.id), status: String(r.status ?? "accepted") };
    } catch (e) {
      const s = statusOf(e);
      if (s !== undefined && s >= 400 && s < 500 && s !== 408 && s !== 429) throw new BrokerRejected(`${s} ${messageOf(e)}`, s);
      throw new BrokerAmbiguous(`no definite answer to the order POST (${s ?? "network"}: ${messageOf(e)})`);
    }
  }

  private async read<T>(what: string, f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (e) {
      const s = statusOf(e);
      if (s === undefined || s === 408 || s === 429 || s >= 500) {
        const ra = (e as { retryAfterMs?: unknown }).retryAfterMs;
        throw new BrokerTemporary(`${what}: ${s ?? "network"} ${messageOf(e)}`, typeof ra === "number" ? ra : null);
      }
      throw e;
    }
  }

  async getOrderByClientId(clientOrderId: string): Promise<BrokerOrder | null> {
    try {
      return await this.read("order lookup", async () => toOrder((await this.client.trading.orders.getOrderByClientOrderId({ clientOrderId })) as any));
    } catch (e) {
      if (statusOf(e) === 404) return null;
      throw e;
    }
  }

  async listOrders(q: { after: number; limit: number }): Promise<BrokerOrder[]> {
    const page = await this.read("order listing", () =>
      this.client.trading.orders.getAllOrders({ status: "all", after: new Date(q.after).toISOString(), direction: "asc", limit: q.limit, nested: true }),
    );
    return (page as unknown as Record<string, any>[]).map(toOrder);
  }

  async cancelOrder(brokerOrderId: string): Promise<void> {
    await this.read("cancel", () => this.client.trading.orders.deleteOrderByOrderID({ orderId: brokerOrderId }));
  }

  async positions(): Promise<BrokerPosition[]> {
    const ps = await this.read("positions", () => this.client.trading.positions.getAllOpenPositions());
    return ps.map((p: any) => ({
      symbol: String(p.symbol),
      qty: Number(p.qty),
      avg_entry_price: round6(Number(p.avgEntryPrice)),
      market_value: round6(Number(p.marketValue ?? 0)),
      current_price: p.currentPrice === undefined || p.currentPrice === null ? null : round6(Number(p.currentPrice)),
      unrealized_pl: round6(Number(p.unrealizedPl ?? 0)),
    }));
  }

  async account(): Promise<BrokerAccount> {
    const a: any = await this.read("account", () => this.client.trading.account.getAccount());
    this.lastEquity = Number(a.equity ?? 0);
    return {
      id: String(a.id), status: String(a.status), equity: this.lastEquity, buying_power: Number(a.buyingPower ?? 0),
      pattern_day_trader: Boolean(a.patternDayTrader), currency: String(a.currency ?? "USD"),
    };
  }

  async clock(): Promise<MarketClock> {
    const c: any = await this.read("clock", () => this.client.trading.clock.legacyClock());
    const t = (x: unknown) => (x instanceof Date ? x.getTime() : typeof x === "string" ? Date.parse(x) : null);
    return { timestamp: t(c.timestamp) ?? Date.now(), is_open: Boolean(c.isOpen), next_open: t(c.nextOpen), next_close: t(c.nextClose) };
  }

  onBar(_bar: Bar): Fill[] {
    return []; // fills come from the reconciler, not from bars
  }

  legQty(_symbol: string): number {
    return 0; // Alpaca's legs are orders at the broker, reconciled into trade rows
  }

  equity(): number {
    return this.lastEquity;
  }

  async ping(): Promise<void> {
    await this.account();
  }
}
