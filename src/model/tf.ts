/**
 * The tfjs backend the TFT runs on: WebAssembly (SIMD) when it can load, else the plain JS CPU
 * backend, said so. The .wasm files are imported as files, so Bun embeds them into the single
 * binary (`npm run build`) and gives their on-disk path from a checkout; either way the wasm
 * backend reads them with fs, nothing is fetched. One backend per process (tfjs keeps it global).
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-core/dist/register_all_gradients";
import "@tensorflow/tfjs-backend-cpu";
import { setThreadsCount, setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import wasmPlain from "../../node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm" with { type: "file" };
import wasmSimd from "../../node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm" with { type: "file" };
import wasmThreaded from "../../node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm" with { type: "file" };

export { tf };

import { preferredBackend, type BackendName } from "./tf-backend";
export type { BackendName };
let chosen: Promise<{ backend: BackendName; note: string }> | null = null;

/**
 * Select the backend once per process: `prefer` wasm (the default; settings.tfBackend, from
 * AWET_TF_BACKEND=cpu, forces the CPU backend), falling back to cpu with the reason in `note`.
 */
export function ensureBackend(prefer: BackendName = preferredBackend()): Promise<{ backend: BackendName; note: string }> {
  if (chosen) return chosen;
  chosen = (async () => {
    if (prefer === "wasm") {
      try {
        setWasmPaths({ "tfjs-backend-wasm.wasm": wasmPlain, "tfjs-backend-wasm-simd.wasm": wasmSimd, "tfjs-backend-wasm-threaded-simd.wasm": wasmThreaded });
        setThreadsCount(1); // one thread: deterministic reductions, and the machine is shared
        if (await tf.setBackend("wasm")) {
          await tf.ready();
          return { backend: "wasm" as const, note: "wasm backend" };
        }
      } catch (e) {
        await tf.setBackend("cpu");
        await tf.ready();
        return { backend: "cpu" as const, note: `cpu backend (wasm failed to load: ${(e as Error).message ?? String(e)})` };
      }
      await tf.setBackend("cpu");
      await tf.ready();
      return { backend: "cpu" as const, note: "cpu backend (wasm failed to initialise)" };
    }
    await tf.setBackend("cpu");
    await tf.ready();
    return { backend: "cpu" as const, note: "cpu backend (requested)" };
  })();
  return chosen;
}
