import type { LiveTick } from "../server/dashboard";
import type { NotableEvent } from "../server/live";
import { HttpError, getJson, openStream, postJson, token } from "./api";
import { EquityChart, MarketChart, type BandPoint, type Candle, type FillMark } from "./charts";
import { $, fill, h, num, nyTime, throttle, usd, type Child } from "./dom";
import { TRADE_STATUSES } from "../store/port";

/**
 * The AWET operator dashboard: one page, sections for status, the pipeline's agents, the scheduled
 * jobs, market, positions and PnL, orders, trade chain, LLM calls and controls. Live through the server-sent event stream; every
 * section is (re)loaded from the REST endpoints on start and whenever the stream reconnects.
 */

type Json = Record<string, any>;

const view = {
  symbol: "",
  symbols: [] as string[],
  filter: { status: "", symbol: "", reason: "" },
  readsNeedToken: false,
  events: [] as NotableEvent[],
  dropped: 0,
};

let market: MarketChart;
let equity: EquityChart;

// ---------------------------------------------------------------- layout

function section(id: string, title: string, ...body: Child[]): HTMLElement {
  return h("section", { id, "aria-labelledby": `${id}-h` }, h("h2", { id: `${id}-h`, tabindex: "-1" }, title), ...body);
}

function controlButton(action: string, label: string, cls = ""): HTMLButtonElement {
  return h("button", { type: "button", class: `ctl ${cls}`, "data-action": action, disabled: true, "aria-describedby": "ctl-why" }, label);
}

