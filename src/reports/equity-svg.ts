import type { BacktestResults, CurvePoint } from "./backtest";

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** Round steps (1, 2, 2.5, 5 × 10^k) covering [lo, hi] with about `n` ticks. */
export function niceTicks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => (hi - lo) / s <= n + 1)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.round(v / step) * step);
  return out;
}

/** Calendar-aligned time ticks (UTC): hours, days, months or years, at most about `n`. */
export function timeTicks(t0: number, t1: number, n = 7): { ts: number; label: string }[] {
  const H = 3_600_000, D = 24 * H;
  const span = t1 - t0;
  const iso = (t: number) => new Date(t).toISOString();
  if (span <= 2 * D) {
    const step = [1, 2, 3, 6, 12].map((h) => h * H).find((s) => span / s <= n) ?? 12 * H;
    const out = [];
    for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) out.push({ ts: t, label: iso(t).slice(5, 16).replace("T", " ") });
    return out;
  }
  if (span <= 120 * D) {
    const step = [1, 2, 7, 14, 28].map((d) => d * D).find((s) => span / s <= n) ?? 28 * D;
    const out = [];
    for (let t = Math.ceil(t0 / D) * D; t <= t1; t += step) out.push({ ts: t, label: iso(t).slice(5, 10) });
    return out;
  }
  const months = [1, 2, 3, 6, 12, 24, 60].find((m) => span / (m * 30.44 * D) <= n) ?? 120;
  const out = [];
  const d = new Date(t0);
  let y = d.getUTCFullYear(), m = d.getUTCMonth() + 1;
  m = Math.ceil(m / months) * months;
  for (;;) {
    while (m >= 12) (m -= 12), y++;
    const t = Date.UTC(y, m, 1);
    if (t > t1) break;
    if (t >= t0) out.push({ ts: t, label: months >= 12 ? String(y) : iso(t).slice(0, 7) });
    m += months;
  }
  return out;
}

const money = (v: number) => {
  const a = Math.abs(v);
  const s = a >= 1e6 ? `${(a / 1e6).toFixed(2)}M` : a >= 1e4 ? `${(a / 1e3).toFixed(a >= 1e5 ? 1 : 2)}k` : a.toFixed(0);
  return `${v < 0 ? "−" : ""}$${s}`;
};

/**
 * The equity curve of a run as a standalone SVG (no browser, no script): the strategy's equity,
 * the buy-and-hold benchmark dashed, the starting equity as a baseline, the max drawdown shaded,
 * and a header with the figures that matter. Pure.
 */
