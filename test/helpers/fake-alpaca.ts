/**
 * A fake Alpaca paper trading API on 127.0.0.1:0 for tests: real HTTP, the endpoints AWET uses
 * (including the paged order listing GET /v2/orders?status=all&after=...), statuses that move
 * accepted → partially_filled → filled on successive lookups, and injectable faults per route:
 * 429 with Retry-After, 500, a hang, and on the order POST the broker's harder cases — the order
 * stored only later (on a timer or when the test releases it), the POST held past the client's
 * timeout, a 500 or a reset connection after accepting. `restart()` stops and re-serves on the
 * same port keeping every order and position (held connections are dropped, as a real restart does).
 */
export interface FakeOrder {
  id: string;
  client_order_id: string;
  symbol: string;
  side: "buy" | "sell";
  qty: number;
  status: string;
  filled_qty: number;
  filled_avg_price: number | null;
  filled_at: string | null;
  created_at: string;
  order_class: string;
  reads: number;
  legs: FakeOrder[] | null;
}

/**
 * `post`: what the broker does with one order POST. store: "now" (before answering), "later"
 * (after storeAfterMs, or when the test calls release()), "never". answer: "ok" (200 with the
 * order, or 500 when it is not stored yet), "500", "reset" (200 headers, then the connection is
 * cut), "hold" (answered like "ok" after answerAfterMs, or at release() — past the client's
 * timeout the client has given up by then).
 */
export type PostFault = { kind: "post"; store: "now" | "later" | "never"; storeAfterMs?: number; answer: "ok" | "500" | "reset" | "hold"; answerAfterMs?: number };

/** `stall`: the request is held before the broker reads it (as if never sent); answered 500 at release(). */
export type Fault = { kind: "status"; status: number; retryAfter?: number } | { kind: "hang" } | { kind: "hang-after-accept" } | { kind: "stall" } | PostFault;

export class FakeAlpaca {
  orders: FakeOrder[] = [];
  requests: { method: string; path: string; keyId: string | null; secret: string | null }[] = [];
  faults = new Map<string, Fault[]>(); // route key "POST /v2/orders" → faults consumed in order
  fillPrice = (symbol: string) => (symbol === "SPY" ? 168.5 : 100);
  /** How reads move a working order: accepted → partially_filled → filled. */
  progress = true;
  positionsList: { symbol: string; qty: number; avg_entry_price: number; current_price: number }[] = [];
  equity = 100_000;
  historical: Record<string, { ts: number; o: number; h: number; l: number; c: number; v: number }[]> = {};
  barsQuery = "";
  /** client_order_id of every order POST the broker read, in order, whatever was answered. */
  postedClientIds: string[] = [];
  /** Order POSTs answered 200 with the order. */
  answered = 0;
  private server: ReturnType<typeof Bun.serve>;
  private seq = 0;
  private pending: (() => void)[] = []; // deferred stores and held answers, run by release()