function layout(): void {
  const app = $("#app");
  const statuses = [...TRADE_STATUSES];
  fill(
    app,
    h("header", { class: "top" },
      h("h1", {}, "AWET ", h("span", { class: "muted" }, "paper trading")),
      h("div", { id: "statusbar", class: "statusbar", role: "region", "aria-label": "Status" }, "Loading…"),
      h("div", { class: "progress-row" },
        h("label", { for: "progress" }, "Feed"),
        h("progress", { id: "progress", max: "1", value: "0" }),
        h("span", { id: "progress-text", "aria-live": "off" }, "—"),
        h("span", { id: "stream", class: "pill", role: "status" }, "stream: connecting"),
      ),
      h("nav", { "aria-label": "Sections" },
        ...[["controls", "Controls"], ["pipeline", "Pipeline"], ["jobs", "Jobs"], ["market", "Market"], ["positions", "Positions & PnL"], ["orders", "Orders"], ["chain", "Trade chain"], ["llm", "LLM calls"]].map(([id, t]) => h("a", { href: `#${id}` }, t!)),
      ),
    ),
    h("div", { id: "banner", class: "banner", role: "alert", hidden: true }),
    h("main", { id: "main" },
      section("controls", "Controls",
        h("form", { id: "token-form", class: "token", autocomplete: "off" },
          h("label", { for: "token-input" }, "API token"),
          h("input", { id: "token-input", type: "password", autocomplete: "off", spellcheck: "false", placeholder: "AWET_API_TOKEN or <home>/.tmp/api-token" }),
          h("button", { type: "submit" }, "Use token"),
          h("button", { type: "button", id: "token-forget" }, "Forget"),
        ),
        h("p", { id: "ctl-why", class: "muted" }, "Controls are disabled: enter the API token first."),
        h("div", { class: "ctl-groups" },
          h("fieldset", {}, h("legend", {}, "Trading state"), controlButton("halt", "Halt", "danger"), controlButton("reducing", "Reducing only"), controlButton("resume", "Resume")),
          h("fieldset", {}, h("legend", {}, "Paper orders"), controlButton("paper-on", "Paper on"), controlButton("paper-off", "Paper off (dry run)")),
          h("fieldset", {}, h("legend", {}, "Approval"), controlButton("approve", "Approve"), controlButton("revoke", "Revoke")),
          h("fieldset", {}, h("legend", {}, "Exit logic"), controlButton("exit-on", "Exit logic on"), controlButton("exit-off", "Exit logic off")),
        ),
        h("p", { id: "ctl-result", role: "status", "aria-live": "polite" }),
      ),
      section("pipeline", "Pipeline", h("table", { id: "agents" })),
      section("jobs", "Jobs", h("p", { class: "muted small" }, "Scheduled in New York time; each runs now with POST /api/jobs/NAME/run."), h("table", { id: "jobs-table" })),
      section("market", "Market",
        h("div", { class: "row" },
          h("label", { for: "symbol" }, "Symbol"),
          h("select", { id: "symbol" }),
          h("span", { id: "chart-legend", class: "muted", "aria-live": "off" }),
        ),
        h("div", { id: "chart", class: "chart", role: "img", "aria-label": "Candlestick chart of the selected symbol with fills and the forecast band" }),
        h("p", { class: "muted small" }, "Times in New York. ▲ buy fill, ▼ sell fill; dashed: forecast p10–p90 of the next-horizon return priced from each close; dotted: take-profit / stop-loss of the open position."),
      ),
      section("positions", "Positions & PnL",
        h("div", { id: "pnl-figures", class: "figures" }),
        h("div", { class: "grid2" },
          h("div", {}, h("h3", {}, "Positions and exposure"), h("table", { id: "positions-table" }), h("div", { id: "exposure" })),
          h("div", {}, h("h3", { id: "equity-h" }, "PnL curve (today, FIFO)"), h("div", { id: "equity", class: "chart small-chart", role: "img", "aria-labelledby": "equity-h" }), h("p", { id: "equity-note", class: "muted small" })),
        ),
      ),
      section("orders", "Orders",
        h("form", { id: "filters", class: "row" },
          h("label", { for: "f-status" }, "Status"),
          h("select", { id: "f-status" }, h("option", { value: "" }, "all"), ...statuses.map((s) => h("option", { value: s }, s))),
          h("label", { for: "f-symbol" }, "Symbol"),
          h("select", { id: "f-symbol" }, h("option", { value: "" }, "all")),
          h("label", { for: "f-reason" }, "Reason"),
          h("select", { id: "f-reason" }, h("option", { value: "" }, "all")),
        ),
        h("div", { class: "grid2 wide-left" },
          h("div", { class: "scroll" }, h("table", { id: "trades" })),
          h("div", {},
            h("h3", {}, "Blocked by reason"), h("div", { id: "blocked", class: "bars" }),
            h("h3", {}, "Live events"), h("ol", { id: "events", class: "events", "aria-live": "off" }),
          ),
        ),
      ),
      section("chain", "Trade chain", h("div", { id: "chain-body" }, h("p", { class: "muted" }, "Choose an order's “chain” button to see bar → features → forecast → risk decision (with the LLM prompt and answer) → order → fills."))),
      section("llm", "LLM calls", h("div", { id: "llm-figures", class: "figures" }), h("div", { class: "scroll" }, h("table", { id: "llm-calls" }))),
    ),
    h("footer", { class: "muted small" },
      "Paper trading only. Charts: ", h("a", { href: "https://www.tradingview.com/", rel: "noopener noreferrer" }, "TradingView Lightweight Charts™"), " (Apache-2.0), bundled with the daemon."),
  );
  market = new MarketChart($("#chart"));
  equity = new EquityChart($("#equity"));
}

// ---------------------------------------------------------------- helpers

function table(el: HTMLElement, caption: string, head: string[], rows: Child[][], empty = "none yet"): void {
  fill(
    el,
    h("caption", { class: "sr-only" }, caption),
    h("thead", {}, h("tr", {}, ...head.map((x) => h("th", { scope: "col" }, x)))),
    h("tbody", {}, rows.length ? rows.map((r) => h("tr", {}, ...r.map((c) => h("td", {}, c)))) : h("tr", {}, h("td", { colspan: String(head.length), class: "muted" }, empty))),
  );
}

