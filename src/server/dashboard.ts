import { existsSync } from "node:fs";
import { Elysia, t } from "elysia";
import type { Runtime } from "./runtime";
import type { RunStats } from "../agents/context";
import { dayBounds, pnlForDate, pnlToday } from "../ops/pnl";
import { opsSnapshot } from "../ops/snapshot";
import { JOBS } from "../jobs/jobs";
import { nextEffectiveRun, type Scheduler } from "../jobs/scheduler";
import { equityCurve } from "../reports/equity";
import { fillsFromTrades } from "../reports/pnl";
import { reportJson } from "../reports/render";
import { TRADE_STATUSES, type TradeStatus } from "../store/port";
import { clientScript, styleAsset, type Asset } from "./dashboard-assets";
import { LiveBuffer, type LiveBatch } from "./live";
import type { FeedInfo } from "./context";
import { apiErrors } from "./errors";
import { Limit, Open, READ_ERRORS, Ticker, TradeJson, TradeStatusT, Whole, tradeJson } from "./schemas";
import { MAX_TS } from "../store/bounds";

export type { FeedInfo };

export interface DashboardOptions {
  version: string;
  scheduler?: Scheduler;
  feed?: FeedInfo;
  /** How often the live stream sends a batch (ms); the throttle that keeps a fast replay readable. */
  tickMs?: number;
}

/** The live message: sent at most once per tick, only when something changed. */
export interface LiveTick {
  seq: number;
  at: string;
  progress: { kind: FeedInfo["kind"]; read: number; total: number | null };
  state: { trading_state: string; reason: string | null; execution_dry_run: boolean; approved: boolean; enable_exit_logic: boolean };
  stats: RunStats;
  events: LiveBatch | null;
}

/**
 * Content-Security-Policy of every dashboard response: the daemon's own origin only — no inline
 * script or style, no other host, not framable.
 */
export const DASHBOARD_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; connect-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy": DASHBOARD_CSP,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};

const END_OF_TIME = Date.parse("9999-01-01T00:00:00Z");

function serveAsset(request: Request, a: Asset, type: string): Response {
  const headers = { "content-type": type, etag: a.etag, "cache-control": "no-cache", ...SECURITY_HEADERS };
  if (request.headers.get("if-none-match") === a.etag) return new Response(null, { status: 304, headers });
  return new Response(a.body, { headers });
}

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>AWET dashboard</title>
<link rel="icon" href="/assets/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/assets/app.css">
<script type="module" src="/assets/app.js"></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<noscript>The AWET dashboard needs JavaScript. The same data is at /api/status, /api/trades and /health.</noscript>
<div id="app" aria-live="off"></div>
</body>
</html>
`;

const ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#0f172a"/><path d="M2 12l4-5 3 3 5-7" stroke="#38bdf8" stroke-width="2" fill="none"/></svg>`;

/**
 * The operator dashboard: the page at `/`, its bundled assets, and the reads it needs beyond the
 * existing /api/* (an overview, candles with fills and forecast band, PnL with its curve, trades
 * by reason, and the live stream). Controls call the existing POST endpoints with the token. Who
 * may read is the access guard's decision (guard.ts), as for every /api/* route.
 */