export function equitySvg(r: BacktestResults, title: string, o: { width?: number; height?: number } = {}): string {
  const W = o.width ?? 960, H = o.height ?? 540;
  const pad = { l: 78, r: 24, t: 92, b: 48 };
  const pw = W - pad.l - pad.r, ph = H - pad.t - pad.b;
  const pts: CurvePoint[] = r.equity_curve.length ? r.equity_curve : [{ ts: Date.parse(r.period.from), equity_usd: r.starting_equity_usd, benchmark_usd: r.starting_equity_usd }];
  const t0 = pts[0]!.ts, t1 = Math.max(pts[pts.length - 1]!.ts, t0 + 1);
  const ys = pts.flatMap((p) => [p.equity_usd, p.benchmark_usd]).concat(r.starting_equity_usd);
  let lo = Math.min(...ys), hi = Math.max(...ys);
  const span = Math.max(hi - lo, r.starting_equity_usd * 0.001);
  lo -= span * 0.08;
  hi += span * 0.08;
  const x = (t: number) => pad.l + ((t - t0) / (t1 - t0)) * pw;
  const y = (v: number) => pad.t + (1 - (v - lo) / (hi - lo)) * ph;
  const path = (k: "equity_usd" | "benchmark_usd") => pts.map((p, i) => `${i ? "L" : "M"}${x(p.ts).toFixed(1)},${y(p[k]).toFixed(1)}`).join("");
  const base = y(r.starting_equity_usd);
  const area = `${path("equity_usd")}L${x(pts[pts.length - 1]!.ts).toFixed(1)},${base.toFixed(1)}L${x(t0).toFixed(1)},${base.toFixed(1)}Z`;
  const yt = niceTicks(lo, hi, 6);
  const xt = timeTicks(t0, t1, 8);
  const dd = r.max_drawdown;
  const ddRect = dd.peak_at && dd.trough_at ? `<rect x="${x(Date.parse(dd.peak_at)).toFixed(1)}" y="${pad.t}" width="${Math.max(1, x(Date.parse(dd.trough_at)) - x(Date.parse(dd.peak_at))).toFixed(1)}" height="${ph}" fill="#e5484d" fill-opacity="0.08"/>` +
    `<text x="${(x(Date.parse(dd.peak_at)) + 4).toFixed(1)}" y="${pad.t + 14}" class="s" fill="#c62a2f">max drawdown −${dd.pct.toFixed(2)}%</text>` : "";
  const sign = (v: number | null) => (v === null ? "–" : `${v > 0 ? "+" : ""}${v.toFixed(2)}%`);
  const up = r.return_pct >= 0;
  const stats = [
    ["return", sign(r.return_pct)],
    ["buy & hold", sign(r.benchmark.return_pct)],
    ["max drawdown", `−${dd.pct.toFixed(2)}%`],
    ["Sharpe", r.sharpe === null ? "–" : r.sharpe.toFixed(2)],
    ["trades", `${r.trades}${r.win_rate === null ? "" : ` · ${(r.win_rate * 100).toFixed(0)}% won`}`],
  ];
  const colW = (W - pad.l - pad.r) / stats.length;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">
<style>.s{font-size:11px}.a{font-size:11px;fill:#6b7280}.k{font-size:11px;fill:#6b7280}.v{font-size:17px;font-weight:bold;fill:#111827}</style>
<rect width="${W}" height="${H}" fill="#ffffff"/>
<text x="${pad.l}" y="26" font-size="16" font-weight="bold" fill="#111827">${esc(title)}</text>
<text x="${W - pad.r}" y="26" text-anchor="end" class="a">${esc(`${r.period.from.slice(0, 10)} … ${r.period.to.slice(0, 10)} · start ${money(r.starting_equity_usd)}`)}</text>
${stats.map(([k, v], i) => `<text x="${(pad.l + i * colW).toFixed(1)}" y="50" class="k">${esc(k!)}</text><text x="${(pad.l + i * colW).toFixed(1)}" y="70" class="v"${i === 0 ? ` style="fill:${up ? "#15803d" : "#c62a2f"}"` : ""}>${esc(v!)}</text>`).join("\n")}
<rect x="${pad.l}" y="${pad.t}" width="${pw}" height="${ph}" fill="#fafafa" stroke="#e5e7eb"/>
${yt.map((v) => `<line x1="${pad.l}" x2="${pad.l + pw}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e5e7eb"/><text x="${pad.l - 8}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" class="a">${money(v)}</text>`).join("\n")}
${xt.map(({ ts, label }) => `<line x1="${x(ts).toFixed(1)}" x2="${x(ts).toFixed(1)}" y1="${pad.t}" y2="${pad.t + ph + 5}" stroke="#eef0f3"/><text x="${x(ts).toFixed(1)}" y="${pad.t + ph + 19}" text-anchor="middle" class="a">${label}</text>`).join("\n")}
${ddRect}
<path d="${area}" fill="${up ? "#16a34a" : "#dc2626"}" fill-opacity="0.10"/>
<line x1="${pad.l}" x2="${pad.l + pw}" y1="${base.toFixed(1)}" y2="${base.toFixed(1)}" stroke="#9ca3af" stroke-dasharray="2 3"/>
<path d="${path("benchmark_usd")}" fill="none" stroke="#6b7280" stroke-width="1.5" stroke-dasharray="6 4"/>
<path d="${path("equity_usd")}" fill="none" stroke="#2563eb" stroke-width="2" stroke-linejoin="round"/>
<g transform="translate(${pad.l + 10},${pad.t + ph - 34})"><rect width="214" height="26" rx="4" fill="#ffffff" fill-opacity="0.9" stroke="#e5e7eb"/>
<line x1="10" x2="34" y1="13" y2="13" stroke="#2563eb" stroke-width="2"/><text x="40" y="17" class="s">strategy</text>
<line x1="104" x2="128" y1="13" y2="13" stroke="#6b7280" stroke-width="1.5" stroke-dasharray="6 4"/><text x="134" y="17" class="s">buy &amp; hold</text></g>
</svg>
`;
}
