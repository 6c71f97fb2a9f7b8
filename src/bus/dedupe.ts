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

/** The log that saw an event first, kept on the event itself (not enumerable: JSON, spreads and equality ignore it). */
const OFFERED = Symbol("awet.offered");

/**
 * The in-process bus's redelivery guard. In one process an event is the envelope object its
 * emitter made, so it is recognised by identity: no id has to be made or hashed for the many
 * events that are never stored or sent. Publishing the same event again runs only the handlers
 * that failed on it (none when all succeeded). The first log to see an event marks it with a
 * hidden property (a third of the cost of a WeakSet, which every event paid); an event another
 * log marked first, or one that cannot take a property, is kept in a WeakSet. Weak maps: an event
 * that is gone is forgotten. (Across processes — Kafka — events are recognised by id: Deduper.)
 */
export class EventLog<E extends object> {
  private others = new WeakSet<E>();
  private failed = new WeakMap<E, Set<string>>();
  private static readonly NONE: ReadonlySet<string> = new Set();

  /** null the first time an event is offered (deliver to every handler); else the handlers to run again. */
  offer(e: E): ReadonlySet<string> | null {
    const by = (e as { [OFFERED]?: unknown })[OFFERED];
    if (by === this) return this.failed.get(e) ?? EventLog.NONE;
    if (by === undefined && Object.isExtensible(e)) {
      Object.defineProperty(e, OFFERED, { value: this });
      return null;
    }
    if (!this.others.has(e)) {
      this.others.add(e);
      return null;
    }
    return this.failed.get(e) ?? EventLog.NONE;
  }

  failedOn(e: E, handler: string): void {
    let s = this.failed.get(e);
    if (!s) this.failed.set(e, (s = new Set()));
    s.add(handler);
  }

  succeededOn(e: E, handler: string): void {
    const s = this.failed.get(e);
    if (s && s.delete(handler) && s.size === 0) this.failed.delete(e);
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