const chip = (label: string, value: string, tone: "ok" | "warn" | "bad" | "info" = "info", title?: string) =>
  h("span", { class: `chip ${tone}`, title }, h("span", { class: "chip-l" }, label), " ", h("strong", {}, value));

function banner(text: string | null): void {
  const b = $("#banner");
  b.hidden = text === null;
  b.textContent = text ?? "";
}

function readError(e: unknown): void {
  if (e instanceof HttpError && e.status === 401) {
    view.readsNeedToken = true;
    banner("401 Unauthorized: this daemon listens beyond loopback, so reading needs the API token. Enter it under Controls.");
  } else banner(`Could not load: ${e instanceof Error ? e.message : String(e)}`);
}

// ---------------------------------------------------------------- status bar, pipeline and jobs

function renderState(state: LiveTick["state"], extra: Json | null): void {
  const st = state.trading_state;
  const chips: Child[] = [
    chip("state", st, st === "ACTIVE" ? "ok" : st === "HALTED" ? "bad" : "warn", state.reason ?? undefined),
    state.reason ? h("span", { class: "muted small" }, `(${state.reason})`) : null,
    chip("orders", state.execution_dry_run ? "dry run" : "paper", state.execution_dry_run ? "info" : "warn"),
    chip("approval", state.approved ? "approved" : "not approved", state.approved ? "warn" : "info"),
    chip("exit logic", state.enable_exit_logic ? "on" : "off"),
  ];
  if (extra) {
    chips.push(
      chip("broker", `${extra.broker.name}${extra.broker.paper ? " (paper)" : ""}`),
      chip("LLM", extra.llm.status, extra.llm.status === "ok" ? "ok" : extra.llm.status === "disabled" ? "info" : "warn", extra.llm.detail),
      chip("store", `${extra.store.kind}${extra.store.ok ? "" : " DOWN"}`, extra.store.ok ? "ok" : "bad", extra.store.error),
      chip("bus", extra.bus.kind),
      chip("run", extra.run_id),
    );
  }
  const bar = $("#statusbar");
  bar.dataset.tradingState = st;
  bar.dataset.dryRun = String(state.execution_dry_run);
  fill(bar, chips);
}

let lastOverview: Json | null = null;

function renderProgress(p: { kind: string; read: number; total: number | null }, freshness: number | null = null): void {
  const pr = $<HTMLProgressElement>("#progress");
  const text = $("#progress-text");
  text.dataset.read = String(p.read);
  if (p.kind === "replay" && p.total) {
    pr.max = p.total;
    pr.value = p.read;
    text.textContent = `replay: ${num(p.read)} of ${num(p.total)} bars (${((p.read / p.total) * 100).toFixed(1)}%)`;
  } else if (p.kind === "live") {
    pr.removeAttribute("value");
    text.textContent = `live: ${num(p.read)} bars${freshness !== null ? `, newest ${freshness}s old` : ""}`;
  } else {
    pr.max = 1;
    pr.value = 0;
    text.textContent = `no market input (${num(p.read)} bars)`;
  }
}

async function loadOverview(): Promise<void> {
  const o = await getJson<Json>("/api/dashboard/overview");
  lastOverview = o;
  renderState(o.state, o);
  renderProgress({ kind: o.feed.kind, read: o.feed.read, total: o.feed.total }, o.feed.freshness_s);
  table($("#agents"), "Pipeline agents", ["agent", "state", "processed", "errors", "lag", "last event", "idle"],
    o.agents.map((a: Json) => [
      a.name, h("span", { class: `tag ${a.state}` }, a.state), num(a.processed), a.errors ? h("span", { class: "bad-text", title: a.last_error ?? "" }, num(a.errors)) : "0",
      // consumer lag from the Watchtower's last round (events queued for the agent's handlers)
      a.lag === null ? h("span", { class: "muted", title: "no Watchtower measurement yet" }, "—") : num(a.lag),
      nyTime(a.last_event_ts), a.idle_s === null ? "—" : `${a.idle_s}s`,
    ]));
  table($("#jobs-table"), "Jobs", ["job", "schedule", "next run", "last result"],
    o.jobs.map((j: Json) => [
      j.name, j.cron ?? (j.every_seconds ? `every ${j.every_seconds} s` : "on demand"), nyTime(j.next),
      j.last ? h("span", { class: `tag ${j.last.status}`, title: j.last.error ?? "" }, `${j.last.status} ${nyTime(j.last.finished_at)}`) : h("span", { class: "muted" }, "never run"),
    ]), "no jobs");
  if (view.symbols.join() !== o.symbols.join()) setSymbols(o.symbols);
}

