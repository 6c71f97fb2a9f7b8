import { ensurePrivateFile } from "../ops/trust";
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
    // Logs carry LLM trace previews: 0600 in a 0700 folder whatever the umask.
    const file = join(opts.logsDir, `${opts.name ?? "awet"}.log`);
    ensurePrivateFile(file);
    streams.push({ level: (opts.level ?? "info") as pino.Level, stream: pino.destination({ dest: file, sync: true }) });
  }
  if (opts.stderr !== false) streams.push({ level: "warn", stream: pino.destination({ dest: 2, sync: true }) });
  if (streams.length === 0) return pino({ level: "silent" });
  return pino({ level: opts.level ?? "info", base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, pino.multistream(streams));
}

export const silentLogger: Logger = pino({ level: "silent" });
