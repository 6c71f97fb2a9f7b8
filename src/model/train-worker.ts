/// <reference lib="webworker" />
// Trains a model off the main thread, so the pipeline keeps its latency meanwhile:
// `linear` (one linear quantile head per horizon, or the old single-horizon form) or `tft`.
import type { Point, Series } from "./series";
import { trainLinearSet } from "./walkforward";
import type { TftTrainOptions } from "./tft-train";
import type { BackendName } from "./tf-backend";

declare const self: Worker;

type Job =
  | { kind: "linear"; series: Series[]; points: Point[]; opts: { horizons: number[]; features: string[]; seed: number; epochs: number } }
  | { kind: "tft"; series: Series[]; points: Point[]; opts: TftTrainOptions; prefer: BackendName };

self.onmessage = async (ev: MessageEvent<Job>) => {
  try {
    const job = ev.data;
    if (job.kind === "tft") {
      const { ensureBackend } = await import("./tf");
      const { trainTft } = await import("./tft-train");
      const be = await ensureBackend(job.prefer);
      postMessage({ type: "backend", note: be.note });
      const model = trainTft(job.series, job.points, { ...job.opts, backend: be.backend }, (p) => postMessage({ type: "progress", ...p }), Date.now);
      postMessage({ type: "done", model });
      return;
    }
    const o = job.opts;
    const model = trainLinearSet(job.series, job.points, o.horizons, o.features, { seed: o.seed, epochs: o.epochs, onProgress: (epoch, epochs, loss) => postMessage({ type: "progress", epoch, epochs, loss }) });
    postMessage({ type: "done", model });
  } catch (e) {
    postMessage({ type: "error", error: (e as Error).message });
  }
};
