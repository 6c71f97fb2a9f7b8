import type { Admin } from "kafkajs";
import type { Envelope, Topic } from "../core/events";

export type Handler = (e: Envelope) => Promise<void> | void;

/** Reports a handler failure; the bus goes on with the next handler and event. */
export type HandlerErrorSink = (info: { topic: Topic; handler: string; event: Envelope; error: unknown }) => Promise<void> | void;

/**
 * The EventBus port. Delivery is ordered per symbol. `publish` resolves once the event has been
 * delivered to every subscriber (the in-process bus) or durably handed to the broker (Kafka).
 */
export interface EventBus {
  readonly kind: string;
  subscribe(topic: Topic, name: string, handler: Handler): void;
  /** Connect (Kafka: create topics, producer, one consumer group per handler). After subscribe(). */
  start(): Promise<void>;
  /** Resolves (or returns at once, on the in-process bus when nothing was left running) once handled. */
  publish(e: Envelope): Promise<void> | void;
  /** Wait until everything published so far has been handled. */
  drain(): Promise<void>;
  close(): Promise<void>;
  /** Optional: the consumer groups this process runs (one per handler), for the heartbeat row. */
  groups?(): { group: string; topics: string[] }[];
  /** Optional: committed and end offsets per group and topic, known in process (the in-process bus). */
  offsets?(): { group: string; topic: string; committed: number; end: number }[];
  /** Optional: an admin client that reads any group's offsets from the cluster (Kafka). */
  admin?(): Admin;
}
