import { createHash } from "node:crypto";
import type { Settings } from "../config/load";
import { InputError } from "../core/errors";
import type { ModelRow, Store } from "../store/port";
import { FEATURE_NAMES } from "./dataset";
import { buildPoints, buildSeries, splitPoints, windowOf, type Point, type Series } from "./series";
import type { TftModel } from "./tft";
import type { TftTrainOptions } from "./tft-train";
import { preferredBackend, type BackendName } from "./tf-backend";
import { asLinearSet, predictLinear, randomWalk, rollingVol, scoreMulti, type HorizonMetrics, type LinearSet, type Q3 } from "./walkforward";

const ALL_TIME_END = Date.parse("9999-12-31T00:00:00Z");

export type Kind = "linear" | "tft";
export const KIND_NAME: Record<Kind, string> = { linear: "linear-quantile", tft: "tft" };

export interface ProgressInfo {
  epoch: number;
  epochs: number;
  loss: number;
  val_loss?: number;
  eta_s?: number;
  best_epoch?: number;
}
export type Progress = (p: ProgressInfo) => void;

type WorkerJob = { kind: "linear"; series: Series[]; points: Point[]; opts: { horizons: number[]; features: string[]; seed: number; epochs: number } } | { kind: "tft"; series: Series[]; points: Point[]; opts: TftTrainOptions; prefer: BackendName };

/**
 * In the single binary the worker is a further embedded entry point, addressed by its path
 * relative to the entry points' common root: `./model/…` when every entry point lives in src/,
 * `./src/model/…` when the build also bundles a file from outside src/ (the dashboard bundle).
 */
const COMPILED_WORKER_PATHS = ["./src/model/train-worker.ts", "./model/train-worker.ts"];

/** Train in a Bun Worker; falls back to this thread (and says so) when no worker can start. */
export async function trainInWorker<T>(job: WorkerJob, inline: () => Promise<T>, onProgress?: Progress, onNote?: (note: string) => void): Promise<{ model: T; where: "worker" | "main thread" }> {
  const here = async () => ({ model: await inline(), where: "main thread" as const });
  const compiled = import.meta.url.includes("$bunfs");
  const paths = compiled ? COMPILED_WORKER_PATHS : [new URL("./train-worker.ts", import.meta.url).href];
  return new Promise((resolve, reject) => {
    const attempt = (k: number) => {
      if (k >= paths.length) return void here().then(resolve, reject);
      let worker: Worker;
      try {
        worker = new Worker(paths[k]!);
      } catch {
        return attempt(k + 1);
      }
      let started = false;
      worker.onmessage = (ev: MessageEvent) => {
        started = true;
        const m = ev.data as { type: string; model: T; error: string; note: string } & ProgressInfo;
        if (m.type === "progress") onProgress?.(m);
        else if (m.type === "backend") onNote?.(m.note);
        else if (m.type === "done") (worker.terminate(), resolve({ model: m.model, where: "worker" }));
        else if (m.type === "error") (worker.terminate(), reject(new Error(m.error)));
      };
      // A worker that cannot even load: the next path, else training here; one that fails mid-way is an error.
      worker.onerror = (e) => {
        worker.terminate();
        if (!started) attempt(k + 1);
        else reject(new Error(`training worker failed: ${e.message}`));
      };
      worker.postMessage(job);
    };
    attempt(0);
  });
}

/** The walk-forward data every kind is trained and scored on (`horizons` beyond the configured ones when asked). */
export interface Data {
  series: Series[];
  horizons: number[];
  lookback: number;
  train: Point[];
  valid: Point[];
}

export async function loadData(store: Store, s: Settings, extraHorizons: number[] = []): Promise<Data> {
  const bars = await store.barsBetween(0, ALL_TIME_END);
  return dataFromBars(bars, s, extraHorizons);
}

export function dataFromBars(bars: Parameters<typeof buildSeries>[0], s: Settings, extraHorizons: number[] = []): Data {
  const series = buildSeries(bars);
  const horizons = [...new Set([...s.app.forecast_horizons_bars, ...extraHorizons])].sort((a, b) => a - b);
  const lookback = s.app.tft_lookback_bars;
  const { train, valid } = splitPoints(buildPoints(series, horizons, lookback));
  return { series, horizons, lookback, train, valid };
}

export function modelVersion(kind: Kind, params: unknown, at: number): string {
  const h = createHash("sha1").update(JSON.stringify(params)).digest("hex").slice(0, 8);
  return `${kind === "tft" ? "t" : "q"}${new Date(at).toISOString().slice(0, 10).replace(/-/g, "")}-${h}`;
}

export function kindOf(row: Pick<ModelRow, "params">): Kind {
  return (row.params as { kind?: string })?.kind === "tft-v1" ? "tft" : "linear";
}

