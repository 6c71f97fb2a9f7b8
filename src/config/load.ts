import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { parseDocument } from "yaml";
import { ConfigError } from "../core/errors";
import { APP_SCHEMA, LLM_SCHEMA, LLM_ENV_ALIASES, SYMBOL_RE, type AppConfig, type KeySpec, type LlmConfig } from "./schema";
import { packageRoot } from "./paths";
import { loadDotenv } from "./dotenv";
import { configInputs, connectionsFrom, type Connections, type Env } from "./environment";

/** Everything configured: the YAML files, their env overrides and the connections the environment names (see environment.ts). */
export interface Settings extends Connections {
  home: string;
  configDir: string;
  app: AppConfig;
  llm: LlmConfig;
  /** Where each value came from, for `awet config` and error messages. */
  sources: Record<string, string>;
  /** The environment variables config reads, captured at load; only reloadSettings uses them. */
  readonly environment: Readonly<Record<string, string>>;
  paths: { db: string; approvalFile: string; logs: string; tmp: string; apiToken: string };
}

export interface LoadOptions {
  home?: string;
  configDir?: string;
  env?: Env;
}

/** Parse one value against its spec. `where` names the file or env var for the error message. */
export function coerce(key: string, spec: KeySpec, raw: unknown, where: string, fromEnv: boolean): unknown {
  const bad = (why: string) =>
    new ConfigError(`${where}: key '${key}' ${why} (got ${JSON.stringify(raw)})`);
  switch (spec.type) {
    case "bool": {
      if (typeof raw === "boolean") return raw;
      if (fromEnv && typeof raw === "string") {
        const v = raw.trim().toLowerCase();
        if (["true", "1", "yes", "on"].includes(v)) return true;
        if (["false", "0", "no", "off"].includes(v)) return false;
      }
      throw bad("must be true or false");
    }
    case "int":
    case "number": {
      let n: number;
      if (typeof raw === "number") n = raw;
      else if (fromEnv && typeof raw === "string" && raw.trim() !== "") n = Number(raw.trim());
      else throw bad(`must be a number`);
      if (!Number.isFinite(n)) throw bad("must be a finite number");
      if (spec.type === "int" && !Number.isInteger(n)) throw bad("must be a whole number");
      if (spec.min !== undefined) {
        const excl = spec.type === "number" && spec.exclusiveMin;
        if (excl ? n <= spec.min : n < spec.min) throw bad(`must be ${excl ? ">" : ">="} ${spec.min}`);
      }
      if (spec.max !== undefined && n > spec.max) throw bad(`must be <= ${spec.max}`);
      return n;
    }
    case "string": {
      if (typeof raw !== "string" || raw.trim() === "") throw bad("must be a non-empty string");
      if (spec.pattern && !spec.pattern.test(raw)) throw bad(`must match ${spec.pattern}`);
      return raw;
    }
    case "enum": {
      if (typeof raw !== "string" || !spec.values.includes(raw))
        throw bad(`must be one of ${spec.values.join(", ")}`);
      return raw;
    }
    case "symbols": {
      const list = typeof raw === "string" && fromEnv ? raw.split(",").map((s) => s.trim()).filter(Boolean) : raw;
      if (!Array.isArray(list) || list.length === 0) throw bad("must be a non-empty list of symbols");
      const out: string[] = [];
      for (const s of list) {
        if (typeof s !== "string" || !SYMBOL_RE.test(s))
          throw bad(`has an invalid symbol ${JSON.stringify(s)} (expected upper-case tickers like SPY)`);
        if (!out.includes(s)) out.push(s);
      }
      return out;
    }
    case "ints": {
      const list = typeof raw === "string" && fromEnv ? raw.split(",").map((s) => s.trim()) : raw;
      if (!Array.isArray(list) || list.length === 0) throw bad("must be a non-empty list of integers");
      const out: number[] = [];
      for (const v of list) {
        const n = typeof v === "string" && fromEnv && v !== "" ? Number(v) : v;
        if (typeof n !== "number" || !Number.isInteger(n) || (spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max))
          throw bad(`has ${JSON.stringify(v)}; expected integers${spec.min !== undefined ? ` >= ${spec.min}` : ""}${spec.max !== undefined ? ` and <= ${spec.max}` : ""}`);
        if (!out.includes(n)) out.push(n);
      }
      return out.sort((a, b) => a - b);
    }
    case "list": {
      const list = typeof raw === "string" && fromEnv ? raw.split(",").map((s) => s.trim()).filter(Boolean) : raw;
      if (!Array.isArray(list) || list.length === 0) throw bad(`must be a non-empty list of ${spec.values.join(", ")}`);
      const out: string[] = [];
      for (const s of list) {
        if (typeof s !== "string" || !spec.values.includes(s)) throw bad(`has an unknown value ${JSON.stringify(s)} (choose from ${spec.values.join(", ")})`);
        if (!out.includes(s)) out.push(s);
      }
      return out;
    }
    case "names": {
      const list = typeof raw === "string" && fromEnv ? raw.split(",").map((x) => x.trim()).filter(Boolean) : raw === null ? [] : raw;
      if (!Array.isArray(list)) throw bad("must be a list (YAML [a, b], or comma-separated in the environment)");
      for (const x of list) if (typeof x !== "string" || !spec.pattern.test(x)) throw bad(`has an invalid entry ${JSON.stringify(x)}`);
      return [...new Set(list as string[])];
    }
    case "speed": {
      if (raw === "max") return "max";
      const n = typeof raw === "number" ? raw : fromEnv && typeof raw === "string" ? Number(raw) : NaN;
      if (!Number.isFinite(n) || n <= 0) throw bad(`must be 'max' or a number > 0`);
      return n;
    }
  }
}

