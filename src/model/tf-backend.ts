/**
 * The tfjs backend this process prefers (settings.tfBackend, set once at start by the CLI). tfjs
 * keeps its backend process-global, so the preference is too; kept apart from tf.ts so that
 * setting it does not load tfjs. A training Worker is told it in its job message.
 */
export type BackendName = "wasm" | "cpu";
let preferred: BackendName = "wasm";

export function preferBackend(b: BackendName): void {
  preferred = b;
}

export function preferredBackend(): BackendName {
  return preferred;
}
