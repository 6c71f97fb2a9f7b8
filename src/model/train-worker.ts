/// <reference lib="webworker" />
// Trains a quantile model off the main thread, so the pipeline keeps its latency meanwhile.
import { trainQuantile, type TrainOptions } from "./quantile";
import type { Sample } from "./dataset";

declare const self: Worker;

self.onmessage = (ev: MessageEvent<{ samples: Sample[]; opts: Omit<TrainOptions, "onProgress"> }>) => {
  try {
    const model = trainQuantile(ev.data.samples, { ...ev.data.opts, onProgress: (epoch, epochs, loss) => postMessage({ type: "progress", epoch, epochs, loss }) });
    postMessage({ type: "done", model });
  } catch (e) {
    postMessage({ type: "error", error: (e as Error).message });
  }
};
