import { AsyncLocalStorage } from "node:async_hooks";

const als = new AsyncLocalStorage<{ correlationId: string }>();

/** Run `fn` with a correlation id that the LLM client and logs pick up without passing it along. */
export function withCorrelation<T>(correlationId: string, fn: () => T): T {
  return als.run({ correlationId }, fn);
}

export function currentCorrelationId(): string | null {
  return als.getStore()?.correlationId ?? null;
}