/** The horizons a stored model forecasts. */
export function horizonsOf(row: Pick<ModelRow, "params">): number[] {
  return kindOf(row) === "tft" ? (row.params as TftModel).config.horizons : asLinearSet(row.params).horizons;
}

export interface Evaluation {
  horizons: number[];
  model: HorizonMetrics;
  baselines: { random_walk: HorizonMetrics; rolling_vol: HorizonMetrics };
  by_horizon: Record<string, { model: HorizonMetrics; random_walk: HorizonMetrics; rolling_vol: HorizonMetrics }>;
  train_window: { from: string; to: string; n: number };
  validation_window: { from: string; to: string; n: number };
}

/** Batched predictions of a stored model (either kind) on points, at the given horizons. */
export async function predictPoints(params: unknown, d: Pick<Data, "series">, points: Point[], horizons: number[]): Promise<Q3[][]> {
  if ((params as { kind?: string })?.kind !== "tft-v1") return predictLinear(asLinearSet(params), d.series, points, horizons);
  const { ensureBackend } = await import("./tf");
  const { LoadedTft } = await import("./tft");
  await ensureBackend();
  const m = new LoadedTft(params as TftModel);
  try {
    const idx = horizons.map((h) => {
      const k = m.model.config.horizons.indexOf(h);
      if (k < 0) throw new Error(`the TFT has no head for horizon ${h}`);
      return k;
    });
    const out: Q3[][] = [];
    for (let s0 = 0; s0 < points.length; s0 += 256) {
      const batch = points.slice(s0, s0 + 256);
      const r = m.predict(batch.map((p) => windowOf(d.series, p, m.lookback)));
      for (const q of r.quantiles) out.push(idx.map((k) => q[k]!));
    }
    return out;
  } finally {
    m.dispose();
  }
}

/** Score one model against both baselines on the data's validation points, at the model's horizons. */
export async function evaluateParams(params: unknown, d: Data): Promise<Evaluation> {
  const hs = horizonsOf({ params });
  const L = (params as TftModel).kind === "tft-v1" ? (params as TftModel).config.lookback : 1;
  if (L > d.lookback) throw new Error(`the model looks back ${L} bars, more than the evaluation's ${d.lookback} (tft_lookback_bars)`);
  const at = hs.map((h) => d.horizons.indexOf(h));
  if (at.some((k) => k < 0)) throw new Error(`evaluation data lacks horizons ${hs.join(", ")}`);
  const sub = (ps: Point[]) => ps.map((p) => ({ ...p, y: at.map((k) => p.y[k]!) }));
  const train = sub(d.train), valid = sub(d.valid);
  if (valid.length === 0) throw new InputError("no validation points: more bars are needed (awet replay data/minute)");
  const m = scoreMulti(valid, hs, await predictPoints(params, d, d.valid, hs));
  const rw = scoreMulti(valid, hs, randomWalk(train, valid, hs));
  const rv = scoreMulti(valid, hs, rollingVol(d.series, valid, hs));
  const t = (x: Point[]) => ({ from: x.length ? new Date(x[0]!.ts).toISOString() : "", to: x.length ? new Date(x[x.length - 1]!.ts).toISOString() : "", n: x.length });
  return {
    horizons: hs, model: m.overall, baselines: { random_walk: rw.overall, rolling_vol: rv.overall },
    by_horizon: Object.fromEntries(hs.map((h) => [String(h), { model: m.by_horizon[h]!, random_walk: rw.by_horizon[h]!, rolling_vol: rv.by_horizon[h]! }])),
    train_window: t(d.train), validation_window: t(d.valid),
  };
}

export interface TrainResult {
  version: string;
  kind: Kind;
  evaluation: Evaluation;
  where: string;
  backend?: string;
  samples: number;
  model: LinearSet | TftModel;
}

export interface TrainCandidateOptions {
  kind?: Kind;
  seed?: number;
  epochs?: number;
  onProgress?: Progress;
  onNote?: (note: string) => void;
  now?: number;
}

/** Train a candidate of `kind` on the walk-forward training part, score it on the validation part, register it. */
export async function trainCandidate(store: Store, s: Settings, opts: TrainCandidateOptions = {}): Promise<TrainResult> {
  const d = await loadData(store, s);
  return trainOnData(store, s, d, opts);
}