export function dashboardPlugin(sup: Runtime, o: DashboardOptions) {
  const feed: FeedInfo = o.feed ?? { kind: "none", total: null };
  const tickMs = o.tickMs ?? 500;
  const buffer = new LiveBuffer();
  sup.observers.add((e) => buffer.push(e));

  // --- the live stream: one timer for every open connection, running only while one is open ---
  const clients = new Set<(chunk: string) => void>();
  let timer: ReturnType<typeof setInterval> | null = null;
  let seq = 0;
  let lastState = "";
  let lastSent = 0;
  let busy = false;
  const enc = new TextEncoder();

  const stateNow = async (): Promise<LiveTick["state"]> => {
    const app = sup.appConfig;
    const ts = await sup.tradingState.info();
    return {
      trading_state: ts.state,
      reason: ts.reason === null ? null : `${ts.reason}${ts.by ? ` — by ${ts.by}` : ""}`,
      execution_dry_run: app.execution_dry_run,
      approved: existsSync(sup.settings.paths.approvalFile),
      enable_exit_logic: app.enable_exit_logic,
    };
  };
  const tickOnce = async () => {
    if (busy) return; // a slow store: skip a beat rather than pile up
    busy = true;
    try {
      const events = buffer.drain();
      const state = await stateNow();
      const key = JSON.stringify([state, sup.stats.bars_read]);
      const now = Date.now();
      let chunk: string;
      if (events || key !== lastState) {
        lastState = key;
        const msg: LiveTick = {
          seq: ++seq, at: new Date(now).toISOString(), progress: { kind: feed.kind, read: sup.stats.bars_read, total: feed.total },
          state, stats: sup.stats, events,
        };
        chunk = `id: ${msg.seq}\nevent: tick\ndata: ${JSON.stringify(msg)}\n\n`;
      } else if (now - lastSent > 5000) chunk = ": keep-alive\n\n"; // under Bun's idle timeout
      else return;
      lastSent = now;
      for (const send of clients) send(chunk);
    } catch (e) {
      sup.log.warn({ err: String(e) }, "dashboard tick failed");
    } finally {
      busy = false;
    }
  };
  const subscribe = (send: (chunk: string) => void) => {
    clients.add(send);
    if (!timer) timer = setInterval(() => void tickOnce(), tickMs);
    return () => {
      clients.delete(send);
      if (clients.size === 0 && timer) {
        clearInterval(timer);
        timer = null;
      }
    };
  };

  const tags = ["dashboard"];
  return new Elysia({ name: "awet-dashboard" })
    .use(apiErrors())
    // every dashboard answer carries the same-origin CSP, errors included (set before validation)
    .onTransform(({ set }) => void Object.assign(set.headers, SECURITY_HEADERS))
    .get("/", () => new Response(PAGE, { headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-cache", ...SECURITY_HEADERS } }), {
      response: { 200: t.String({ description: "text/html: the page; it carries no data and loads without a token" }), 421: "Error" },
      detail: { tags, summary: "The operator dashboard (HTML; its script and style under /assets/, same-origin CSP)" },
    })
    .get("/assets/app.js", async ({ request }) => serveAsset(request, await clientScript(), "text/javascript; charset=utf-8"), { detail: { hide: true } })
    .get("/assets/app.css", ({ request }) => serveAsset(request, styleAsset, "text/css; charset=utf-8"), { detail: { hide: true } })
    .get("/assets/icon.svg", () => new Response(ICON, { headers: { "content-type": "image/svg+xml", ...SECURITY_HEADERS } }), { detail: { hide: true } })
    .get("/api/dashboard/overview", async () => {
      const h = await sup.health();
      const app = sup.appConfig;
      const runs = await sup.store.listJobRuns({ limit: 200 });
      const last = await sup.store.latestBarTs();
      const lagRows = await sup.store.listLag();
      return {
        version: o.version,
        run_id: sup.runId,
        uptime_s: Math.round((Date.now() - sup.startedAt) / 1000),
        state: await stateNow(),
        broker: { name: sup.broker.name, paper: sup.broker.isPaper },
        store: { kind: sup.store.kind, ...h.store },
        bus: { kind: sup.bus.kind },
        llm: h.llm,
        feed: {
          kind: feed.kind, read: sup.stats.bars_read, total: feed.total, last_bar_ts: last === null ? null : new Date(last).toISOString(),
          // live feed freshness: wall seconds since the newest bar's time
          freshness_s: feed.kind === "live" && last !== null ? Math.round((Date.now() - last) / 1000) : null,
        },
        // consumer lag per agent: the Watchtower's last measurement summed over the agent's consumer
        // groups (awet.<Agent> and awet.<Agent>.<part>); null when no group of it was measured yet
        agents: Object.entries(h.agents).map(([name, a]) => {
          const mine = lagRows.filter((r) => r.group === `awet.${name}` || r.group.startsWith(`awet.${name}.`));
          return { name, ...(a as object), lag: mine.length ? mine.reduce((s, r) => s + r.lag, 0) : null };
        }),
        jobs: JOBS.map((j) => {
          const r = runs.find((x) => x.job === j.name);
          const st = o.scheduler?.status().jobs[j.name];
          return {
            name: j.name, cron: j.cron, every_seconds: j.every ? j.every(app) : null, next: st ? st.next : (nextEffectiveRun(j, new Date())?.toISOString() ?? null),
            last: r ? { status: r.status, trigger: r.trigger, finished_at: r.finished_at && new Date(r.finished_at).toISOString(), error: r.error } : null,
          };
        }),
        scheduler: o.scheduler ? true : false,
        limits: {
          max_total_exposure_usd: app.max_total_exposure_usd, max_exposure_per_symbol_usd: app.max_exposure_per_symbol_usd,
        },
        symbols: sup.settings.app.symbols,
        stats: sup.stats,
      };
    }, {
      response: {
        200: Open({ version: t.String(), run_id: t.String(), state: Open({ trading_state: t.String() }), feed: Open({ kind: t.String() }), agents: t.Array(Open({ name: t.String() })), jobs: t.Array(Open({ name: t.String() })), symbols: t.Array(t.String()) }),
        ...READ_ERRORS,
      },
      detail: { tags, summary: "Status bar, pipeline agents and jobs: trading state, dry run, approval, broker, LLM, store, bus, feed progress, each agent's health and lag, each job's next run and last result" },
    })
    .get("/api/dashboard/market", async ({ query }) => {
      const { symbol } = query;
      const since = query.since ?? 0;
      const limit = query.limit ?? 3000;
      const bars = (await sup.store.barsBetween(since, END_OF_TIME)).filter((b) => b.symbol === symbol).slice(-limit);
      const trades = await sup.store.listTrades({ symbol, limit: 100_000 });
      const byId = new Map(trades.map((t) => [t.id, t]));
      const fills = fillsFromTrades(trades).map((f) => {
        const t = byId.get(f.trade_id!)!;
        return { ...f, correlation_id: t.correlation_id, exit_reason: t.exit_reason };
      }).sort((a, b) => a.ts - b.ts);
      const pos = await sup.store.getPosition(symbol);
      const open = pos && pos.qty !== 0;
      const bracket = open ? trades.find((t) => t.side === "buy" && t.filled_qty > 0 && (t.take_profit_price !== null || t.stop_loss_price !== null)) : undefined;
      return {
        symbol,
        bars: bars.map((b) => ({ ts: b.ts, open: b.open, high: b.high, low: b.low, close: b.close, volume: b.volume })),
        fills,
        position: open ? pos : null,
        bracket: bracket ? { trade_id: bracket.id, take_profit: bracket.take_profit_price, stop_loss: bracket.stop_loss_price } : null,
        forecasts: buffer.forecastsOf(symbol, bars[0]?.ts ?? since),
      };
    }, {
      query: t.Object({
        symbol: Ticker,
        since: t.Optional(Whole({ minimum: 0, maximum: MAX_TS, default: 0, description: "epoch milliseconds: only bars from this time" })),
        limit: t.Optional(Whole({ minimum: 1, maximum: 20000, default: 3000, description: "newest bars to return" })),
      }),
      response: { 200: Open({ symbol: t.String(), bars: t.Array(Open({ ts: t.Number() })), fills: t.Array(Open({})), position: t.Nullable(Open({})), bracket: t.Nullable(Open({})), forecasts: t.Array(Open({})) }), ...READ_ERRORS },
      detail: { tags, summary: "Candles of one symbol with fills, the open position's bracket and the forecast p10–p90" },
    })
    .get("/api/dashboard/pnl", async () => {
      const date = await pnlToday(sup.store);
      const report = await pnlForDate(sup.store, date);
      const { start, end } = dayBounds(date);
      const fills = fillsFromTrades(await sup.store.listTrades({ limit: 1_000_000 })).filter((f) => f.ts < end);
      const curve = equityCurve(fills, await sup.store.barCloses(start, end), start, end - 1);
      const snap = await opsSnapshot(sup.settings, sup.store, sup.appConfig);
      return { date, report: reportJson(report), curve, positions: snap.positions, exposure: snap.exposure, pending_orders: snap.pending_orders };
    }, {
      response: { 200: Open({ date: t.String({ format: "date" }), report: Open({}), curve: t.Array(Open({})), positions: t.Array(Open({})), exposure: Open({}), pending_orders: t.Array(Open({})) }), ...READ_ERRORS },
      detail: { tags, summary: "Today's FIFO PnL report (as `awet pnl today`), its curve, positions and exposure against the caps" },
    })
    .get("/api/dashboard/trades", async ({ query }) => {
      const { status, symbol, reason } = query;
      const limit = query.limit ?? 200;
      const reasonOf = (t: { error_message: string | null; exit_reason: string | null }) => t.error_message ?? t.exit_reason ?? "";
      let rows = await sup.store.listTrades({ status: status as TradeStatus | undefined, symbol, limit: reason ? 1_000_000 : limit });
      if (reason) rows = rows.filter((t) => reasonOf(t) === reason).slice(0, limit);
      const blocked: Record<string, number> = {};
      for (const t of await sup.store.listTrades({ status: "blocked", limit: 1_000_000 })) blocked[reasonOf(t) || "unknown"] = (blocked[reasonOf(t) || "unknown"] ?? 0) + 1;
      return { count: rows.length, trades: rows.map(tradeJson), blocked_by_reason: blocked, statuses: [...TRADE_STATUSES] };
    }, {
      query: t.Object({ status: t.Optional(TradeStatusT), symbol: t.Optional(Ticker), reason: t.Optional(t.String({ maxLength: 100, description: "a block or exit reason" })), limit: Limit(200) }),
      response: { 200: t.Object({ count: t.Integer(), trades: t.Array(TradeJson), blocked_by_reason: t.Record(t.String(), t.Integer()), statuses: t.Array(TradeStatusT) }), ...READ_ERRORS },
      detail: { tags, summary: "Trades filtered by status, symbol and reason, with blocked counts by reason" },
    })
    .get("/api/dashboard/events", ({ request }) => {
      let unsubscribe = () => {};
      const stream = new ReadableStream<Uint8Array>({
        start(ctrl) {
          ctrl.enqueue(enc.encode(`retry: 2000\n: connected\n\n`));
          unsubscribe = subscribe((chunk) => {
            try {
              ctrl.enqueue(enc.encode(chunk));
            } catch {
              unsubscribe();
            }
          });
          request.signal.addEventListener("abort", () => {
            unsubscribe();
            try {
              ctrl.close();
            } catch {
              // already closed
            }
          });
        },
        cancel() {
          unsubscribe();
        },
      });
      return new Response(stream, { headers: { "content-type": "text/event-stream", "cache-control": "no-cache", "x-accel-buffering": "no", ...SECURITY_HEADERS } });
    }, {
      response: { 200: t.String({ description: "text/event-stream: `tick` events (LiveTick: progress, state, counters, events since the last tick)" }), ...READ_ERRORS },
      detail: { tags, summary: "Server-sent events: one `tick` per interval at most (progress, state, counters, events since the last tick)" },
    });
}
