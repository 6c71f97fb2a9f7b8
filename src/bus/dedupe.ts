/**
 * Consumers are at-least-once (ARCHITECTURE.md §10): each handler remembers the ids of the last
 * `capacity` events it handled and skips a redelivery before any side effect. Insertion-ordered
 * Set as a bounded FIFO: O(1) per check.
 */
export class Deduper {
  private seen = new Map<string, Set<string>>();
  constructor(private capacity = 100_000) {}

  /** True the first time (handler, event id) is offered; false for a repeat. */
  first(handler: string, id: string): boolean {
    let s = this.seen.get(handler);
    if (!s) this.seen.set(handler, (s = new Set()));
    if (s.has(id)) return false;
    s.add(id);
    if (s.size > this.capacity) s.delete(s.values().next().value!);
    return true;
  }

  /** Forget an id (the handler failed, so a redelivery must run it again). */
  forget(handler: string, id: string): void {
    this.seen.get(handler)?.delete(id);
  }
}
