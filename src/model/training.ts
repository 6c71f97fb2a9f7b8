/**
 * What a training run computes, pure given its inputs: the job for a kind on the walk-forward data
 * (points, options, seed) and running it (here, or in the Worker that train-worker.ts starts).
 * Starting Workers, saving the result and the clock are the caller's (ops/model.ts).
 */
import type { AppConfig } from "../config/schema";
import { InputError } from "../core/errors";
import { FEATURE_NAMES } from "./dataset";
import { subsetHorizons, type Data } from "./evaluation";
import type { Kind } from "./registry";
import type { Point, Series } from "./series";
import type { BackendName } from "./tf-backend";
import type { TftModel } from "./tft";
import type { TftTrainOptions } from "./tft-train";
import { trainLinearSet, type LinearSet } from "./walkforward";

export interface ProgressInfo {
  epoch: number;
  epochs: number;
  loss: number;
  val_loss?: number;
  eta_s?: number;
  best_epoch?: number;
}
export type Progress = (p: ProgressInfo) => void;

/** One training run as a message a Worker can take (structured-cloneable). */
export type TrainingJob =
  | { kind: "linear"; series: Series[]; points: Point[]; opts: { horizons: number[]; features: string[]; seed: number; epochs: number } }
  | { kind: "tft"; series: Series[]; points: Point[]; opts: TftTrainOptions; prefer: BackendName };

/** The training job for `kind` on the data's training part (throws an InputError when there are too few points). */
export function trainingJob(kind: Kind, d: Data, a: AppConfig, o: { seed: number; epochs?: number; prefer: BackendName }): TrainingJob {
  if (d.train.length < 200) throw new InputError(`only ${d.train.length} training points (lookback ${d.lookback}, horizons ${d.horizons.join(",")}): replay or backfill bars first (awet replay data/minute)`);
  if (kind === "tft") {
    const points = a.tft_train_stride > 1 ? d.train.filter((_, k) => k % a.tft_train_stride === 0) : d.train;
    const opts: TftTrainOptions = { lookback: d.lookback, horizons: a.forecast_horizons_bars, hidden: a.tft_hidden, heads: a.tft_heads, features: [...FEATURE_NAMES], seed: o.seed, epochs: o.epochs ?? a.tft_epochs, patience: a.tft_patience };
    return { kind: "tft", series: d.series, points: subsetHorizons(d, a.forecast_horizons_bars, points), opts, prefer: o.prefer };
  }
  const opts = { horizons: a.forecast_horizons_bars, features: [...FEATURE_NAMES], seed: o.seed, epochs: o.epochs ?? 30 };
  return { kind: "linear", series: d.series, points: subsetHorizons(d, a.forecast_horizons_bars, d.train), opts };
}

/** Train: the TFT on the preferred tfjs backend (`onNote` says which), or the linear heads. `clock` times the TFT's ETA. */
export async function runTrainingJob(job: TrainingJob, hooks: { onProgress?: Progress; onNote?: (note: string) => void; clock: () => number }): Promise<LinearSet | TftModel> {
  if (job.kind === "tft") {
    const { ensureBackend } = await import("./tf");
    const { trainTft } = await import("./tft-train");
    const be = await ensureBackend(job.prefer);
    hooks.onNote?.(be.note);
    return trainTft(job.series, job.points, { ...job.opts, backend: be.backend }, (p) => hooks.onProgress?.(p), hooks.clock);
  }
  const o = job.opts;
  return trainLinearSet(job.series, job.points, o.horizons, o.features, { seed: o.seed, epochs: o.epochs, onProgress: (epoch, epochs, loss) => hooks.onProgress?.({ epoch, epochs, loss }) });
}
