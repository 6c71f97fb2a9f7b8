/**
 * The composition root's adapters: every port's implementation is chosen and built here from the
 * Settings (which hold all the environment names; see config/environment.ts). The pipeline
 * (agents/pipeline.ts) and the runtime (agents/supervisor.ts) receive them built.
 */
import type { Settings } from "../config/load";
import { AlpacaPaperBroker } from "../broker/alpaca";
import type { BarDrivenBroker } from "../broker/port";
import { SimBroker } from "../broker/sim";
import { KafkaBus } from "../bus/kafka";
import { MemoryBus } from "../bus/memory";
import type { EventBus, HandlerErrorSink } from "../bus/port";
import { ReplayClock, SystemClock, type Clock } from "../core/clock";
import type { Topic } from "../core/events";
import { LLMClient, type TraceSink } from "../llm/client";
import { AlpacaBarSource } from "../market/alpaca";
import type { Logger } from "../obs/log";
import type { Metrics } from "../obs/metrics";
import type { Store } from "../store/port";
import { PostgresStore } from "../store/postgres";
import { SqliteStore } from "../store/sqlite";
import type { TimescaleMode, TimescaleOptions } from "../store/timescale";

/**
 * The pipeline's clock: event time (a replay's bars drive it, so a replay is deterministic and
 * fast) or wall time (live bars).
 */
export function makeClock(kind: "event" | "wall"): Clock {
  return kind === "wall" ? new SystemClock() : new ReplayClock();
}

/** store_timescale and the timescale_* policies of the settings. */
export function timescaleOptions(s: Settings): TimescaleOptions {
  return { mode: s.app.store_timescale as TimescaleMode, compressAfterDays: s.app.timescale_compress_after_days, retainDays: s.app.timescale_retain_days };
}

/** A PostgreSQL store on the settings' DATABASE_URL and schema (for `db` commands that need one whatever `store` says). */
export function postgresStore(s: Settings, log?: Logger): PostgresStore {
  if (!s.database.url) throw new Error("DATABASE_URL is not set");
  return new PostgresStore({
    url: s.database.url,
    schema: s.database.schema ?? undefined,
    applicationName: s.database.applicationName,
    maxQueue: s.app.pg_max_queue,
    log,
    timescale: timescaleOptions(s),
  });
}

/** The store the settings name (not yet migrated). */
export function makeStore(s: Settings, log?: Logger): Store {
  if (s.app.store === "postgres") return postgresStore(s, log);
  return new SqliteStore(s.paths.db);
}

/** Open and migrate the store the settings name. */
export async function openStore(s: Settings, log?: Logger): Promise<Store> {
  const store = makeStore(s, log);
  await store.migrate();
  return store;
}

/** The broker the settings name: Alpaca's paper API (keys and host from the settings), else the simulator. */
export function openBroker(s: Settings): BarDrivenBroker {
  if (s.app.broker === "alpaca") return alpacaBroker(s);
  return new SimBroker(s.app.sim_slippage_bps, s.app.sim_account_equity_usd);
}

/** Alpaca's paper broker from the settings (refuses any host but the paper host). */
export function alpacaBroker(s: Settings): AlpacaPaperBroker {
  const a = s.alpaca;
  return new AlpacaPaperBroker({ baseUrl: a.baseUrl ?? undefined, paper: a.paper ?? undefined, keyId: a.keyId ?? undefined, secret: a.secret ?? undefined, allowLoopback: a.allowLoopback });
}

/** Live one-minute bars of the configured symbols from Alpaca's stream (keys and host from the settings). */
export function alpacaBarSource(s: Settings): AlpacaBarSource {
  const a = s.alpaca;
  return new AlpacaBarSource({ keyId: a.keyId ?? undefined, secret: a.secret ?? undefined, symbols: s.app.symbols, url: a.dataStreamUrl ?? undefined, allowLoopback: a.allowLoopback });
}

/** The bus the settings name: Kafka (settings.kafka) or the in-process bus. */
export function makeBus(s: Settings, o: { log: Logger; onError: HandlerErrorSink; onTiming: (topic: Topic, handler: string, seconds: number) => void }): EventBus {
  if (s.app.bus === "kafka")
    return new KafkaBus({
      brokers: s.kafka.brokers,
      schemaRegistryUrl: s.kafka.schemaRegistryUrl ?? undefined,
      partitions: s.app.kafka_partitions,
      replicationFactor: s.app.kafka_replication_factor,
      log: o.log,
      onError: o.onError,
      onTiming: o.onTiming,
    });
  return new MemoryBus(o.onError, o.onTiming);
}

/** An LLM client on llm.yaml that redacts the config's secrets from everything it records. */
export function makeLlmClient(s: Settings, deps: { log: Logger; sink?: TraceSink; metrics?: Metrics; now?: () => number }): LLMClient {
  return new LLMClient(s.llm, { ...deps, secrets: s.secrets });
}
