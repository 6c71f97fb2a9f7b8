import { Alpaca } from "@alpacahq/alpaca-trade-api";
import { SafetyError } from "../core/errors";
import type { CsvItem } from "./csv";
import type { MarketSource } from "./replay";
import { safeUrl } from "../core/url";

export interface AlpacaBarSourceOptions {
  keyId?: string;
  secret?: string;
  symbols: string[];
  feed?: "iex" | "sip" | "delayed_sip";
  /** Override of the stream endpoint (ALPACA_DATA_STREAM_URL); a loopback test double needs AWET_ALLOW_LOOPBACK_BROKER=1. */
  url?: string;
  allowLoopback?: boolean;
}

/**
 * Live one-minute bars from Alpaca's market-data stream (the SDK's stockStream) for the configured
 * symbols, as a MarketSource: the same DataIngestion validates and stores them as in a replay.
 * Bars are queued as they arrive and handed out in order; the stream reconnects by itself.
 */
export class AlpacaBarSource implements MarketSource {
  readonly name = "alpaca-stream";
  readonly total = null;
  private seq = 0;

  constructor(private o: AlpacaBarSourceOptions) {
    if (!o.keyId || !o.secret) throw new SafetyError("Alpaca keys missing for the market-data stream: set APCA_API_KEY_ID and APCA_API_SECRET_KEY");
    if (o.url) {
      const u = new URL(o.url);
      const loop = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/.test(u.hostname);
      if (loop && !o.allowLoopback) throw new SafetyError(`ALPACA_DATA_STREAM_URL ${safeUrl(o.url)} is a loopback test double; set AWET_ALLOW_LOOPBACK_BROKER=1 to use it`);
      if (!loop && !/\.alpaca\.markets$/.test(u.hostname)) throw new SafetyError(`ALPACA_DATA_STREAM_URL ${safeUrl(o.url)} is not an Alpaca host`);
    }
  }

  async *items(signal?: AbortSignal): AsyncIterable<CsvItem> {
    const client = new Alpaca({ keyId: this.o.keyId, secret: this.o.secret, paper: true });
    const stream = client.marketData.stockStream({ feed: this.o.feed ?? "iex", ...(this.o.url ? { url: this.o.url } : {}) });
    const queue: CsvItem[] = [];
    let wake: (() => void) | null = null;
    const push = (it: CsvItem) => {
      queue.push(it);
      wake?.();
    };
    stream.onBar((b: any) => {
      const ts = b.timestamp instanceof Date ? b.timestamp.getTime() : Date.parse(String(b.timestamp));
      push({ kind: "bar", bar: { symbol: String(b.symbol), ts, open: Number(b.open), high: Number(b.high), low: Number(b.low), close: Number(b.close), volume: Number(b.volume) }, file: "alpaca-stream", line: ++this.seq });
    });
    stream.onConnect(() => stream.subscribeForBars(this.o.symbols));
    stream.connect();
    const stop = () => wake?.();
    signal?.addEventListener("abort", stop);
    try {
      while (!signal?.aborted) {
        const it = queue.shift();
        if (it) {
          yield it;
          continue;
        }
        await new Promise<void>((r) => (wake = r));
        wake = null;
      }
    } finally {
      signal?.removeEventListener("abort", stop);
      stream.disconnect();
    }
  }
}
