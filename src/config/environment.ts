/**
 * What the process environment names beyond config keys: connections, credentials and test
 * switches. Read here, once, when the settings load; everything else takes them from Settings.
 *
 * | variable | Settings field | meaning |
 * |---|---|---|
 * | DATABASE_URL | database.url | PostgreSQL to use (selects `store: postgres` unless AWET_STORE says otherwise) |
 * | AWET_PG_SCHEMA | database.schema | PostgreSQL schema (default `public`) |
 * | PGAPPNAME | database.applicationName | connections' application_name (default `awet`) |
 * | KAFKA_BROKERS | kafka.brokers | Kafka bootstrap servers (selects `bus: kafka` unless AWET_BUS says otherwise) |
 * | SCHEMA_REGISTRY_URL | kafka.schemaRegistryUrl | Confluent Schema Registry for Avro framing |
 * | APCA_API_KEY_ID, APCA_API_SECRET_KEY | alpaca.keyId, alpaca.secret | Alpaca paper keys |
 * | ALPACA_BASE_URL, ALPACA_PAPER | alpaca.baseUrl, alpaca.paper | trading host (only the paper host passes) |
 * | ALPACA_DATA_URL, ALPACA_DATA_STREAM_URL | alpaca.dataUrl, alpaca.dataStreamUrl | market-data REST and stream hosts |
 * | AWET_ALLOW_LOOPBACK_BROKER=1 | alpaca.allowLoopback | accept loopback Alpaca hosts (test doubles only) |
 * | AWET_API_TOKEN | apiToken | the bearer token of the control API (else <home>/.tmp/api-token) |
 * | AWET_CONFIG_DIR | configDirPinned | the config directory is fixed: edits never move to <home>/config |
 * | AWET_TF_BACKEND=cpu | tfBackend | force tfjs's CPU backend for the TFT (default wasm) |
 * | AWET_HOME | home | the home directory when --home is not given |
 */
export type Env = Record<string, string | undefined>;

export interface Connections {
  database: { url: string | null; schema: string | null; applicationName: string };
  kafka: { brokers: string[]; schemaRegistryUrl: string | null };
  alpaca: {
    keyId: string | null;
    secret: string | null;
    baseUrl: string | null;
    paper: string | null;
    dataUrl: string | null;
    dataStreamUrl: string | null;
    allowLoopback: boolean;
  };
  apiToken: string | null;
  configDirPinned: boolean;
  tfBackend: "wasm" | "cpu";
  /** Values that must never appear in logs, traces, audit rows or events (redaction lists). */
  secrets: string[];
}

const val = (v: string | undefined): string | null => (v === undefined || v === "" ? null : v);

/** The connections the environment names. Pure over `env`. */
export function connectionsFrom(env: Env): Connections {
  return {
    database: { url: val(env.DATABASE_URL), schema: val(env.AWET_PG_SCHEMA), applicationName: val(env.PGAPPNAME) ?? "awet" },
    kafka: {
      brokers: (env.KAFKA_BROKERS ?? "").split(",").map((x) => x.trim()).filter(Boolean),
      schemaRegistryUrl: val(env.SCHEMA_REGISTRY_URL),
    },
    alpaca: {
      keyId: val(env.APCA_API_KEY_ID),
      secret: val(env.APCA_API_SECRET_KEY),
      baseUrl: val(env.ALPACA_BASE_URL),
      paper: env.ALPACA_PAPER ?? null,
      dataUrl: val(env.ALPACA_DATA_URL),
      dataStreamUrl: val(env.ALPACA_DATA_STREAM_URL),
      allowLoopback: env.AWET_ALLOW_LOOPBACK_BROKER === "1",
    },
    apiToken: val(env.AWET_API_TOKEN),
    configDirPinned: Boolean(env.AWET_CONFIG_DIR),
    tfBackend: env.AWET_TF_BACKEND === "cpu" ? "cpu" : "wasm",
    secrets: [env.APCA_API_KEY_ID, env.APCA_API_SECRET_KEY, env.AWET_API_TOKEN, env.OPENAI_API_KEY].filter((x): x is string => !!x),
  };
}

/** The variables config itself reads (AWET_*, the runbook's aliases and the connections): kept for reloads. */
export function configInputs(env: Env, aliases: readonly string[]): Readonly<Record<string, string>> {
  const named = new Set(["DATABASE_URL", "KAFKA_BROKERS", "PGAPPNAME", "SCHEMA_REGISTRY_URL", "APCA_API_KEY_ID", "APCA_API_SECRET_KEY", "ALPACA_BASE_URL", "ALPACA_PAPER", "ALPACA_DATA_URL", "ALPACA_DATA_STREAM_URL", "OPENAI_API_KEY", ...aliases]);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && (k.startsWith("AWET_") || named.has(k))) out[k] = v;
  return Object.freeze(out);
}
