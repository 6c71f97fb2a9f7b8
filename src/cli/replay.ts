import { Supervisor, runSeed } from "../agents/supervisor";
import { makeLogger } from "../obs/log";
import { parseArgs, speedFlag } from "./args";
import { GLOBAL_VALUE_FLAGS, out, resolveDataPath, settingsFrom } from "./common";
import { summaryJson, summaryText } from "./summary";
import { UsageError } from "../core/errors";
import { codeVersion, effectiveConfig, fileHashes, planReplay, replayHints, runResults } from "../ops/backtest";
import { renderResults } from "../reports/runs";
import { Progress } from "./progress";

export const REPLAY_HELP = `Usage: awet replay PATH... [--from DATE] [--to DATE] [--symbols A,B] [--label TEXT]
                   [--speed max|N] [--json] [--quiet] [--home DIR] [--config DIR]

Runs the whole pipeline (DataIngestion → FeatureEngineering → Prediction → Risk → Execution) over
CSV bar files or directories of them as a backtest: stores every step under the home, prints a
summary and the results (return, drawdown, Sharpe, ... against buy and hold), stores the run for
\`awet runs\`, and exits 0.

  PATH           CSV files or directories (*.csv). Formats: ts,symbol,open,high,low,close,volume
                 (ISO-8601 UTC) or date,symbol,open,high,low,close,volume (daily bars).
                 Without PATH, replay_path from config/app.yaml.
  --symbols A,B  trade only these symbols (each must have bars in the files); bars of the others
                 are rejected as unknown_symbol. Default: every symbol in the files (the daemon,
                 by contrast, keeps the configured symbols)
  --from DATE    first day replayed: YYYY-MM-DD (New York date) or an ISO time
  --to DATE      last day replayed, inclusive
  --label TEXT   a name for the run in \`awet runs list\`
  --speed S      'max' (default: no waiting) or N: market time runs N times faster than real time
  --json         print {summary keys..., hints, results} as JSON (bars_read, bars_processed,
                 bars_rejected, rejected_by_reason, orders_submitted, orders_blocked,
                 blocked_by_reason, fills, elapsed_ms, bars_per_sec, ...; results: see README)
  --quiet        no progress line
  --home DIR     where state lives (default: AWET_HOME or the current directory)

Starting equity is sim_account_equity_usd; fills come from the simulated paper broker at the next
bar's open ± sim_slippage_bps once paper trading is on (\`awet paper on\`); with the default
execution_dry_run every order is blocked and the results are flat.

A bad row is rejected with a reason and the run goes on; a missing file stops it with exit 1. An
unknown --symbols entry, --from after --to, or a range with no bars stops it with exit 2 before
anything is written.`;

export async function replayCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { bool: ["json", "help", "quiet"], value: [...GLOBAL_VALUE_FLAGS, "speed", "from", "to", "symbols", "label"] });
  if (p.flags.help) return out(REPLAY_HELP), 0;
  const settings0 = settingsFrom(p);
  const speed = speedFlag(p, "max");
  const paths = p.positionals.length ? p.positionals : [resolveDataPath(settings0.app.replay_path, settings0.home)];
  if (paths.some((x) => x.startsWith("-"))) throw new UsageError(`unexpected argument ${paths.find((x) => x.startsWith("-"))}`);
  const label = p.flags.label as string | undefined;
  if (label !== undefined && label.length > 200) throw new UsageError(`--label must be at most 200 characters; got ${label.length}`);
  // Everything is checked before the store, the logs or the run counter are touched.
  const plan = planReplay(paths, {
    from: p.flags.from as string | undefined, to: p.flags.to as string | undefined, symbols: p.flags.symbols as string | undefined,
    speed, factorDir: resolveDataPath(settings0.app.factor_files_dir, settings0.home),
  });
  // A replay of files trades the symbols in them (or those of --symbols).
  const settings = { ...settings0, app: { ...settings0.app, symbols: plan.symbols.length ? plan.symbols : settings0.app.symbols } };
  const dataFiles = fileHashes(plan.src.files);
  const { config, hash } = effectiveConfig(settings);
  const log = makeLogger({ logsDir: settings.paths.logs, level: settings.app.log_level, stderr: false });
  const sup = new Supervisor({ settings, log });
  const startedAt = Date.now();
  try {
    await sup.init(runSeed(paths, settings));
    if (sup.reconciler) {
      const r = await sup.startupReconcile();
      if (!r.ok) process.stderr.write(`start-up reconciliation failed (${r.error}): orders stay blocked as 'reconciling'\n`);
    }
    // Orders of earlier replays in this home at the same market times count against this run's
    // throttles, cooldowns and positions: say so, since such a run does not compare cleanly.
    const earlier = plan.period ? (await sup.store.placedTradesSince(plan.period.from)).filter((t) => t.ts <= plan.period!.to && t.run_id !== sup.runId).length : 0;
    const held = (await sup.store.positions()).filter((x) => x.qty !== 0).map((x) => x.symbol);
    const prior = earlier || held.length
      ? [`this home already held ${earlier ? `${earlier.toLocaleString("en-US")} orders of earlier runs in this period` : ""}${earlier && held.length ? " and " : ""}${held.length ? `open positions (${held.join(", ")})` : ""}: their throttles, cooldowns and positions apply to this run too, so it does not compare cleanly with them — replay each configuration into a fresh --home`]
      : [];
    if (prior.length && !p.flags.json) process.stderr.write(`warning: ${prior[0]}\n`);
    const progress = p.flags.json || p.flags.quiet ? null : new Progress({ write: (s) => process.stderr.write(s), tty: Boolean(process.stderr.isTTY), now: () => performance.now() });
    const summary = await sup.runSource(plan.src, { onProgress: progress ? (pr) => progress.update(pr.read, pr.total) : undefined });
    progress?.end(summary.bars_read);
    if (sup.reconciler) {
      // One last cycle so the summary's rows carry the broker's answers.
      await sup.reconciler.reconcileOrders().catch(() => undefined);
      await sup.reconciler.reconcilePositions().catch(() => undefined);
    }
    const results = await runResults(sup.store, sup.runId, plan, settings);
    const hints = [...prior, ...replayHints(summary, plan, settings.home)];
    const base = summaryJson(summary);
    await sup.store.saveBacktestRun({
      id: sup.runId, label: label ?? null, started_at: startedAt, finished_at: Date.now(), symbols: plan.symbols,
      range_from: plan.range.from, range_to: plan.range.to, data_files: dataFiles, config, config_hash: hash,
      code_version: codeVersion(), summary: { ...base, bars_outside_range: plan.src.outsideRange, hints }, results: { ...results },
    });
    if (p.flags.json) out(JSON.stringify({ ...base, label: label ?? null, symbols: plan.symbols, bars_outside_range: plan.src.outsideRange, hints, results }, null, 2));
    else {
      const extra = [`  symbols           ${plan.symbols.join(", ")}${plan.src.outsideRange ? `   (${plan.src.outsideRange.toLocaleString("en-US")} rows outside --from/--to not replayed)` : ""}`];
      out([summaryText(summary), ...extra, ...hints.map((h) => `  hint: ${h}`), "", renderResults(results), "", `Stored as run ${sup.runId}${label ? ` "${label}"` : ""}: awet runs show ${sup.runId} | awet runs plot ${sup.runId} --out equity.svg`].join("\n"));
    }
    log.info({ summary: base, run_id: sup.runId, return_pct: results.return_pct }, "REPLAY_SUMMARY");
  } finally {
    await sup.close();
    log.flush?.();
  }
  return 0;
}