function setSymbols(symbols: string[]): void {
  view.symbols = symbols;
  if (!view.symbol || !symbols.includes(view.symbol)) view.symbol = symbols[0] ?? "";
  const sel = $<HTMLSelectElement>("#symbol");
  fill(sel, symbols.map((s) => h("option", { value: s, selected: s === view.symbol }, s)));
  const fs = $<HTMLSelectElement>("#f-symbol");
  fill(fs, h("option", { value: "" }, "all"), symbols.map((s) => h("option", { value: s, selected: s === view.filter.symbol }, s)));
}

// ---------------------------------------------------------------- market

let marketBusy = false;
async function loadMarket(full: boolean): Promise<void> {
  if (!view.symbol || marketBusy) return;
  marketBusy = true;
  try {
    const since = full ? undefined : market.lastBarTs;
    const m = await getJson<{ bars: Candle[]; forecasts: BandPoint[]; fills: FillMark[]; bracket: { take_profit: number | null; stop_loss: number | null } | null; position: Json | null }>(
      "/api/dashboard/market", { symbol: view.symbol, since });
    if (full || market.lastBarTs === 0) market.reset(m.bars, m.forecasts);
    else market.append(m.bars, m.forecasts);
    market.setFills(m.fills);
    market.setBracket(m.bracket);
    $("#chart-legend").textContent = `${num(market.candleCount)} candles · ${m.fills.length} fills${m.position ? ` · holding ${m.position.qty}` : ""}${m.bracket ? ` · TP ${m.bracket.take_profit ?? "—"} / SL ${m.bracket.stop_loss ?? "—"}` : ""}`;
  } finally {
    marketBusy = false;
  }
}

// ---------------------------------------------------------------- positions and PnL

