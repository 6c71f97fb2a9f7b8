/// <reference lib="webworker" />
// Trains a model off the main thread, so the pipeline keeps its latency meanwhile:
// `linear` (one linear quantile head per horizon, or the old single-horizon form) or `tft`.
import { runTrainingJob, type TrainingJob } from "./training";

declare const self: Worker;

self.onmessage = async (ev: MessageEvent<TrainingJob>) => {
  try {
    const model = await runTrainingJob(ev.data, {
      onProgress: (p) => postMessage({ type: "progress", ...p }),
      onNote: (note) => postMessage({ type: "backend", note }),
      clock: Date.now,
    });
    postMessage({ type: "done", model });
  } catch (e) {
    postMessage({ type: "error", error: (e as Error).message });
  }
};
