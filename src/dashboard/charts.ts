import {
  BaselineSeries, CandlestickSeries, ColorType, LineSeries, LineStyle, createChart, createSeriesMarkers,
  type IChartApi, type IPriceLine, type ISeriesApi, type ISeriesMarkersPluginApi, type SeriesMarker, type Time, type UTCTimestamp,
} from "lightweight-charts";

/** Colours shared with style.css (dark theme, WCAG AA contrast on the panel background). */
export const C = { bg: "#111827", text: "#e5e7eb", grid: "#1f2937", up: "#22c55e", down: "#f87171", band: "#a78bfa", buy: "#38bdf8", sell: "#fbbf24", tp: "#4ade80", sl: "#f87171" };

const sec = (ms: number) => Math.floor(ms / 1000) as UTCTimestamp;
const nyClock = (t: Time) =>
  new Date((t as number) * 1000).toLocaleTimeString("en-US", { timeZone: "America/New_York", hour: "2-digit", minute: "2-digit", hour12: false });
const nyFull = (t: Time) =>
  new Date((t as number) * 1000).toLocaleString("en-US", { timeZone: "America/New_York", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", hour12: false });

function baseChart(el: HTMLElement): IChartApi {
  return createChart(el, {
    autoSize: true,
    // The library's own logo injects a <style> element, which the CSP refuses: the page credits
    // TradingView in its footer instead, as the library's licence asks.
    layout: { background: { type: ColorType.Solid, color: C.bg }, textColor: C.text, fontFamily: "system-ui, sans-serif", attributionLogo: false },
    grid: { vertLines: { color: C.grid }, horzLines: { color: C.grid } },
    timeScale: { timeVisible: true, secondsVisible: false, tickMarkFormatter: nyClock },
    localization: { timeFormatter: nyFull },
    rightPriceScale: { borderColor: C.grid },
  });
}

export interface Candle { ts: number; open: number; high: number; low: number; close: number }
export interface FillMark { ts: number; side: "buy" | "sell"; qty: number; price: number; exit_reason: string | null }
export interface BandPoint { ts: number; p10: number; p90: number }

/** Candles of one symbol with fills as markers, bracket levels and the forecast's p10–p90 band. */
export class MarketChart {
  private chart: IChartApi;
  private candles: ISeriesApi<"Candlestick">;
  private lo: ISeriesApi<"Line">;
  private hi: ISeriesApi<"Line">;
  private markers: ISeriesMarkersPluginApi<Time>;
  private lines: IPriceLine[] = [];
  private lastTs = 0;
  private bandTs = 0;
  candleCount = 0;
  markerCount = 0;

  constructor(private el: HTMLElement) {
    this.chart = baseChart(el);
    this.candles = this.chart.addSeries(CandlestickSeries, { upColor: C.up, downColor: C.down, wickUpColor: C.up, wickDownColor: C.down, borderVisible: false });
    const band = { color: C.band, lineWidth: 1 as const, lineStyle: LineStyle.Dashed, priceLineVisible: false, lastValueVisible: false, crosshairMarkerVisible: false };
    this.lo = this.chart.addSeries(LineSeries, { ...band, title: "p10" });
    this.hi = this.chart.addSeries(LineSeries, { ...band, title: "p90" });
    this.markers = createSeriesMarkers(this.candles, []);
  }

  get lastBarTs(): number {
    return this.lastTs;
  }

  /** Replace everything (a new symbol or a catch-up after a reconnect). */
  reset(bars: Candle[], band: BandPoint[]): void {
    this.candles.setData(bars.map((b) => ({ time: sec(b.ts), open: b.open, high: b.high, low: b.low, close: b.close })));
    this.lo.setData(dedupe(band).map((f) => ({ time: sec(f.ts), value: f.p10 })));
    this.hi.setData(dedupe(band).map((f) => ({ time: sec(f.ts), value: f.p90 })));
    this.lastTs = bars.length ? bars[bars.length - 1]!.ts : 0;
    this.bandTs = band.length ? band[band.length - 1]!.ts : 0;
    this.candleCount = bars.length;
    this.chart.timeScale().fitContent();
    this.publish();
  }

  /** Append newer bars and band points (older ones are ignored). */
  append(bars: Candle[], band: BandPoint[]): void {
    for (const b of bars) {
      if (b.ts < this.lastTs) continue;
      if (b.ts > this.lastTs) this.candleCount++;
      this.candles.update({ time: sec(b.ts), open: b.open, high: b.high, low: b.low, close: b.close });
      this.lastTs = b.ts;
    }
    for (const f of band) {
      if (f.ts <= this.bandTs) continue;
      this.lo.update({ time: sec(f.ts), value: f.p10 });
      this.hi.update({ time: sec(f.ts), value: f.p90 });
      this.bandTs = f.ts;
    }
    this.publish();
  }

  setFills(fills: FillMark[]): void {
    const ms: SeriesMarker<Time>[] = fills
      .filter((f) => f.ts <= this.lastTs || this.lastTs === 0)
      .map((f) => ({
        time: sec(f.ts),
        position: f.side === "buy" ? "belowBar" : "aboveBar",
        shape: f.side === "buy" ? "arrowUp" : "arrowDown",
        color: f.side === "buy" ? C.buy : C.sell,
        text: `${f.side === "buy" ? "B" : "S"} ${f.qty}${f.exit_reason ? ` ${f.exit_reason}` : ""}`,
      }));
    this.markers.setMarkers(ms);
    this.markerCount = ms.length;
    this.publish();
  }

  setBracket(b: { take_profit: number | null; stop_loss: number | null } | null): void {
    for (const l of this.lines) this.candles.removePriceLine(l);
    this.lines = [];
    if (!b) return;
    if (b.take_profit !== null) this.lines.push(this.candles.createPriceLine({ price: b.take_profit, color: C.tp, lineWidth: 1, lineStyle: LineStyle.Dotted, axisLabelVisible: true, title: "take profit" }));
    if (b.stop_loss !== null) this.lines.push(this.candles.createPriceLine({ price: b.stop_loss, color: C.sl, lineWidth: 1, lineStyle: LineStyle.Dotted, axisLabelVisible: true, title: "stop loss" }));
  }

  /** What is drawn, as data attributes for tests and assistive text. */
  private publish(): void {
    this.el.dataset.candles = String(this.candleCount);
    this.el.dataset.markers = String(this.markerCount);
  }
}

/** The PnL curve (realized + unrealized), green above zero and red below. */
export class EquityChart {
  private chart: IChartApi;
  private series: ISeriesApi<"Baseline">;
  constructor(el: HTMLElement) {
    this.chart = baseChart(el);
    this.series = this.chart.addSeries(BaselineSeries, {
      baseValue: { type: "price", price: 0 }, topLineColor: C.up, bottomLineColor: C.down,
      topFillColor1: "rgba(34,197,94,0.25)", topFillColor2: "rgba(34,197,94,0.02)", bottomFillColor1: "rgba(248,113,113,0.02)", bottomFillColor2: "rgba(248,113,113,0.25)",
    });
  }
  set(points: { ts: number; total_pnl_usd: number }[]): void {
    this.series.setData(dedupe(points).map((p) => ({ time: sec(p.ts), value: p.total_pnl_usd })));
    this.chart.timeScale().fitContent();
  }
}

/** lightweight-charts needs strictly increasing times: keep the last point of each second. */
function dedupe<T extends { ts: number }>(xs: T[]): T[] {
  const out: T[] = [];
  for (const x of xs) {
    if (out.length && sec(out[out.length - 1]!.ts) === sec(x.ts)) out[out.length - 1] = x;
    else if (!out.length || sec(x.ts) > sec(out[out.length - 1]!.ts)) out.push(x);
  }
  return out;
}
