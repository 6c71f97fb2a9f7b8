import { AsyncLocalStorage } from "node:async_hooks";
import type { Envelope, Topic } from "../core/events";
import { EventLog } from "./dedupe";
import type { EventBus, Handler, HandlerErrorSink } from "./port";

/** Handler timings are sampled: one delivery in this many is observed into the histogram. */
export const TIMING_SAMPLE = 8;

interface Sub {
  name: string;
  handler: Handler;
  // Events handed to this handler on this topic, and events it finished (ok, failed, or a
  // redelivery skipped): the difference is its queue depth, the in-process bus's consumer lag.
  queued: number;
  done: number;
}

/**
 * In-process bus. Top-level publishes are queued per symbol, so events of one symbol are handled
 * one after another in publish order while symbols proceed independently. A publish made from
 * inside a handler (the next pipeline stage) is delivered at once, depth-first, which keeps one
 * bar's whole chain together and cannot deadlock on its own queue.
 */
export class MemoryBus implements EventBus {
  readonly kind = "memory";
  private subs = new Map<Topic, Sub[]>();
  private tails = new Map<string, Promise<void>>();
  private inHandler = new AsyncLocalStorage<boolean>();
  private log = new EventLog<Envelope>();
  private deliveries = 0;

  constructor(
    private onError: HandlerErrorSink,
    private onTiming?: (topic: Topic, handler: string, seconds: number) => void,
  ) {}

  subscribe(topic: Topic, name: string, handler: Handler): void {
    const list = this.subs.get(topic) ?? [];
    list.push({ name, handler, queued: 0, done: 0 });
    this.subs.set(topic, list);
  }

  /**
   * Deliver now when nothing of the symbol is pending (or from inside a handler), else after what
   * is. Handlers that return no promise are called back to back with no await in between, so a
   * bar whose chain does no I/O runs synchronously; the first handler that returns a promise turns
   * the rest of the delivery asynchronous. Returns a promise only when something is still running.
   */
  publish(e: Envelope): Promise<void> | void {
    const subs = this.subs.get(e.type);
    if (subs) for (const s of subs) s.queued++;
    if (this.inHandler.getStore()) return this.deliver(e, 0, this.log.offer(e));
    const prev = this.tails.get(e.symbol);
    if (!prev) {
      const r = this.inHandler.run(true, () => this.deliver(e, 0, this.log.offer(e)));
      return r ? this.track(e.symbol, r) : undefined;
    }
    return this.track(e.symbol, prev.then(() => this.inHandler.run(true, () => this.deliver(e, 0, this.log.offer(e)))));
  }

  private track(symbol: string, next: Promise<void>): Promise<void> {
    this.tails.set(symbol, next);
    // Drop the tail once settled so the map does not grow with finished chains.
    next.finally(() => {
      if (this.tails.get(symbol) === next) this.tails.delete(symbol);
    });
    return next;
  }

  /** `only`: null on an event's first delivery (every handler), else the handlers that failed on it before. */
  private deliver(e: Envelope, from: number, only: ReadonlySet<string> | null): Promise<void> | void {
    const list = this.subs.get(e.type);
    if (!list) return;
    for (let i = from; i < list.length; i++) {
      const s = list[i]!;
      if (only !== null && !only.has(s.name)) {
        s.done++;
        continue; // a redelivery: this handler already handled it
      }
      // One delivery in TIMING_SAMPLE is timed: a histogram observation costs more than most handlers.
      const timed = this.onTiming !== undefined && ++this.deliveries % TIMING_SAMPLE === 0;
      const t0 = timed ? performance.now() : 0;
      let r: unknown;
      try {
        r = s.handler(e);
      } catch (error) {
        s.done++;
        const f = this.failed(s, e, error);
        if (f) return f.then(() => this.deliver(e, i + 1, only));
        continue;
      }
      if (r !== null && typeof r === "object" && typeof (r as Promise<void>).then === "function") {
        return (r as Promise<void>).then(
          () => {
            s.done++;
            if (timed) this.onTiming!(e.type, s.name, (performance.now() - t0) / 1000);
            if (only !== null) this.log.succeededOn(e, s.name);
            return this.deliver(e, i + 1, only);
          },
          (error) => {
            s.done++;
            const f = this.failed(s, e, error);
            return f ? f.then(() => this.deliver(e, i + 1, only)) : this.deliver(e, i + 1, only);
          },
        );
      }
      s.done++;
      if (timed) this.onTiming!(e.type, s.name, (performance.now() - t0) / 1000);
      if (only !== null) this.log.succeededOn(e, s.name);
    }
  }

  /** A handler threw: forget the id (a redelivery must run it again) and report it; never throws. */
  private failed(s: Sub, e: Envelope, error: unknown): Promise<void> | void {
    this.log.failedOn(e, s.name);
    try {
      const r = this.onError({ topic: e.type, handler: s.name, event: e, error });
      // The error sink itself may fail (e.g. the store is gone); nothing more can be done here
      // without throwing into the publisher, which would stop the whole symbol's stream.
      if (r && typeof (r as Promise<void>).then === "function") return (r as Promise<void>).then(undefined, () => {});
    } catch {
      // as above
    }
  }

  /** Each handler's consumer group (named as on Kafka) and the topics it reads. */
  groups(): { group: string; topics: string[] }[] {
    const by = new Map<string, string[]>();
    for (const [topic, subs] of this.subs) for (const s of subs) by.set(s.name, [...(by.get(s.name) ?? []), topic]);
    return [...by].map(([name, topics]) => ({ group: `awet.${name}`, topics }));
  }

  /** Per handler and topic: events queued for it (`end`) and finished by it (`committed`). */
  offsets(): { group: string; topic: string; committed: number; end: number }[] {
    return [...this.subs].flatMap(([topic, subs]) => subs.map((s) => ({ group: `awet.${s.name}`, topic, committed: s.done, end: s.queued })));
  }

  async start(): Promise<void> {}

  async drain(): Promise<void> {
    while (this.tails.size > 0) await Promise.all([...this.tails.values()]);
  }

  async close(): Promise<void> {
    await this.drain();
  }
}