export async function trainOnData(store: Store | null, s: Settings, d: Data, opts: TrainCandidateOptions = {}): Promise<TrainResult> {
  const kind = opts.kind ?? (s.app.model_kind as Kind);
  const a = s.app;
  if (d.train.length < 200) throw new InputError(`only ${d.train.length} training points (lookback ${d.lookback}, horizons ${d.horizons.join(",")}): replay or backfill bars first (awet replay data/minute)`);
  const seed = opts.seed ?? 42;
  let backend: string | undefined;
  const note = (n: string) => ((backend = n), opts.onNote?.(n));
  let trained: { model: LinearSet | TftModel; where: string };
  if (kind === "tft") {
    const points = a.tft_train_stride > 1 ? d.train.filter((_, k) => k % a.tft_train_stride === 0) : d.train;
    const o: TftTrainOptions = { lookback: d.lookback, horizons: a.forecast_horizons_bars, hidden: a.tft_hidden, heads: a.tft_heads, features: [...FEATURE_NAMES], seed, epochs: opts.epochs ?? a.tft_epochs, patience: a.tft_patience };
    const sub = subsetHorizons(d, a.forecast_horizons_bars, points);
    trained = await trainInWorker<TftModel>({ kind: "tft", series: d.series, points: sub, opts: o, prefer: preferredBackend() }, async () => {
      const { ensureBackend } = await import("./tf");
      const { trainTft } = await import("./tft-train");
      const be = await ensureBackend();
      note(be.note);
      return trainTft(d.series, sub, { ...o, backend: be.backend }, (p) => opts.onProgress?.(p), Date.now);
    }, opts.onProgress, note);
  } else {
    const sub = subsetHorizons(d, a.forecast_horizons_bars, d.train);
    const o = { horizons: a.forecast_horizons_bars, features: [...FEATURE_NAMES], seed, epochs: opts.epochs ?? 30 };
    trained = await trainInWorker<LinearSet>({ kind: "linear", series: d.series, points: sub, opts: o }, async () => {
      const { trainLinearSet } = await import("./walkforward");
      return trainLinearSet(d.series, sub, o.horizons, o.features, { seed, epochs: o.epochs, onProgress: (epoch, epochs, loss) => opts.onProgress?.({ epoch, epochs, loss }) });
    }, opts.onProgress);
  }
  const ev = await evaluateParams(trained.model, d);
  const now = opts.now ?? Date.now();
  const version = modelVersion(kind, trained.model, now);
  await store?.saveModel({
    version, name: KIND_NAME[kind], status: "candidate", created_at: now, promoted_at: null,
    metrics: { model: ev.model, baselines: ev.baselines, by_horizon: ev.by_horizon, validation_window: ev.validation_window }, train_window: ev.train_window, features: FEATURE_NAMES, params: trained.model,
  });
  return { version, kind, evaluation: ev, where: trained.where, backend, samples: d.train.length + d.valid.length, model: trained.model };
}

/** Points with outcomes only at `horizons` (in that order). */
function subsetHorizons(d: Data, horizons: number[], points: Point[]): Point[] {
  const at = horizons.map((h) => d.horizons.indexOf(h));
  return points.map((p) => ({ ...p, y: at.map((k) => p.y[k]!) }));
}

/** Score a registered version on the current data's validation points, with the baselines. */
export async function evaluateVersion(store: Store, s: Settings, row: ModelRow): Promise<Evaluation> {
  return evaluateParams(row.params, await loadData(store, s, horizonsOf(row)));
}

export interface PromotionFigures {
  horizons: number[];
  candidate: { version: string; kind: Kind; pinball_loss: number; coverage_p10_p90: number; coverage_p10: number; coverage_p90: number };
  production: { version: string; kind: Kind; pinball_loss: number | null; note?: string } | null;
  random_walk: number;
  rolling_vol: number;
  bar: number; // the pinball loss the candidate had to be at or under
  margin_pct: number;
  coverage_band: [number, number];
  validation_n: number;
}

export interface PromotionDecision {
  promoted: boolean;
  candidate: string | null;
  production: string | null;
  reason: string;
  figures?: PromotionFigures;
}

/**
 * The promote-or-refuse rule, pure: the candidate's validation pinball loss must be at least
 * `margin_pct` percent below the production model's (when it is comparable) and both baselines',
 * and its p10–p90 coverage inside the band.
 */