async function loadPnl(): Promise<void> {
  const p = await getJson<Json>("/api/dashboard/pnl");
  const r = p.report;
  const tone = (x: number) => (x > 0 ? "pos" : x < 0 ? "neg" : "");
  fill($("#pnl-figures"),
    h("div", { class: "fig" }, h("span", {}, "Day"), h("strong", {}, p.date)),
    h("div", { class: "fig" }, h("span", {}, "Realized"), h("strong", { class: tone(r.realized_pnl_usd), id: "pnl-realized" }, usd(r.realized_pnl_usd, true))),
    h("div", { class: "fig" }, h("span", {}, "Unrealized"), h("strong", { class: tone(r.unrealized_pnl_usd) }, usd(r.unrealized_pnl_usd, true))),
    h("div", { class: "fig" }, h("span", {}, "Total"), h("strong", { class: tone(r.total_pnl_usd) }, usd(r.total_pnl_usd, true))),
    h("div", { class: "fig" }, h("span", {}, "Trades"), h("strong", {}, `${r.num_trades} (${r.wins}W / ${r.losses}L)`)),
    h("div", { class: "fig" }, h("span", {}, "Max drawdown"), h("strong", {}, usd(r.max_drawdown_usd))),
  );
  const cap = p.exposure.max_per_symbol_usd;
  table($("#positions-table"), "Open positions", ["symbol", "qty", "avg entry", "last", "value", "unrealized", "of symbol cap"],
    p.positions.map((x: Json) => [x.symbol, num(x.qty), usd(x.avg_entry_price), usd(x.last_price), usd(x.market_value), h("span", { class: tone(x.unrealized_pl) }, usd(x.unrealized_pl, true)),
      h("meter", { min: "0", max: String(cap), value: String(Math.abs(x.market_value)), "aria-label": `${x.symbol} exposure of the per-symbol cap`, title: `${usd(Math.abs(x.market_value))} of ${usd(cap)}` })]), "no open positions");
  fill($("#exposure"),
    h("label", { for: "exp-total" }, `Total exposure ${usd(p.exposure.total_usd)} of ${usd(p.exposure.max_total_usd)} (${p.exposure.used_pct.toFixed(1)}%)`),
    h("meter", { id: "exp-total", min: "0", max: String(p.exposure.max_total_usd), high: String(p.exposure.max_total_usd * 0.8), value: String(p.exposure.total_usd) }),
    p.pending_orders.length ? h("p", { class: "muted small" }, `${p.pending_orders.length} order(s) working`) : null,
    r.hints?.length ? h("ul", { class: "hints" }, r.hints.map((x: string) => h("li", {}, x))) : null,
  );
  equity.set(p.curve);
  $("#equity-note").textContent = p.curve.length ? `${p.curve.length} points, realized + unrealized` : "no fills today: the curve starts with the first fill";
  $("#equity").dataset.points = String(p.curve.length);
}

// ---------------------------------------------------------------- orders

async function loadTrades(): Promise<void> {
  const t = await getJson<{ count: number; trades: Json[]; blocked_by_reason: Record<string, number> }>("/api/dashboard/trades", { ...view.filter, limit: 200 });
  const tb = $("#trades");
  table(tb, "Orders, newest first", ["time (NY)", "symbol", "side", "qty", "price", "status", "reason", "fill", "chain"],
    t.trades.map((x) => [
      nyTime(x.ts), x.symbol, x.side, num(x.qty), x.price ?? "—", h("span", { class: `tag ${x.status}` }, x.status), x.error_message ?? x.exit_reason ?? "",
      x.filled_qty ? `${num(x.filled_qty)} @ ${x.avg_fill_price}` : "",
      h("button", { type: "button", class: "link", "data-corr": x.correlation_id, "aria-label": `Open the trade chain of ${x.side} ${x.symbol} at ${nyTime(x.ts)}` }, "chain"),
    ]), "no orders match");
  tb.dataset.rows = String(t.trades.length);
  // reasons for the filter: every blocked reason plus the exit reasons seen
  const reasons = new Set(Object.keys(t.blocked_by_reason));
  for (const x of t.trades) if (x.exit_reason) reasons.add(x.exit_reason);
  if (view.filter.reason) reasons.add(view.filter.reason);
  const rs = $<HTMLSelectElement>("#f-reason");
  fill(rs, h("option", { value: "" }, "all"), [...reasons].sort().map((r) => h("option", { value: r, selected: r === view.filter.reason }, r)));
  const entries = Object.entries(t.blocked_by_reason).sort((a, b) => b[1] - a[1]);
  const max = Math.max(1, ...entries.map(([, n]) => n));
  fill($("#blocked"), entries.length
    ? entries.map(([reason, n]) => {
        const bar = h("span", { class: "bar-fill" });
        bar.style.width = `${(n / max) * 100}%`;
        return h("div", { class: "bar", role: "img", "aria-label": `${reason}: ${n}` }, h("span", { class: "bar-label" }, reason), h("span", { class: "bar-track" }, bar), h("span", { class: "bar-n" }, num(n)));
      })
    : h("p", { class: "muted" }, "nothing blocked"));
}