function readYamlMap(file: string): Record<string, unknown> {
  if (!existsSync(file)) return {};
  return parseYamlMap(readFileSync(file, "utf8"), file);
}

function parseYamlMap(text: string, file: string): Record<string, unknown> {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new ConfigError(`${file}: invalid YAML: ${e.message.split("\n")[0]}`);
  }
  const js = doc.toJS() as unknown;
  if (js === null || js === undefined) return {};
  if (typeof js !== "object" || Array.isArray(js)) throw new ConfigError(`${file}: top level must be a mapping of key: value`);
  return js as Record<string, unknown>;
}

function build<S extends Record<string, KeySpec>>(
  schema: S,
  file: string,
  env: Record<string, string | undefined>,
  aliases: Record<string, string>,
  sources: Record<string, string>,
  text?: string,
): Record<string, unknown> {
  const fromFile = text === undefined ? readYamlMap(file) : parseYamlMap(text, file);
  const errors: string[] = [];
  const out: Record<string, unknown> = {};
  // Own properties only: `constructor:`, `toString:` or `__proto__:` in a YAML file are unknown
  // keys, not the Object prototype's.
  for (const key of Object.keys(fromFile)) {
    if (!Object.hasOwn(schema, key)) {
      const near = Object.keys(schema).find((k) => k.replace(/_/g, "") === key.replace(/[_-]/g, "").toLowerCase());
      errors.push(`${file}: unknown key '${key}'${near ? ` (did you mean '${near}'?)` : ""}`);
    }
  }
  for (const [key, spec] of Object.entries(schema)) {
    try {
      let value: unknown = spec.default;
      let src = "default";
      if (Object.hasOwn(fromFile, key)) {
        value = coerce(key, spec, fromFile[key], file, false);
        src = file;
      }
      const envNames = [`AWET_${key.toUpperCase()}`, ...Object.entries(aliases).filter(([, k]) => k === key).map(([n]) => n)];
      for (const name of envNames) {
        const raw = env[name];
        if (raw !== undefined && raw !== "") {
          value = coerce(key, spec, raw, `environment variable ${name}`, true);
          src = `env ${name}`;
          break;
        }
      }
      out[key] = value;
      sources[key] = src;
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  if (errors.length) throw new ConfigError(errors.join("\n"));
  return out;
}

/** Validate the text of an app.yaml before it is written (throws a ConfigError naming key and file). */
export function validateAppText(text: string, file: string): AppConfig {
  return build(APP_SCHEMA, file, {}, {}, {}, text) as AppConfig;
}

export function resolveHome(opt?: string, env: Record<string, string | undefined> = process.env): string {
  return resolve(opt ?? env.AWET_HOME ?? process.cwd());
}

/** Config dir: --config / AWET_CONFIG_DIR, else <home>/config if present, else the bundled defaults. */
export function resolveConfigDir(home: string, opt?: string, env: Record<string, string | undefined> = process.env): string {
  const explicit = opt ?? env.AWET_CONFIG_DIR;
  if (explicit) {
    const dir = isAbsolute(explicit) ? explicit : resolve(explicit);
    if (!existsSync(dir)) throw new ConfigError(`config directory ${dir} does not exist`);
    return dir;
  }
  const inHome = join(home, "config");
  if (existsSync(join(inHome, "app.yaml")) || existsSync(join(inHome, "llm.yaml"))) return inHome;
  return join(packageRoot(), "config");
}

export function loadSettings(opts: LoadOptions = {}): Settings {
  const env = opts.env ?? process.env;
  const home = resolveHome(opts.home, env);
  const configDir = resolveConfigDir(home, opts.configDir, env);
  const sources: Record<string, string> = {};
  const app = build(APP_SCHEMA, join(configDir, "app.yaml"), env, {}, sources) as AppConfig;
  // DATABASE_URL selects PostgreSQL unless AWET_STORE says otherwise.
  if (env.DATABASE_URL && !env.AWET_STORE) {
    app.store = "postgres";
    sources.store = "env DATABASE_URL";
  }
  if (app.store === "postgres" && !env.DATABASE_URL)
    throw new ConfigError(`store: postgres (${sources.store}) needs DATABASE_URL=postgres://user:password@host:port/db`);
  // KAFKA_BROKERS, as the runbook's stack sets it, selects the Kafka bus unless AWET_BUS says otherwise.
  if (env.KAFKA_BROKERS && !env.AWET_BUS) {
    app.bus = "kafka";
    sources.bus = "env KAFKA_BROKERS";
  }
  if (app.bus === "kafka" && !env.KAFKA_BROKERS)
    throw new ConfigError(`bus: kafka (${sources.bus}) needs KAFKA_BROKERS=host:port[,host:port]`);
  const llm = build(LLM_SCHEMA, join(configDir, "llm.yaml"), env, LLM_ENV_ALIASES, sources) as LlmConfig;
  const tmp = join(home, ".tmp");
  return {
    home,
    configDir,
    app,
    llm,
    sources,
    ...connectionsFrom(env),
    environment: configInputs(env, Object.keys(LLM_ENV_ALIASES)),
    paths: {
      db: join(home, ".awet", "awet.db"),
      approvalFile: join(tmp, "APPROVE_EXECUTION"),
      logs: join(home, "logs"),
      tmp,
      apiToken: join(tmp, "api-token"),
    },
  };
}

/** This process's settings: <home>/.env (Alpaca keys and the like) fills in what the environment does not set. */
export function loadProcessSettings(o: { home?: string; configDir?: string } = {}, env: Env = process.env): Settings {
  loadDotenv(join(resolveHome(o.home, env), ".env"), env);
  return loadSettings({ home: o.home, configDir: o.configDir, env });
}

/**
 * The settings again from the files on disk (another config directory when given), against the
 * environment captured when `s` was loaded: what a running daemon's reload and the control
 * actions' reads see.
 */
export function reloadSettings(s: Settings, configDir = s.configDir): Settings {
  return loadSettings({ home: s.home, configDir, env: { ...s.environment } });
}

/** Defaults only (no files, no env): for tests and the bench. */
export function defaultApp(): AppConfig {
  const out: Record<string, unknown> = {};
  for (const [k, s] of Object.entries(APP_SCHEMA)) out[k] = Array.isArray(s.default) ? [...s.default] : s.default;
  return out as AppConfig;
}
