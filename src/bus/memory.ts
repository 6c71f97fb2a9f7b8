import { AsyncLocalStorage } from "node:async_hooks";
import type { Envelope, Topic } from "../core/events";
import { Deduper } from "./dedupe";
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
  // In one process an event id repeats only when the same bar is fed twice; 16k ids per handler is
  // ample and keeps the ids' memory flat (Kafka's redeliveries have their own, larger window).
  private dedupe = new Deduper(16_384);
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

  publish(e: Envelope): Promise<void> {
    const subs = this.subs.get(e.type);
    if (subs) for (const s of subs) s.queued++;
    if (this.inHandler.getStore()) return this.deliver(e);
    const prev = this.tails.get(e.symbol) ?? Promise.resolve();
    const next = prev.then(() => this.inHandler.run(true, () => this.deliver(e)));
    this.tails.set(e.symbol, next);
    // Drop the tail once settled so the map does not grow with finished chains.
    next.finally(() => {
      if (this.tails.get(e.symbol) === next) this.tails.delete(e.symbol);
    });
    return next;
  }

  private async deliver(e: Envelope): Promise<void> {
    const list = this.subs.get(e.type);
    if (!list) return;
    for (const s of list) {
      if (!this.dedupe.first(s.name, e.id)) {
        s.done++;
        continue; // a redelivery: already handled
      }
      // One delivery in TIMING_SAMPLE is timed: a histogram observation costs more than most handlers.
      const timed = this.onTiming !== undefined && ++this.deliveries % TIMING_SAMPLE === 0;
      const t0 = timed ? performance.now() : 0;
      try {
        await s.handler(e);
        if (timed) this.onTiming!(e.type, s.name, (performance.now() - t0) / 1000);
      } catch (error) {
        this.dedupe.forget(s.name, e.id);
        try {
          await this.onError({ topic: e.type, handler: s.name, event: e, error });
        } catch {
          // The error sink itself failed (e.g. the store is gone); nothing more can be done here
          // without throwing into the publisher, which would stop the whole symbol's stream.
        }
      }
      s.done++;
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