function renderEvents(): void {
  fill($("#events"),
    view.events.map((e) => h("li", {}, h("time", {}, nyTime(e.ts)), " ", h("span", { class: `tag ${e.type.replace(/\./g, "-")}` }, e.type), " ", e.text)),
    view.dropped ? h("li", { class: "muted" }, `${num(view.dropped)} more events not listed (throttled)`) : null,
    view.events.length ? null : h("li", { class: "muted" }, "waiting for orders, blocks and fills"),
  );
}

// ---------------------------------------------------------------- trade chain

async function openChain(corr: string): Promise<void> {
  const body = $("#chain-body");
  fill(body, h("p", {}, "Loading…"));
  try {
    const c = await getJson<Json>(`/api/trade-chain/${encodeURIComponent(corr)}`);
    const kindTone: Record<string, string> = { BLOCK: "bad", FILL: "ok", RISK: "info", LLM: "info", TRADE: "warn", AUDIT: "" };
    fill(body,
      h("p", {}, "Correlation id ", h("code", {}, c.correlation_id)),
      h("ol", { class: "timeline" }, c.timeline.map((e: Json) => h("li", {}, h("time", {}, nyTime(e.ts)), " ", h("span", { class: `tag ${kindTone[e.kind] ?? ""}` }, e.kind), " ", e.text))),
      c.trades.map((t: Json) => h("dl", { class: "kv" },
        h("dt", {}, "Order"), h("dd", {}, `${t.side.toUpperCase()} ${t.qty} ${t.symbol} → ${t.status}${t.error_message ? ` (${t.error_message})` : ""}`),
        h("dt", {}, "Client order id"), h("dd", {}, h("code", {}, t.client_order_id ?? "—")),
        h("dt", {}, "Broker order id"), h("dd", {}, h("code", {}, t.alpaca_order_id ?? "—")),
        h("dt", {}, "Fill"), h("dd", {}, t.filled_qty ? `${t.filled_qty} @ ${t.avg_fill_price}` : "—"),
        t.take_profit_price !== null ? [h("dt", {}, "Bracket"), h("dd", {}, `TP ${t.take_profit_price} / SL ${t.stop_loss_price}`)] : null,
      )),
      h("h3", {}, "LLM calls"),
      c.llm_traces.length === 0 ? h("p", { class: "muted" }, "The LLM was not called for this bar.") : null,
      c.llm_traces.map((t: Json) => h("article", { class: "trace" },
        h("p", {}, h("strong", {}, t.agent_name), ` → ${t.model} · ${Math.round(t.latency_ms ?? 0)} ms · `, h("span", { class: `tag ${t.status === "ok" ? "ok" : "bad"}` }, t.status)),
        h("h4", {}, "Prompt (as stored, redacted)"), h("pre", { class: "prompt", tabindex: "0" }, promptOf(t)),
        h("h4", {}, "Answer"), h("pre", { tabindex: "0" }, answerOf(t)),
      )),
    );
  } catch (e) {
    fill(body, h("p", { class: "bad-text" }, e instanceof HttpError && e.status === 404 ? `No chain recorded for ${corr}.` : `Could not load the chain: ${String(e)}`));
  }
  $("#chain").scrollIntoView({ block: "start" });
  $("#chain-h").focus({ preventScroll: true }); // keyboard users land on the chain
}

function promptOf(t: Json): string {
  const msgs = t.request?.messages as { role: string; content: string }[] | undefined;
  return msgs?.length ? msgs.map((m) => `[${m.role}]\n${m.content}`).join("\n\n") : JSON.stringify(t.request, null, 2);
}
function answerOf(t: Json): string {
  return t.response?.content ?? (t.error_message ? `(${t.status}) ${t.error_message}` : JSON.stringify(t.response, null, 2));
}

// ---------------------------------------------------------------- LLM

