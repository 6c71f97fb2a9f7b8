/**
 * Consumers are at-least-once (ARCHITECTURE.md §10): each handler remembers the ids of the last
 * `capacity` events it handled and skips a redelivery before any side effect. A ring of ids beside
 * a Set: O(1) per check and per eviction at any fill level (no iterator walk over a large Set).
 */
export class Deduper {
  private seen = new Map<string, Ring>();
  constructor(private capacity = 100_000) {
    if (!(capacity >= 1)) throw new RangeError(`dedupe capacity must be >= 1, got ${capacity}`);
  }

  /** True the first time (handler, event id) is offered; false for a repeat. */
  first(handler: string, id: string): boolean {
    let r = this.seen.get(handler);
    if (!r) this.seen.set(handler, (r = new Ring(this.capacity)));
    return r.add(id);
  }

  /** Forget an id (the handler failed, so a redelivery must run it again). */
  forget(handler: string, id: string): void {
    this.seen.get(handler)?.remove(id);
  }

  /** Ids held for a handler (for tests and health). */
  size(handler: string): number {
    return this.seen.get(handler)?.size ?? 0;
  }
}

/**
 * The in-process bus's redelivery guard, one check per event instead of one per handler: the ids
 * of the last `capacity` events published, and for an event some handlers failed on, which ones.
 * A repeat of an id runs only the handlers that failed on it (none when all succeeded) — the same
 * outcome as a per-handler Deduper, at one Map lookup per event on the normal path.
 */
export class DeliveryLog {
  private seen: SetRing;
  private failed = new Map<string, Set<string>>();
  private static readonly NONE: ReadonlySet<string> = new Set();

  constructor(private capacity = 16_384) {
    this.seen = new SetRing(capacity);
  }

  /** null the first time an id is offered (deliver to every handler); else the handlers to run again. */
  offer(id: string): ReadonlySet<string> | null {
    if (this.seen.add(id)) return null;
    return this.failed.get(id) ?? DeliveryLog.NONE;
  }

  failedOn(id: string, handler: string): void {
    let s = this.failed.get(id);
    if (!s) {
      if (this.failed.size >= this.capacity) this.failed.delete(this.failed.keys().next().value!); // bounded
      this.failed.set(id, (s = new Set()));
    }
    s.add(handler);
  }

  succeededOn(id: string, handler: string): void {
    const s = this.failed.get(id);
    if (s && s.delete(handler) && s.size === 0) this.failed.delete(id);
  }
}

/** Bounded FIFO set: the oldest id leaves when a new one arrives at capacity. */
class Ring {
  private ids: (string | undefined)[];
  private slot = new Map<string, number>(); // id -> the ring slot that holds it
  private head = 0; // next slot to write: the oldest entry

  constructor(private capacity: number) {
    this.ids = new Array(capacity);
  }

  get size(): number {
    return this.slot.size;
  }

  add(id: string): boolean {
    if (this.slot.has(id)) return false;
    const old = this.ids[this.head];
    // The slot may hold an id that was forgotten, or forgotten and added again into another slot:
    // evict it only when this slot is still its home.
    if (old !== undefined && this.slot.get(old) === this.head) this.slot.delete(old);
    this.ids[this.head] = id;
    this.slot.set(id, this.head);
    this.head = this.head + 1 === this.capacity ? 0 : this.head + 1;
    return true;
  }

  remove(id: string): void {
    this.slot.delete(id);
  }
}

/** Bounded FIFO set without removal: a Set beside a ring of its members (the cheapest exact window). */
class SetRing {
  private ids: (string | undefined)[];
  private set = new Set<string>();
  private head = 0;

  constructor(private capacity: number) {
    this.ids = new Array(capacity).fill(undefined);
  }

  add(id: string): boolean {
    if (this.set.has(id)) return false;
    const old = this.ids[this.head];
    if (old !== undefined) this.set.delete(old);
    this.ids[this.head] = id;
    this.set.add(id);
    this.head = this.head + 1 === this.capacity ? 0 : this.head + 1;
    return true;
  }
}
