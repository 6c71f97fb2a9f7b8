import { describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseDocument } from "yaml";
import { APP_SCHEMA, LLM_SCHEMA, defaultApp, loadSettings, reloadSettings } from "../../src/config";
import { ConfigError } from "../../src/core/errors";
import { ROOT, tempHome } from "../helpers";

function homeWith(app: string, llm?: string) {
  const h = tempHome();
  mkdirSync(join(h.home, "config"));
  writeFileSync(join(h.home, "config", "app.yaml"), app);
  if (llm !== undefined) writeFileSync(join(h.home, "config", "llm.yaml"), llm);
  return h;
}

describe("config", () => {
  test("the shipped config/app.yaml and llm.yaml hold exactly the schema defaults", () => {
    for (const [file, schema] of [["app.yaml", APP_SCHEMA], ["llm.yaml", LLM_SCHEMA]] as const) {
      const js = parseDocument(readFileSync(join(ROOT, "config", file), "utf8")).toJS();
      expect(Object.keys(js).sort()).toEqual(Object.keys(schema).sort());
      for (const [k, spec] of Object.entries(schema)) expect([file, k, js[k]]).toEqual([file, k, spec.default]);
    }
  });

  test("defaults: dry run on, runbook throttles and caps", () => {
    const a = defaultApp();
    expect(a.execution_dry_run).toBe(true);
    expect(a.max_orders_per_minute).toBe(5);
    expect(a.max_orders_per_symbol_per_day).toBe(3);
    expect(a.max_open_orders_total).toBe(20);
    expect(a.cooldown_seconds_per_symbol).toBe(900);
    expect(a.max_total_exposure_usd).toBe(50000);
    expect(a.max_exposure_per_symbol_usd).toBe(10000);
    expect(a.http_host).toBe("127.0.0.1");
  });

  test("an unknown key stops the load, naming the key and the file", () => {
    const h = homeWith("execution_dry_runn: false\n");
    try {
      expect(() => loadSettings({ home: h.home, env: {} })).toThrow(ConfigError);
      expect(() => loadSettings({ home: h.home, env: {} })).toThrow(/app\.yaml: unknown key 'execution_dry_runn'/);
    } finally {
      h.cleanup();
    }
  });

  test("a bad value names key, file and value", () => {
    const h = homeWith("max_orders_per_minute: lots\n");
    try {
      expect(() => loadSettings({ home: h.home, env: {} })).toThrow(/app\.yaml: key 'max_orders_per_minute' must be a number \(got "lots"\)/);
    } finally {
      h.cleanup();
    }
  });

  test("every error is listed, not just the first", () => {
    const h = homeWith("http_port: 70000\nsymbols: [spy]\nfoo: 1\n");
    try {
      let msg = "";
      try {
        loadSettings({ home: h.home, env: {} });
      } catch (e) {
        msg = (e as Error).message;
      }
      expect(msg).toContain("unknown key 'foo'");
      expect(msg).toContain("'http_port' must be <= 65535");
      expect(msg).toContain("invalid symbol \"spy\"");
    } finally {
      h.cleanup();
    }
  });

  test("malformed YAML is reported with the file", () => {
    const h = homeWith("symbols: [SPY\n");
    try {
      expect(() => loadSettings({ home: h.home, env: {} })).toThrow(/app\.yaml: invalid YAML/);
    } finally {
      h.cleanup();
    }
  });

  test("AWET_* env overrides every key, lists comma-separated; bad env values name the variable", () => {
    const h = tempHome();
    try {
      const s = loadSettings({
        home: h.home,
        env: { AWET_EXECUTION_DRY_RUN: "false", AWET_HTTP_PORT: "8099", AWET_SYMBOLS: "SPY, IBM", AWET_REPLAY_SPEED: "max", OLLAMA_HOST: "http://127.0.0.1:1" },
      });
      expect(s.app.execution_dry_run).toBe(false);
      expect(s.app.http_port).toBe(8099);
      expect(s.app.symbols).toEqual(["SPY", "IBM"]);
      expect(s.app.replay_speed).toBe("max");
      expect(s.llm.base_url).toBe("http://127.0.0.1:1");
      expect(s.sources.execution_dry_run).toBe("env AWET_EXECUTION_DRY_RUN");
      expect(() => loadSettings({ home: h.home, env: { AWET_HTTP_PORT: "NaN" } })).toThrow(/environment variable AWET_HTTP_PORT: key 'http_port'/);
      expect(() => loadSettings({ home: h.home, env: { AWET_EXECUTION_DRY_RUN: "maybe" } })).toThrow(/must be true or false/);
    } finally {
      h.cleanup();
    }
  });

  test("state paths live under the home", () => {
    const h = tempHome();
    try {
      const s = loadSettings({ home: h.home, env: {} });
      expect(s.paths.db).toBe(join(h.home, ".awet", "awet.db"));
      expect(s.paths.approvalFile).toBe(join(h.home, ".tmp", "APPROVE_EXECUTION"));
      expect(s.paths.logs).toBe(join(h.home, "logs"));
      expect(loadSettings({ env: { AWET_HOME: h.home } }).home).toBe(h.home);
    } finally {
      h.cleanup();
    }
  });
});

