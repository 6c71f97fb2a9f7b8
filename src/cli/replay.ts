import { Supervisor, runSeed } from "../agents/supervisor";
import { ReplaySource } from "../market/replay";
import { makeLogger } from "../obs/log";
import { parseArgs, speedFlag } from "./args";
import { GLOBAL_VALUE_FLAGS, out, resolveDataPath, settingsFrom } from "./common";
import { summaryJson, summaryText } from "./summary";
import { UsageError } from "../core/errors";

export const REPLAY_HELP = `Usage: awet replay PATH... [--speed max|N] [--json] [--home DIR] [--config DIR]

Runs the whole pipeline (DataIngestion → FeatureEngineering → Prediction → Risk → Execution) over
CSV bar files or directories of them, stores every step under the home, prints a summary and exits 0.

  PATH          CSV files or directories (*.csv). Formats: ts,symbol,open,high,low,close,volume
                (ISO-8601 UTC) or date,symbol,open,high,low,close,volume (daily bars).
                Without PATH, replay_path from config/app.yaml.
  --speed S     'max' (default: no waiting) or N: market time runs N times faster than real time
  --json        print the summary as JSON (bars_read, bars_processed, bars_rejected,
                rejected_by_reason, orders_submitted, orders_blocked, blocked_by_reason, fills,
                elapsed_ms, bars_per_sec, ...)
  --home DIR    where state lives (default: AWET_HOME or the current directory)

A bad row is rejected with a reason and the run goes on; a missing file stops it with exit 1.`;

export async function replayCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { bool: ["json", "help", "quiet"], value: [...GLOBAL_VALUE_FLAGS, "speed"] });
  if (p.flags.help) return out(REPLAY_HELP), 0;
  const settings = settingsFrom(p);
  const speed = speedFlag(p, "max");
  const paths = p.positionals.length ? p.positionals : [resolveDataPath(settings.app.replay_path, settings.home)];
  if (paths.some((x) => x.startsWith("-"))) throw new UsageError(`unexpected argument ${paths.find((x) => x.startsWith("-"))}`);
  const src = new ReplaySource(paths, speed, undefined, resolveDataPath(settings.app.factor_files_dir, settings.home));
  const log = makeLogger({ logsDir: settings.paths.logs, level: settings.app.log_level, stderr: false });
  const sup = new Supervisor({ settings, log });
  try {
    await sup.init(runSeed(paths, settings));
    if (sup.reconciler) {
      const r = await sup.startupReconcile();
      if (!r.ok) process.stderr.write(`start-up reconciliation failed (${r.error}): orders stay blocked as 'reconciling'\n`);
    }
    const quiet = Boolean(p.flags.json || p.flags.quiet) || !process.stderr.isTTY;
    const summary = await sup.runSource(src, {
      onProgress: quiet ? undefined : (pr) => process.stderr.write(`\r  ${pr.read.toLocaleString("en-US")} / ${(pr.total ?? 0).toLocaleString("en-US")} bars`),
    });
    if (!quiet) process.stderr.write("\r" + " ".repeat(40) + "\r");
    if (sup.reconciler) {
      // One last cycle so the summary's rows carry the broker's answers.
      await sup.reconciler.reconcileOrders().catch(() => undefined);
      await sup.reconciler.reconcilePositions().catch(() => undefined);
    }
    out(p.flags.json ? JSON.stringify(summaryJson(summary), null, 2) : summaryText(summary));
    log.info({ summary: summaryJson(summary) }, "REPLAY_SUMMARY");
  } finally {
    await sup.close();
    log.flush?.();
  }
  return 0;
}
