import { createHash } from "node:crypto";
import type { Settings } from "../config/load";
import { InputError } from "../core/errors";
import type { ModelRow, Store } from "../store/port";
import { buildSamples, FEATURE_NAMES, type Sample } from "./dataset";
import { evaluate, splitWalkForward, type Evaluation } from "./evaluate";
import { trainQuantile, type QuantileModel, type TrainOptions } from "./quantile";

const ALL_TIME_END = Date.parse("9999-12-31T00:00:00Z");

export type Progress = (p: { epoch: number; epochs: number; loss: number }) => void;

/** Train in a Bun Worker; falls back to this thread (and says so) when no worker can start. */
export async function trainInWorker(samples: Sample[], opts: Omit<TrainOptions, "onProgress">, onProgress?: Progress): Promise<{ model: QuantileModel; where: "worker" | "main thread" }> {
  const inline = () => ({ model: trainQuantile(samples, { ...opts, onProgress: (epoch, epochs, loss) => onProgress?.({ epoch, epochs, loss }) }), where: "main thread" as const });
  // In the single binary the worker is a second embedded entry point, addressed by its build path.
  const compiled = import.meta.url.includes("$bunfs");
  let worker: Worker;
  try {
    worker = new Worker(compiled ? "./model/train-worker.ts" : new URL("./train-worker.ts", import.meta.url).href);
  } catch {
    return inline();
  }
  return new Promise((resolve, reject) => {
    let started = false;
    worker.onmessage = (ev: MessageEvent) => {
      started = true;
      const m = ev.data as { type: string; epoch: number; epochs: number; loss: number; model: QuantileModel; error: string };
      if (m.type === "progress") onProgress?.(m);
      else if (m.type === "done") (worker.terminate(), resolve({ model: m.model, where: "worker" }));
      else if (m.type === "error") (worker.terminate(), reject(new Error(m.error)));
    };
    // A worker that cannot even load falls back to training here; one that fails mid-way is an error.
    worker.onerror = (e) => {
      worker.terminate();
      if (!started) {
        try {
          resolve(inline());
        } catch (err) {
          reject(err);
        }
      } else reject(new Error(`training worker failed: ${e.message}`));
    };
    worker.postMessage({ samples, opts });
  });
}

/** Samples from every stored bar, for the configured horizon. */
export async function loadSamples(store: Store, s: Settings): Promise<Sample[]> {
  const bars = await store.barsBetween(0, ALL_TIME_END);
  return buildSamples(bars, s.app.forecast_horizon_bars);
}

export function modelVersion(m: QuantileModel, at: number): string {
  const h = createHash("sha1").update(JSON.stringify([m.weights, m.bias, m.mean, m.std])).digest("hex").slice(0, 8);
  return `q${new Date(at).toISOString().slice(0, 10).replace(/-/g, "")}-${h}`;
}

export interface TrainResult {
  version: string;
  evaluation: Evaluation;
  where: string;
  samples: number;
}

/** Train a candidate on the walk-forward training part, score it on the validation part, register it. */
export async function trainCandidate(store: Store, s: Settings, opts: { seed?: number; epochs?: number; onProgress?: Progress; now?: number } = {}): Promise<TrainResult> {
  const samples = await loadSamples(store, s);
  if (samples.length < 200) throw new InputError(`only ${samples.length} samples in the store: replay or backfill bars first (awet replay data/minute)`);
  const { train, valid } = splitWalkForward(samples);
  const { model, where } = await trainInWorker(train, { horizon: s.app.forecast_horizon_bars, features: FEATURE_NAMES, seed: opts.seed ?? 42, epochs: opts.epochs ?? 30 }, opts.onProgress);
  const ev = evaluate(model, train, valid);
  const now = opts.now ?? Date.now();
  const version = modelVersion(model, now);
  await store.saveModel({
    version, name: "linear-quantile", status: "candidate", created_at: now, promoted_at: null,
    metrics: { model: ev.model, baselines: ev.baselines, validation_window: ev.validation_window }, train_window: ev.train_window, features: FEATURE_NAMES, params: model,
  });
  return { version, evaluation: ev, where, samples: samples.length };
}

/** Score a registered version on the current data's validation window, with the baselines. */
export async function evaluateVersion(store: Store, s: Settings, row: ModelRow): Promise<Evaluation> {
  const samples = await loadSamples(store, s);
  const { train, valid } = splitWalkForward(samples);
  return evaluate(row.params as QuantileModel, train, valid);
}

export interface PromotionDecision {
  promoted: boolean;
  candidate: string | null;
  production: string | null;
  reason: string;
}

/**
 * Promote the newest candidate only if it beats production on the validation window (lower pinball
 * loss) — or, with no production model yet, beats both baselines. Otherwise refuse, with the reason.
 */
export async function promoteIfBetter(store: Store, s: Settings, now = Date.now()): Promise<PromotionDecision> {
  const models = await store.listModels();
  const cand = models.find((m) => m.status === "candidate");
  const prod = models.find((m) => m.status === "production");
  if (!cand) return { promoted: false, candidate: null, production: prod?.version ?? null, reason: "no candidate model to promote (run night_trainer)" };
  const ce = await evaluateVersion(store, s, cand);
  const f = (x: number) => x.toExponential(4);
  if (prod) {
    const pe = await evaluateVersion(store, s, prod);
    if (ce.model.pinball_loss < pe.model.pinball_loss) {
      await store.promoteModel(cand.version, now);
      await store.setState("production_model", cand.version, now);
      return { promoted: true, candidate: cand.version, production: cand.version, reason: `candidate pinball ${f(ce.model.pinball_loss)} < production ${f(pe.model.pinball_loss)} on ${ce.validation_window.n} validation samples` };
    }
    await store.setModelStatus(cand.version, "retired");
    return { promoted: false, candidate: cand.version, production: prod.version, reason: `refused: candidate pinball ${f(ce.model.pinball_loss)} does not beat production ${f(pe.model.pinball_loss)}` };
  }
  const best = Math.min(ce.baselines.random_walk.pinball_loss, ce.baselines.rolling_vol.pinball_loss);
  if (ce.model.pinball_loss < best) {
    await store.promoteModel(cand.version, now);
    await store.setState("production_model", cand.version, now);
    return { promoted: true, candidate: cand.version, production: cand.version, reason: `first production model: pinball ${f(ce.model.pinball_loss)} beats the best baseline ${f(best)}` };
  }
  await store.setModelStatus(cand.version, "retired");
  return { promoted: false, candidate: cand.version, production: null, reason: `refused: candidate pinball ${f(ce.model.pinball_loss)} does not beat the best baseline ${f(best)}` };
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
