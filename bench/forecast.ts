/**
 * Batched inference cost per bar time of the two trained kinds, for `npm run bench`: all four
 * bundled symbols' forecasts of one bar time as one batch, with the linear model and with a TFT of
 * the default size (lookback 120, hidden 16, 4 heads, horizons 30/45/60). The TFT's weights are
 * its seeded initial ones: inference cost does not depend on training.
 */
import { join } from "node:path";
import { readdirSync, readFileSync } from "node:fs";
import { defaultApp, packageRoot } from "../src/config";
import { parseCsv } from "../src/market/csv";
import { FEATURE_NAMES } from "../src/model/dataset";
import { loadRunner, type Runner } from "../src/model/runner";
import { buildPoints, buildSeries, splitPoints } from "../src/model/series";
import { ensureBackend } from "../src/model/tf";
import { encodeWeights, initParams, paramShapes, type TftModel } from "../src/model/tft";
import { trainLinearSet } from "../src/model/walkforward";

export async function forecastBench(bars = 200): Promise<string[]> {
  const app = defaultApp();
  const dir = join(packageRoot(), "data", "minute");
  const all = readdirSync(dir).filter((f) => f.endsWith(".csv")).flatMap((f) => parseCsv(readFileSync(join(dir, f), "utf8"), f).flatMap((it) => (it.kind === "bar" ? [it.bar] : [])));
  const series = buildSeries(all);
  const horizons = app.forecast_horizons_bars, L = app.tft_lookback_bars;
  const { train } = splitPoints(buildPoints(series, horizons, L));
  const linear = await loadRunner({ version: "bench-linear", params: trainLinearSet(series, train, horizons, FEATURE_NAMES, { epochs: 2 }) });
  const config = { features: [...FEATURE_NAMES], lookback: L, horizons, hidden: app.tft_hidden, heads: app.tft_heads };
  const shapes = paramShapes(config);
  const init = initParams(config, 42);
  const tftModel: TftModel = {
    kind: "tft-v1", config, norm: { mean: FEATURE_NAMES.map(() => 0), std: FEATURE_NAMES.map(() => 0.01), y_scale: horizons.map(() => 0.001) },
    weights: encodeWeights(Object.fromEntries(Object.entries(init).map(([k, v]) => [k, { shape: shapes[k]!, data: v }]))),
    importances: {}, seed: 42, epochs_run: 0, best_epoch: 0, val_loss: 0, backend: "", trained_on: 0,
  };
  const be = await ensureBackend();
  const tft = await loadRunner({ version: "bench-tft", params: tftModel });
  // bar times where every symbol has a full window: one batch of 4 each
  const idx = series.map((s) => s.x.map((x, i) => (i >= L - 1 && s.x.slice(i - L + 1, i + 1).every(Boolean) ? i : -1)).filter((i) => i >= 0));
  const n = Math.min(bars, ...idx.map((a) => a.length));
  const batches = Array.from({ length: n }, (_, k) => series.map((s, j) => s.x.slice(idx[j]![k]! - L + 1, idx[j]![k]! + 1) as number[][]));
  const time = (r: Runner, perSymbol: boolean) => {
    r.predict(batches[0]!); // warm-up
    const t0 = performance.now();
    for (const b of batches) if (perSymbol) for (const w of b) r.predict([w]);
    else r.predict(b);
    return (performance.now() - t0) / batches.length;
  };
  const lin = time(linear, false), t = time(tft, false), t1 = time(tft, true);
  tft.dispose();
  return [
    `  forecast, batched  per bar time (${series.length} symbols in one batch, ${n} bar times, horizons ${horizons.join("/")}):`,
    `    linear quantile  ${(lin * 1000).toFixed(1)} µs per bar`,
    `    TFT              ${t.toFixed(2)} ms per bar (lookback ${L}, hidden ${config.hidden}, ${config.heads} heads, ${be.note}); one symbol at a time ${t1.toFixed(2)} ms`,
  ];
}

if (import.meta.main) for (const l of await forecastBench()) console.log(l);
