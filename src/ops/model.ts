/**
 * The model lifecycle's operator actions: load the walk-forward data from the store, train in a
 * Worker and register the candidate, evaluate, promote (or refuse) and roll back. The rules are
 * pure in src/model/; here are the store, the Workers and the time (passed in by the caller).
 * The models table's status is the one record of the production model.
 */
import type { Settings } from "../config/load";
import type { ModelRow, Store } from "../store/port";
import { FEATURE_NAMES } from "../model/dataset";
import { dataFromBars, evaluateParams, promotionFigures, type Data, type Evaluation } from "../model/evaluation";
import { KIND_NAME, decide, decisionKey, horizonsOf, kindOf, modelVersion, previousProduction, productionOf, type Kind, type PromotionDecision, type PromotionFigures } from "../model/registry";
import { preferredBackend } from "../model/tf-backend";
import type { TftModel } from "../model/tft";
import { runTrainingJob, trainingJob, type Progress, type ProgressInfo, type TrainingJob } from "../model/training";
import type { LinearSet } from "../model/walkforward";

const ALL_TIME_END = Date.parse("9999-12-31T00:00:00Z");

/**
 * In the single binary the worker is a further embedded entry point, addressed by its path
 * relative to the entry points' common root: `./model/…` when every entry point lives in src/,
 * `./src/model/…` when the build also bundles a file from outside src/ (the dashboard bundle).
 */
const COMPILED_WORKER_PATHS = ["./src/model/train-worker.ts", "./model/train-worker.ts"];