  constructor() {
    this.server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req) => this.handle(req) });
  }

  /** Run every deferred store and held answer now (those without a timer, and those whose timer has not fired). */
  release(): void {
    const p = this.pending;
    this.pending = [];
    for (const f of p) f();
  }

  /** Orders deferred or answers held, waiting for release() or their timer. */
  get waiting(): number {
    return this.pending.length;
  }

  /** Stop and serve again on the same port; orders, positions and counters survive. */
  restart(): void {
    const port = this.server.port;
    this.server.stop(true);
    this.server = Bun.serve({ hostname: "127.0.0.1", port, fetch: (req) => this.handle(req) });
  }

  /** Run `f` after `ms`, or at release() when ms is undefined; either way once. */
  private later(ms: number | undefined, f: () => void): void {
    let done = false;
    const once = () => {
      if (done) return;
      done = true;
      f();
    };
    this.pending.push(once);
    if (ms !== undefined) setTimeout(once, ms);
  }

  get url(): string {
    return `http://127.0.0.1:${this.server.port}`;
  }

  /** POSTs of orders received, whatever was answered. */
  get posts(): number {
    return this.requests.filter((r) => r.method === "POST" && r.path === "/v2/orders").length;
  }

  inject(route: string, ...f: Fault[]): void {
    this.faults.set(route, [...(this.faults.get(route) ?? []), ...f]);
  }

  stop(): void {
    this.server.stop(true);
  }

  private json(x: unknown, status = 200, headers: Record<string, string> = {}): Response {
    return new Response(JSON.stringify(x), { status, headers: { "content-type": "application/json", ...headers } });
  }

  private wire(o: FakeOrder): Record<string, unknown> {
    return {
      id: o.id, client_order_id: o.client_order_id, symbol: o.symbol, side: o.side, qty: String(o.qty), notional: null, type: "market",
      order_type: "market", order_class: o.order_class, time_in_force: "day", status: o.status, filled_qty: String(o.filled_qty),
      filled_avg_price: o.filled_avg_price === null ? null : String(o.filled_avg_price), filled_at: o.filled_at, created_at: o.created_at,
      submitted_at: o.created_at, updated_at: o.created_at, asset_class: "us_equity", extended_hours: false, legs: o.legs ? o.legs.map((l) => this.wire(l)) : null,
    };
  }

  private advance(o: FakeOrder): void {
    if (!this.progress || ["filled", "canceled", "rejected", "expired"].includes(o.status)) return;
    o.reads++;
    if (o.reads === 1) {
      o.status = "partially_filled";
      o.filled_qty = Math.max(1, Math.floor(o.qty / 2));
      o.filled_avg_price = this.fillPrice(o.symbol);
    } else {
      o.status = "filled";
      o.filled_qty = o.qty;
      o.filled_avg_price = this.fillPrice(o.symbol);
      o.filled_at = new Date().toISOString();
    }
  }

  private async handle(req: Request): Promise<Response> {
    const u = new URL(req.url);
    const route = `${req.method} ${u.pathname.replace(/\/v2\/orders\/[^/:]+$/, "/v2/orders/:id")}`;
    this.requests.push({ method: req.method, path: u.pathname + u.search, keyId: req.headers.get("apca-api-key-id"), secret: req.headers.get("apca-api-secret-key") });
    const f = this.faults.get(route)?.shift();
    if (f?.kind === "stall") return new Promise<Response>((resolve) => this.later(undefined, () => resolve(this.json({ code: 50000000, message: "stalled" }, 500))));
    let body: Record<string, any> | null = null;
    if (req.method === "POST" && u.pathname === "/v2/orders") {
      body = (await req.json()) as Record<string, any>;
      this.postedClientIds.push(String(body.client_order_id));
    }
    if (f?.kind === "status") return this.json({ code: f.status * 100000, message: `injected ${f.status}` }, f.status, f.retryAfter !== undefined ? { "retry-after": String(f.retryAfter) } : {});
    if (f?.kind === "hang") return new Promise(() => {});
    if (req.method === "POST" && u.pathname === "/v2/orders") {
      const b = body!;
      if (this.orders.some((o) => o.client_order_id === b.client_order_id))
        return this.json({ code: 42210000, message: "client_order_id must be unique" }, 422);
      if (!(Number(b.qty) > 0)) return this.json({ code: 42210000, message: "qty must be > 0" }, 422);
      // created_at is when the broker stores it (a late store gets a late time, as the listing sees it)
      const store = (): FakeOrder => {
        const o: FakeOrder = {
          id: `fake-${++this.seq}`, client_order_id: b.client_order_id, symbol: b.symbol, side: b.side, qty: Number(b.qty), status: "accepted",
          filled_qty: 0, filled_avg_price: null, filled_at: null, created_at: new Date().toISOString(), order_class: b.order_class ?? "simple", reads: 0, legs: null,
        };
        this.orders.push(o);
        return o;
      };
      if (f?.kind === "post") {
        let stored: FakeOrder | null = null;
        if (f.store === "now") stored = store();
        else if (f.store === "later") this.later(f.storeAfterMs, () => void (stored = store()));
        const answer = (): Response => (stored ? (this.answered++, this.json(this.wire(stored))) : this.json({ code: 50000000, message: "internal error" }, 500));
        if (f.answer === "500") return this.json({ code: 50000000, message: "injected 500 after the broker took the order" }, 500);
        if (f.answer === "reset")
          return new Response(new ReadableStream({ start: (c) => { c.enqueue(new TextEncoder().encode('{"id":')); queueMicrotask(() => c.error(new Error("fake-alpaca: connection cut after accepting (an injected fault; this log line is expected)"))); } }), { headers: { "content-type": "application/json" } });
        if (f.answer === "hold") return new Promise<Response>((resolve) => this.later(f.answerAfterMs, () => resolve(answer())));
        return answer();
      }
      const o = store();
      if (f?.kind === "hang-after-accept") return new Promise(() => {});
      this.answered++;
      return this.json(this.wire(o));
    }
    if (req.method === "GET" && u.pathname === "/v2/orders") {
      // The listing: status open|closed|all, after/until exclusive on the submission time, direction, limit (max 500).
      const status = u.searchParams.get("status") ?? "open";
      const after = u.searchParams.get("after") ? Date.parse(u.searchParams.get("after")!) : -Infinity;
      const until = u.searchParams.get("until") ? Date.parse(u.searchParams.get("until")!) : Infinity;
      const limit = Math.min(500, Number(u.searchParams.get("limit") ?? 50));
      const closed = (o: FakeOrder) => ["filled", "canceled", "rejected", "expired"].includes(o.status);
      const list = this.orders
        .filter((o) => status === "all" || (status === "closed") === closed(o))
        .filter((o) => Date.parse(o.created_at) > after && Date.parse(o.created_at) < until)
        .sort((a, b) => Date.parse(a.created_at) - Date.parse(b.created_at) || a.id.localeCompare(b.id));
      if (u.searchParams.get("direction") !== "asc") list.reverse();
      return this.json(list.slice(0, limit).map((o) => this.wire(o)));
    }
    if (req.method === "GET" && u.pathname === "/v2/orders:by_client_order_id") {
      const o = this.orders.find((x) => x.client_order_id === u.searchParams.get("client_order_id"));
      if (!o) return this.json({ code: 40410000, message: "order not found" }, 404);
      this.advance(o);
      return this.json(this.wire(o));
    }
    if (req.method === "DELETE" && route === "DELETE /v2/orders/:id") {
      const o = this.orders.find((x) => x.id === u.pathname.split("/").pop());
      if (!o) return this.json({ code: 40410000, message: "order not found" }, 404);
      o.status = "canceled";
      return new Response(null, { status: 204 });
    }
    if (req.method === "GET" && u.pathname === "/v2/positions")
      return this.json(this.positionsList.map((p) => ({
        symbol: p.symbol, qty: String(p.qty), avg_entry_price: String(p.avg_entry_price), current_price: String(p.current_price),
        market_value: String(p.qty * p.current_price), unrealized_pl: String(p.qty * (p.current_price - p.avg_entry_price)), side: "long", asset_class: "us_equity", exchange: "ARCA", asset_id: "x", cost_basis: String(p.qty * p.avg_entry_price),
      })));
    if (req.method === "GET" && u.pathname === "/v2/account")
      return this.json({ id: "acct-1", account_number: "PA1", status: "ACTIVE", currency: "USD", equity: String(this.equity), buying_power: String(this.equity * 2), pattern_day_trader: false, cash: String(this.equity) });
    if (req.method === "GET" && u.pathname === "/v2/stocks/bars") {
      const syms = (u.searchParams.get("symbols") ?? "").split(",");
      const bars: Record<string, unknown[]> = {};
      for (const s of syms) bars[s] = (this.historical[s] ?? []).map((b) => ({ t: new Date(b.ts).toISOString(), o: b.o, h: b.h, l: b.l, c: b.c, v: b.v, n: 1, vw: b.c }));
      this.barsQuery = u.search;
      return this.json({ bars, next_page_token: null });
    }
    if (req.method === "GET" && u.pathname === "/v2/clock")
      return this.json({ timestamp: new Date().toISOString(), is_open: true, next_open: new Date().toISOString(), next_close: new Date().toISOString() });
    return this.json({ code: 40400000, message: `no route ${route}` }, 404);
  }
}
