import { mkdirSync } from "node:fs";
import { join } from "node:path";
import pino, { type Logger } from "pino";

export type { Logger };

/**
 * One JSON line per record to <home>/logs/awet.log; warnings and errors also to stderr so an
 * operator at the terminal sees them.
 */
export function makeLogger(opts: { logsDir?: string; level?: string; name?: string; stderr?: boolean }): Logger {
  const streams: pino.StreamEntry[] = [];
  if (opts.logsDir) {
    mkdirSync(opts.logsDir, { recursive: true });
    streams.push({ level: (opts.level ?? "info") as pino.Level, stream: pino.destination({ dest: join(opts.logsDir, `${opts.name ?? "awet"}.log`), sync: true, mkdir: true }) });
  }
  if (opts.stderr !== false) streams.push({ level: "warn", stream: pino.destination({ dest: 2, sync: true }) });
  if (streams.length === 0) return pino({ level: "silent" });
  return pino({ level: opts.level ?? "info", base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, pino.multistream(streams));
}

export const silentLogger: Logger = pino({ level: "silent" });