export function decide(f: Omit<PromotionFigures, "bar">): { promote: boolean; reason: string; bar: number } {
  const e = (x: number) => x.toExponential(4);
  const rivals: [string, number][] = [["random walk", f.random_walk], ["rolling vol", f.rolling_vol]];
  if (f.production && f.production.pinball_loss !== null) rivals.unshift([`production ${f.production.version}`, f.production.pinball_loss]);
  const [bestName, best] = rivals.reduce((a, b) => (b[1] < a[1] ? b : a));
  const bar = best * (1 - f.margin_pct / 100);
  const c = f.candidate;
  const cov = `coverage p10-p90 ${(c.coverage_p10_p90 * 100).toFixed(1)}% (p10 ${(c.coverage_p10 * 100).toFixed(1)}%, p90 ${(c.coverage_p90 * 100).toFixed(1)}%)`;
  const band = `[${(f.coverage_band[0] * 100).toFixed(0)}%, ${(f.coverage_band[1] * 100).toFixed(0)}%]`;
  const vs = rivals.map(([n, v]) => `${n} ${e(v)}`).join(", ");
  if (!(c.pinball_loss <= bar)) return { promote: false, bar, reason: `refused: candidate pinball ${e(c.pinball_loss)} is not ${f.margin_pct}% below the best of ${vs} (needs <= ${e(bar)}, ${bestName} is best)` };
  if (c.coverage_p10_p90 < f.coverage_band[0] || c.coverage_p10_p90 > f.coverage_band[1]) return { promote: false, bar, reason: `refused: candidate ${cov} outside the band ${band} although its pinball ${e(c.pinball_loss)} beats ${vs}` };
  return { promote: true, bar, reason: `${f.production ? "promoted" : "first production model"}: candidate pinball ${e(c.pinball_loss)} <= ${e(bar)} (${f.margin_pct}% below the best of ${vs}), ${cov} inside ${band}` };
}

export const decisionKey = (version: string) => `promotion_decision:${version}`;

/**
 * Promote the newest candidate only if it beats production and both baselines on validation
 * pinball loss by the configured margin with coverage inside the configured band; otherwise
 * retire it. The decision and its figures are stored (system state `promotion_decision:<version>`,
 * shown by `awet model list`) and returned for the agent run.
 */
export async function promoteIfBetter(store: Store, s: Settings, now = Date.now()): Promise<PromotionDecision> {
  const models = await store.listModels();
  const cand = models.find((m) => m.status === "candidate");
  const prod = models.find((m) => m.status === "production");
  if (!cand) return { promoted: false, candidate: null, production: prod?.version ?? null, reason: "no candidate model to promote (run night_trainer)" };
  const hs = horizonsOf(cand);
  const ph = prod ? horizonsOf(prod) : [];
  const d = await loadData(store, s, [...hs, ...ph]); // one data set: every figure on the same points
  const ce = await evaluateParams(cand.params, d);
  let production: PromotionFigures["production"] = null;
  if (prod) {
    if (hs.every((h) => ph.includes(h))) {
      const pe = await evaluateParams(prod.params, d);
      const same = hs.map((h) => pe.by_horizon[String(h)]!.model.pinball_loss); // at the candidate's horizons only
      production = { version: prod.version, kind: kindOf(prod), pinball_loss: same.reduce((a, b) => a + b, 0) / same.length };
    } else production = { version: prod.version, kind: kindOf(prod), pinball_loss: null, note: `not comparable: it forecasts horizons ${ph.join(", ")}, the candidate ${hs.join(", ")}` };
  }
  const a = s.app;
  const base: Omit<PromotionFigures, "bar"> = {
    horizons: hs,
    candidate: { version: cand.version, kind: kindOf(cand), pinball_loss: ce.model.pinball_loss, coverage_p10_p90: ce.model.coverage_p10_p90, coverage_p10: ce.model.coverage_p10, coverage_p90: ce.model.coverage_p90 },
    production, random_walk: ce.baselines.random_walk.pinball_loss, rolling_vol: ce.baselines.rolling_vol.pinball_loss,
    margin_pct: a.promotion_margin_pct, coverage_band: [a.promotion_coverage_min, a.promotion_coverage_max], validation_n: ce.validation_window.n,
  };
  const dcs = decide(base);
  const figures: PromotionFigures = { ...base, bar: dcs.bar };
  const reason = production?.note ? `${dcs.reason}; production ${production.note}` : dcs.reason;
  await store.setState(decisionKey(cand.version), JSON.stringify({ at: new Date(now).toISOString(), promoted: dcs.promote, reason, figures }), now);
  if (dcs.promote) {
    await promote(store, cand.version, now);
    return { promoted: true, candidate: cand.version, production: cand.version, reason, figures };
  }
  await store.setModelStatus(cand.version, "retired");
  return { promoted: false, candidate: cand.version, production: prod?.version ?? null, reason, figures };
}

/** Make a version production by hand (`awet model promote`), or the previous one again (rollback). */
export async function promote(store: Store, version: string, now = Date.now()): Promise<void> {
  await store.promoteModel(version, now);
  await store.setState("production_model", version, now);
}

export async function rollback(store: Store, now = Date.now()): Promise<string> {
  const models = await store.listModels();
  const prev = models.filter((m) => m.status === "retired" && m.promoted_at !== null).sort((a, b) => b.promoted_at! - a.promoted_at!)[0];
  if (!prev) throw new Error("no previously promoted model to roll back to");
  await promote(store, prev.version, now);
  return prev.version;
}