async function loadLlm(): Promise<void> {
  const [s, tr] = await Promise.all([getJson<Json>("/api/llm/summary"), getJson<{ traces: Json[] }>("/api/llm/traces", { limit: 10 })]);
  const ms = (x: number | null) => (x === null ? "—" : `${Math.round(x)} ms`);
  fill($("#llm-figures"),
    h("div", { class: "fig" }, h("span", {}, "Calls"), h("strong", {}, num(s.total_calls))),
    h("div", { class: "fig" }, h("span", {}, "Errors"), h("strong", { class: s.errors ? "neg" : "" }, `${num(s.errors)} (${(s.error_rate * 100).toFixed(1)}%)`)),
    h("div", { class: "fig" }, h("span", {}, "Skipped"), h("strong", {}, num(s.skipped))),
    h("div", { class: "fig" }, h("span", {}, "Avg latency"), h("strong", {}, ms(s.avg_latency_ms))),
    h("div", { class: "fig" }, h("span", {}, "p95 latency"), h("strong", {}, ms(s.p95_latency_ms))),
    h("div", { class: "fig" }, h("span", {}, "Models"), h("strong", {}, s.top_models.map((m: Json) => `${m.name} (${m.calls})`).join(", ") || "—")),
  );
  table($("#llm-calls"), "Last LLM calls", ["time", "agent", "model", "status", "latency", "tokens", "chain"],
    tr.traces.map((t) => [nyTime(t.ts), t.agent_name, t.model, h("span", { class: `tag ${t.status === "ok" ? "ok" : t.status === "skipped" ? "" : "bad"}`, title: t.error_message ?? "" }, t.status), ms(t.latency_ms),
      `${t.prompt_tokens ?? "—"} / ${t.completion_tokens ?? "—"}`,
      t.correlation_id ? h("button", { type: "button", class: "link", "data-corr": t.correlation_id, "aria-label": `Open the trade chain of the call at ${nyTime(t.ts)}` }, "chain") : ""]),
    "no LLM calls yet");
}

// ---------------------------------------------------------------- controls

const ACTIONS: Record<string, { path: string; body?: object; label: string }> = {
  halt: { path: "/api/halt", body: { mode: "halted", reason: "dashboard" }, label: "Halt" },
  reducing: { path: "/api/halt", body: { mode: "reducing", reason: "dashboard" }, label: "Reducing only" },
  resume: { path: "/api/resume", label: "Resume" },
  "paper-on": { path: "/api/paper/on", label: "Paper on" },
  "paper-off": { path: "/api/paper/off", label: "Paper off" },
  approve: { path: "/api/approve", label: "Approve" },
  revoke: { path: "/api/revoke", label: "Revoke" },
  "exit-on": { path: "/api/exit/on", label: "Exit logic on" },
  "exit-off": { path: "/api/exit/off", label: "Exit logic off" },
};

function syncControls(): void {
  const has = token.get() !== null;
  for (const b of document.querySelectorAll<HTMLButtonElement>("button.ctl")) b.disabled = !has;
  $("#ctl-why").textContent = has
    ? "Token set for this tab (kept in sessionStorage, sent as a Bearer header). Every action is checked by the daemon."
    : "Controls are disabled: enter the API token first (AWET_API_TOKEN, or the file <home>/.tmp/api-token printed by awet start).";
  $("#token-forget").toggleAttribute("disabled", !has);
}

async function runAction(name: string): Promise<void> {
  const a = ACTIONS[name]!;
  const out = $("#ctl-result");
  out.className = "";
  out.textContent = `${a.label}…`;
  try {
    const r = await postJson<Json>(a.path, a.body);
    out.className = "ok-text";
    out.textContent = `${a.label}: done${r.to ? ` (${r.from} → ${r.to})` : ""}${r.execution_dry_run !== undefined ? ` (dry run ${r.execution_dry_run}, approved ${r.approved})` : ""}`;
    refreshSoon();
  } catch (e) {
    out.className = "bad-text";
    out.textContent = e instanceof HttpError && e.status === 401
      ? `${a.label}: 401 Unauthorized — the daemon refused the token; nothing changed.`
      : `${a.label}: failed — ${e instanceof Error ? e.message : String(e)}`;
  }
}

