import { AsyncLocalStorage } from "node:async_hooks";
import type { Envelope, Topic } from "../core/events";
import { Deduper } from "./dedupe";
import type { EventBus, Handler, HandlerErrorSink } from "./port";

interface Sub {
  name: string;
  handler: Handler;
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
  private dedupe = new Deduper();
  // Per handler and topic: events handed to it and events it finished (ok, failed or a redelivery
  // skipped). The difference is its queue depth, the in-process bus's consumer lag.
  private queued = new Map<string, number>();
  private done = new Map<string, number>();

  constructor(
    private onError: HandlerErrorSink,
    private onTiming?: (topic: Topic, handler: string, seconds: number) => void,
  ) {}

  subscribe(topic: Topic, name: string, handler: Handler): void {
    const list = this.subs.get(topic) ?? [];
    list.push({ name, handler });
    this.subs.set(topic, list);
  }

  publish(e: Envelope): Promise<void> {
    for (const s of this.subs.get(e.type) ?? []) bumpCount(this.queued, s.name, e.type);
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
      try {
        await this.deliverTo(s, e);
      } finally {
        bumpCount(this.done, s.name, e.type);
      }
    }
  }

  private async deliverTo(s: Sub, e: Envelope): Promise<void> {
    if (!this.dedupe.first(s.name, e.id)) return; // a redelivery: already handled
    const t0 = this.onTiming ? performance.now() : 0;
    try {
      await s.handler(e);
      if (this.onTiming) this.onTiming(e.type, s.name, (performance.now() - t0) / 1000);
    } catch (error) {
      this.dedupe.forget(s.name, e.id);
      try {
        await this.onError({ topic: e.type, handler: s.name, event: e, error });
      } catch {
        // The error sink itself failed (e.g. the store is gone); nothing more can be done here
        // without throwing into the publisher, which would stop the whole symbol's stream.
      }
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
    const out: { group: string; topic: string; committed: number; end: number }[] = [];
    for (const [topic, subs] of this.subs)
      for (const s of subs) out.push({ group: `awet.${s.name}`, topic, committed: this.done.get(`${s.name}\u0000${topic}`) ?? 0, end: this.queued.get(`${s.name}\u0000${topic}`) ?? 0 });
    return out;
  }

  async start(): Promise<void> {}

  async drain(): Promise<void> {
    while (this.tails.size > 0) await Promise.all([...this.tails.values()]);
  }

  async close(): Promise<void> {
    await this.drain();
  }
}

function bumpCount(m: Map<string, number>, name: string, topic: string): void {
  const k = `${name}\u0000${topic}`;
  m.set(k, (m.get(k) ?? 0) + 1);
}
