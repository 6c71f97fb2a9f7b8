import { UsageError } from "../core/errors";
import { wholeNumber } from "../core/parse";

export interface Parsed {
  positionals: string[];
  flags: Record<string, string | boolean>;
}

/**
 * A small, strict argument parser: `--name value`, `--name=value`, boolean `--flag`, and
 * positionals. Unknown flags are an error naming the flag.
 */
export function parseArgs(argv: string[], spec: { bool?: string[]; value?: string[] }): Parsed {
  const bool = new Set(spec.bool ?? []);
  const value = new Set(spec.value ?? []);
  const out: Parsed = { positionals: [], flags: {} };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      out.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith("--") || (a.startsWith("-") && a.length === 2 && a !== "-")) {
      const body = a.startsWith("--") ? a.slice(2) : a.slice(1);
      const eq = body.indexOf("=");
      const name = eq >= 0 ? body.slice(0, eq) : body;
      if (bool.has(name)) {
        if (eq >= 0) throw new UsageError(`flag --${name} takes no value`);
        out.flags[name] = true;
      } else if (value.has(name)) {
        const v = eq >= 0 ? body.slice(eq + 1) : argv[++i];
        if (v === undefined || v === "") throw new UsageError(`flag --${name} needs a value`);
        out.flags[name] = v;
      } else throw new UsageError(`unknown flag ${a}`);
    } else out.positionals.push(a);
  }
  return out;
}

export function intFlag(p: Parsed, name: string, def: number, min: number, max: number): number {
  const v = p.flags[name];
  if (v === undefined) return def;
  const n = wholeNumber(typeof v === "string" ? v : String(v));
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be a whole number ${min}..${max}; got '${String(v)}'`);
  return n;
}

export function speedFlag(p: Parsed, def: number | "max"): number | "max" {
  const v = p.flags.speed;
  if (v === undefined) return def;
  if (v === "max") return "max";
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--speed must be 'max' or a number > 0; got '${String(v)}'`);
  return n;
}