describe("connections named by the environment", () => {
  test("KAFKA_BROKERS and SCHEMA_REGISTRY_URL are read once into settings.kafka", () => {
    const s = loadSettings({ home: "/tmp/awet-kafka-env", env: { KAFKA_BROKERS: " k1:9092, k2:9092 ,", SCHEMA_REGISTRY_URL: "http://127.0.0.1:8081" } });
    expect(s.kafka).toEqual({ brokers: ["k1:9092", "k2:9092"], schemaRegistryUrl: "http://127.0.0.1:8081" });
    expect(s.app.bus).toBe("kafka");
    expect(loadSettings({ home: "/tmp/awet-kafka-env", env: {} }).kafka).toEqual({ brokers: [], schemaRegistryUrl: null });
  });
});

describe("the environment is read once, by config", () => {
  test("connections, credentials and test switches come from the env given to loadSettings", () => {
    const h = tempHome();
    try {
      const s = loadSettings({
        home: h.home,
        env: {
          DATABASE_URL: "postgres://u@127.0.0.1:5432/x", AWET_PG_SCHEMA: "s1", PGAPPNAME: "app1", KAFKA_BROKERS: "a:1, b:2",
          APCA_API_KEY_ID: "PKENV0000000000001", APCA_API_SECRET_KEY: "secret-env-1", ALPACA_BASE_URL: "http://127.0.0.1:1", ALPACA_PAPER: "true",
          ALPACA_DATA_URL: "http://127.0.0.1:2", ALPACA_DATA_STREAM_URL: "ws://127.0.0.1:3", AWET_ALLOW_LOOPBACK_BROKER: "1",
          AWET_API_TOKEN: "tok-env-000000000001", AWET_CONFIG_DIR: join(ROOT, "config"), AWET_TF_BACKEND: "cpu", UNRELATED: "x",
        },
      });
      expect(s.database).toEqual({ url: "postgres://u@127.0.0.1:5432/x", schema: "s1", applicationName: "app1" });
      expect(s.kafka.brokers).toEqual(["a:1", "b:2"]);
      expect(s.alpaca).toEqual({ keyId: "PKENV0000000000001", secret: "secret-env-1", baseUrl: "http://127.0.0.1:1", paper: "true", dataUrl: "http://127.0.0.1:2", dataStreamUrl: "ws://127.0.0.1:3", allowLoopback: true });
      expect([s.apiToken, s.configDirPinned, s.tfBackend]).toEqual(["tok-env-000000000001", true, "cpu"]);
      expect(s.secrets).toEqual(["PKENV0000000000001", "secret-env-1", "tok-env-000000000001"]);
      expect(s.environment.UNRELATED).toBeUndefined(); // only what config reads is kept for reloads
      const bare = loadSettings({ home: h.home, env: {} });
      expect([bare.database.url, bare.alpaca.keyId, bare.alpaca.allowLoopback, bare.apiToken, bare.configDirPinned, bare.tfBackend, bare.secrets]).toEqual([null, null, false, null, false, "wasm", []]);
    } finally {
      h.cleanup();
    }
  });

  test("a reload sees the environment captured at load, not the process's later one", () => {
    const h = tempHome();
    try {
      const s = loadSettings({ home: h.home, env: { AWET_EXECUTION_DRY_RUN: "false" } });
      process.env.AWET_EXECUTION_DRY_RUN = "true";
      try {
        expect(reloadSettings(s).app.execution_dry_run).toBe(false);
      } finally {
        delete process.env.AWET_EXECUTION_DRY_RUN;
      }
    } finally {
      h.cleanup();
    }
  });

  test("no module outside src/config/ reads process.env", () => {
    const offenders: string[] = [];
    for (const f of new Bun.Glob("src/**/*.ts").scanSync(ROOT)) {
      if (f.startsWith("src/config/")) continue;
      const text = readFileSync(join(ROOT, f), "utf8").replace(/"process\.env\.NODE_ENV"/g, ""); // a bundler define, not a read
      if (/process\.env/.test(text)) offenders.push(f);
    }
    expect(offenders).toEqual([]);
  });
});