/** Train in a Bun Worker; falls back to this thread (and says so) when no worker can start. */
export async function trainInWorker<T>(job: TrainingJob, inline: () => Promise<T>, onProgress?: Progress, onNote?: (note: string) => void): Promise<{ model: T; where: "worker" | "main thread" }> {
  const here = async () => ({ model: await inline(), where: "main thread" as const });
  const compiled = import.meta.url.includes("$bunfs");
  const paths = compiled ? COMPILED_WORKER_PATHS : [new URL("../model/train-worker.ts", import.meta.url).href];
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

/** The walk-forward data from every bar in the store. */
export async function loadData(store: Store, s: Settings, extraHorizons: number[] = []): Promise<Data> {
  return dataFromBars(await store.barsBetween(0, ALL_TIME_END), s, extraHorizons);
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

export interface TrainOptions {
  kind?: Kind;
  seed?: number;
  epochs?: number;
  onProgress?: Progress;
  onNote?: (note: string) => void;
}

/** Train a candidate of `kind` on the walk-forward training part, score it on the validation part, register it at `now`. */
export async function trainCandidate(store: Store, s: Settings, now: number, opts: TrainOptions = {}): Promise<TrainResult> {
  return trainOnData(store, s, await loadData(store, s), now, opts);
}

/** Train on given data (in a Worker), evaluate, and register the candidate when a store is given. */
export async function trainOnData(store: Store | null, s: Settings, d: Data, now: number, opts: TrainOptions = {}): Promise<TrainResult> {
  const kind = opts.kind ?? (s.app.model_kind as Kind);
  const job = trainingJob(kind, d, s.app, { seed: opts.seed ?? 42, epochs: opts.epochs, prefer: preferredBackend() });
  let backend: string | undefined;
  const note = (n: string) => ((backend = n), opts.onNote?.(n));
  const trained = await trainInWorker<LinearSet | TftModel>(job, () => runTrainingJob(job, { onProgress: opts.onProgress, onNote: note, clock: Date.now }), opts.onProgress, note);
  const ev = await evaluateParams(trained.model, d);
  const version = modelVersion(kind, trained.model, now);
  await store?.saveModel({
    version, name: KIND_NAME[kind], status: "candidate", created_at: now, promoted_at: null,
    metrics: { model: ev.model, baselines: ev.baselines, by_horizon: ev.by_horizon, validation_window: ev.validation_window }, train_window: ev.train_window, features: FEATURE_NAMES, params: trained.model,
  });
  return { version, kind, evaluation: ev, where: trained.where, backend, samples: d.train.length + d.valid.length, model: trained.model };
}

/** Score a registered version on the current data's validation points, with the baselines. */
export async function evaluateVersion(store: Store, s: Settings, row: ModelRow): Promise<Evaluation> {
  return evaluateParams(row.params, await loadData(store, s, horizonsOf(row)));
}

/** The production-or-newest model of each kind, scored on one shared data set (same points). */
export async function evaluateKinds(store: Store, s: Settings, models: ModelRow[]): Promise<Record<string, unknown>> {
  const pick = (k: Kind) => models.find((m) => kindOf(m) === k && m.status === "production") ?? models.find((m) => kindOf(m) === k);
  const rows = (["linear", "tft"] as Kind[]).map((k) => [k, pick(k)] as const).filter((r): r is readonly [Kind, ModelRow] => Boolean(r[1]));
  const d = await loadData(store, s, rows.flatMap(([, r]) => horizonsOf(r)));
  const out: Record<string, unknown> = {};
  for (const [k, r] of rows) {
    const ev = await evaluateParams(r.params, d);
    out[k] = { version: r.version, status: r.status, horizons: ev.horizons, ...ev.model, by_horizon: Object.fromEntries(Object.entries(ev.by_horizon).map(([h, b]) => [h, b.model])) };
  }
  return out;
}

/**
 * Promote the newest candidate only if it beats production and both baselines on validation
 * pinball loss by the configured margin with coverage inside the configured band; otherwise
 * retire it. The decision and its figures are stored (system state `promotion_decision:<version>`,
 * shown by `awet model list`) and returned for the job run.
 */
export async function promoteIfBetter(store: Store, s: Settings, now: number): Promise<PromotionDecision> {
  const models = await store.listModels();
  const cand = models.find((m) => m.status === "candidate");
  const prod = productionOf(models);
  if (!cand) return { promoted: false, candidate: null, production: prod?.version ?? null, reason: "no candidate model to promote (run night_trainer)" };
  const d = await loadData(store, s, [...horizonsOf(cand), ...(prod ? horizonsOf(prod) : [])]); // one data set: every figure on the same points
  const base = await promotionFigures(cand, prod, d, s.app);
  const dcs = decide(base);
  const figures: PromotionFigures = { ...base, bar: dcs.bar };
  const reason = base.production?.note ? `${dcs.reason}; production ${base.production.note}` : dcs.reason;
  await store.setState(decisionKey(cand.version), JSON.stringify({ at: new Date(now).toISOString(), promoted: dcs.promote, reason, figures }), now);
  if (dcs.promote) {
    await promote(store, cand.version, now);
    return { promoted: true, candidate: cand.version, production: cand.version, reason, figures };
  }
  await store.setModelStatus(cand.version, "retired");
  return { promoted: false, candidate: cand.version, production: prod?.version ?? null, reason, figures };
}

/** Make a version production (`awet model promote`, a promotion, a rollback): its row's status, nothing else. */
export async function promote(store: Store, version: string, now: number): Promise<void> {
  await store.promoteModel(version, now);
}

/** Make the most recently promoted retired model production again; returns its version. */
export async function rollback(store: Store, now: number): Promise<string> {
  const prev = previousProduction(await store.listModels());
  if (!prev) throw new Error("no previously promoted model to roll back to");
  await promote(store, prev.version, now);
  return prev.version;
}

/** One line of training progress (the CLI's stderr, the night_trainer's step). */
export function progressLine(p: ProgressInfo): string {
  const s = p.eta_s === undefined ? 0 : Math.round(p.eta_s);
  const eta = p.eta_s === undefined ? "" : `  ETA ${s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s` : `${s}s`}`;
  return `epoch ${p.epoch}/${p.epochs}  loss ${p.loss.toExponential(3)}${p.val_loss !== undefined ? `  val ${p.val_loss.toExponential(3)}` : ""}${p.best_epoch !== undefined ? `  best ${p.best_epoch}` : ""}${eta}`;
}