// ---------------------------------------------------------------- live

const refreshOverview = throttle(() => loadOverview().catch(readError), 2000);
const refreshTrades = throttle(() => loadTrades().catch(readError), 1500);
const refreshPnl = throttle(() => loadPnl().catch(readError), 3000);
const refreshLlm = throttle(() => loadLlm().catch(readError), 3000);
const refreshMarket = throttle(() => loadMarket(false).catch(readError), 500);
const refreshMarketFull = throttle(() => loadMarket(true).catch(readError), 1000);
function refreshSoon(): void {
  refreshOverview();
  refreshTrades();
  refreshPnl();
  refreshMarketFull();
}

async function loadAll(): Promise<void> {
  try {
    await loadOverview();
    banner(null);
    view.readsNeedToken = false;
  } catch (e) {
    readError(e);
    return;
  }
  await Promise.all([loadMarket(true), loadPnl(), loadTrades(), loadLlm()].map((p) => p.catch(readError)));
}

function onTick(t: LiveTick): void {
  renderState(t.state, lastOverview);
  renderProgress(t.progress, lastOverview?.feed?.freshness_s ?? null);
  const ev = t.events;
  if (!ev) return;
  if (ev.bars[view.symbol]) refreshMarket();
  if (ev.notable.length || ev.dropped) {
    view.events = [...ev.notable.slice().reverse(), ...view.events].slice(0, 30);
    view.dropped += ev.dropped;
    renderEvents();
    refreshTrades();
    refreshPnl();
    refreshLlm();
    if (ev.notable.some((n) => n.symbol === view.symbol && n.text.includes("filled"))) refreshMarketFull();
  }
  refreshOverview();
}

let stopStream: (() => void) | null = null;
function connect(): void {
  stopStream?.();
  const pill = $("#stream");
  stopStream = openStream("/api/dashboard/events", {
    onOpen: () => {
      pill.textContent = "stream: live";
      pill.className = "pill ok";
      void loadAll(); // catch up on whatever happened while disconnected
    },
    onEvent: (type, data) => {
      if (type === "tick") onTick(JSON.parse(data) as LiveTick);
    },
    onDown: (why) => {
      pill.textContent = `stream: reconnecting (${why})`;
      pill.className = "pill warn";
      if (why.startsWith("401")) readError(new HttpError(401, null));
    },
  });
}

// ---------------------------------------------------------------- wiring

function wire(): void {
  $("#token-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const input = $<HTMLInputElement>("#token-input");
    const v = input.value.trim();
    if (!v) return;
    token.set(v);
    input.value = "";
    syncControls();
    $("#ctl-result").textContent = "Token set for this tab.";
    if (view.readsNeedToken) connect();
  });
  $("#token-forget").addEventListener("click", () => {
    token.clear();
    syncControls();
    $("#ctl-result").textContent = "Token forgotten.";
  });
  for (const b of document.querySelectorAll<HTMLButtonElement>("button.ctl")) b.addEventListener("click", () => void runAction(b.dataset.action!));
  $("#symbol").addEventListener("change", (e) => {
    view.symbol = (e.target as HTMLSelectElement).value;
    void loadMarket(true).catch(readError);
  });
  for (const [id, key] of [["#f-status", "status"], ["#f-symbol", "symbol"], ["#f-reason", "reason"]] as const)
    $(id).addEventListener("change", (e) => {
      view.filter[key] = (e.target as HTMLSelectElement).value;
      void loadTrades().catch(readError);
    });
  $("#filters").addEventListener("submit", (e) => e.preventDefault());
  document.addEventListener("click", (e) => {
    const b = (e.target as Element).closest<HTMLButtonElement>("button[data-corr]");
    if (b) void openChain(b.dataset.corr!);
  });
}

layout();
wire();
syncControls();
renderEvents();
connect();
