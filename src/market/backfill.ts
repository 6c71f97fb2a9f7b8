import { Alpaca } from "@alpacahq/alpaca-trade-api";
import type { Settings } from "../config/load";
import { SafetyError } from "../core/errors";
import type { Bar } from "../core/events";
import type { Store } from "../store/port";
import { validateBar } from "./validate";

export const ALPACA_DATA_URL = "https://data.alpaca.markets";

export interface BackfillResult {
  fetched: number;
  stored: number;
  rejected: number;
  from: string;
  to: string;
}

/** Is an Alpaca historical backfill configured (keys present and Alpaca in use)? */
export function alpacaBackfillConfigured(s: Settings): boolean {
  return Boolean(s.alpaca.keyId && s.alpaca.secret && (s.app.broker === "alpaca" || s.app.market_source === "alpaca"));
}

/**
 * Backfill one-minute bars of the configured symbols from Alpaca's market-data API (split- and
 * dividend-adjusted: `adjustment: all`), validated like live bars, stored idempotently.
 */
export async function backfillFromAlpaca(store: Store, s: Settings, o: { days: number; now?: number }): Promise<BackfillResult> {
  const a = s.alpaca;
  let target = ALPACA_DATA_URL;
  if (a.dataUrl) {
    const u = new URL(a.dataUrl);
    const loop = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/.test(u.hostname);
    if (loop && !a.allowLoopback) throw new SafetyError(`ALPACA_DATA_URL ${a.dataUrl} is a loopback test double; set AWET_ALLOW_LOOPBACK_BROKER=1`);
    if (!loop && u.hostname !== "data.alpaca.markets") throw new SafetyError(`ALPACA_DATA_URL ${a.dataUrl} is not Alpaca's market-data host`);
    target = `${u.protocol}//${u.host}`;
  }
  const client = new Alpaca({
    keyId: a.keyId ?? undefined, secret: a.secret ?? undefined, paper: true, timeoutMs: 30_000,
    fetchApi: target === ALPACA_DATA_URL ? undefined : (input: any, init?: any) => fetch(String(input instanceof Request ? input.url : input).replace(ALPACA_DATA_URL, target), init),
  });
  const end = new Date(o.now ?? Date.now());
  const start = new Date(end.getTime() - o.days * 86_400_000);
  const res = (await client.marketData.getStockBars({ symbols: s.app.symbols, timeframe: "1Min", start, end, adjustment: "all", feed: "iex" } as any)) as Record<string, any[]>;
  const symbols = new Set(s.app.symbols);
  let fetched = 0, rejected = 0;
  const good: Bar[] = [];
  for (const [symbol, bars] of Object.entries(res)) {
    let last: number | undefined;
    for (const b of bars) {
      fetched++;
      const ts = b.timestamp instanceof Date ? b.timestamp.getTime() : Date.parse(String(b.timestamp ?? b.t));
      const bar: Bar = { symbol, ts, open: Number(b.open ?? b.o), high: Number(b.high ?? b.h), low: Number(b.low ?? b.l), close: Number(b.close ?? b.c), volume: Number(b.volume ?? b.v) };
      if (validateBar(bar, last, symbols, s.app.max_bar_range_pct)) {
        rejected++;
        continue;
      }
      last = ts;
      good.push(bar);
    }
  }
  await store.appendBars(good, "alpaca-backfill");
  await store.flush();
  return { fetched, stored: good.length, rejected, from: start.toISOString(), to: end.toISOString() };
}
