#!/usr/bin/env bun
import { AwetError, errorMessage } from "./core/errors";
import { doctorCommand, healthCommand, opsCommand, portalsCommand } from "./cli/ops";
import { replayCommand } from "./cli/replay";
import { runsCommand } from "./cli/runs";
import { startCommand } from "./cli/start";
import { tradesCommand } from "./cli/trades";
import { dbCommand } from "./cli/db";
import { agentsCommand } from "./cli/agents";
import { jobsCommand } from "./cli/jobs";
import { modelCommand } from "./cli/model";
import { pnlCommand } from "./cli/pnl";
import { llmCommand, tradeChainCommand } from "./cli/llm";
import { portfolioCommand, positionsCommand, reconcileCommand, verifyAlpacaCommand } from "./cli/broker";
import { approveCommand, exitCommand, haltCommand, paperCommand, resumeCommand, revokeCommand } from "./cli/control";
import { VERSION } from "./version";
import { terminalSafe } from "./core/text";

const HELP = `awet ${VERSION} — self-hosted, safety-first, LLM-assisted PAPER trading (no real money, ever)

Usage: awet <command> [options]     (awet <command> --help for details)

Commands:
  start              run the daemon: HTTP API + agent pipeline; replays the bundled data by default
  replay PATH...     backtest: run the pipeline over CSV bar files/directories (--from, --to,
                     --symbols, --label), print a summary and the results, store the run
  runs list|show|compare|plot  stored replays: results, config differences, the equity curve
  health             check store, every process of the deployment, bus, broker, LLM and the daemon's agents (exit 0 healthy, 1 not)
  doctor             health plus config, file permissions, free disk, clock skew, with fixes
  portals            URLs of the daemon and of the compose services
  ops snapshot       pending orders, positions, exposure vs caps, trading state, last errors
  trades             list trade rows (--status S, --limit N, --json)
  paper on|off|status  enable / disable paper trading (dry run + approval file) or show it
  approve | revoke   create / remove the approval file .tmp/APPROVE_EXECUTION
  halt [--reducing]  trading state HALTED (nothing) or REDUCING (only position-shrinking orders)
  resume             trading state ACTIVE
  exit run|watch|on|off  exit logic: evaluate positions now / every interval, or switch it
  reconcile --once|--watch|--eod  reconcile orders (and positions) with the broker (Alpaca)
  positions [--watch]  sync positions from the broker and print the book
  portfolio          print the book from the database
  verify-alpaca      check the Alpaca paper keys and account (the secret is never printed)
  db migrate|check|copy-to-postgres  schema migrations, schema check, move SQLite to PostgreSQL
  pnl today|week|watch|save|eod [--date D]  FIFO PnL reports and the end-of-day job
  jobs list|run NAME|runs  the scheduled jobs (night_trainer, morning_deployer, trade_watchdog, orchestrator, eod,
                     reconcile, positions_sync)
  agents             the pipeline's agents (ingestion, features, prediction, risk, execution, exit, watchtower)
  model train|eval|list|show|promote V|rollback|walkforward DIR  the forecasters (TFT, linear) and their registry
  llm last|follow|summary  LLM traces (--agent, --model, --since, --status, --json)
  trade-chain --corr ID | --order ID | --trade ID  from an order back to its bar and LLM prompt

Global options:
  --home DIR         where state lives (default: AWET_HOME or the current directory):
                     <home>/.awet/awet.db, <home>/.tmp/APPROVE_EXECUTION, <home>/logs/
  --config DIR       config directory (default: <home>/config if present, else the bundled config/)
  --version          print the version
  --help             this text`;

const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  start: startCommand,
  replay: replayCommand,
  runs: runsCommand,
  health: healthCommand,
  doctor: doctorCommand,
  portals: portalsCommand,
  ops: opsCommand,
  trades: tradesCommand,
  paper: paperCommand,
  approve: approveCommand,
  revoke: revokeCommand,
  halt: haltCommand,
  resume: resumeCommand,
  exit: exitCommand,
  reconcile: reconcileCommand,
  positions: positionsCommand,
  portfolio: portfolioCommand,
  "verify-alpaca": verifyAlpacaCommand,
  db: dbCommand,
  llm: llmCommand,
  pnl: pnlCommand,
  agents: agentsCommand,
  jobs: jobsCommand,
  model: modelCommand,
  "trade-chain": tradeChainCommand,
};

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === "--help" || cmd === "-h" || cmd === "help") {
    if (cmd === "help" && rest[0] && COMMANDS[rest[0]]) return COMMANDS[rest[0]]!(["--help"]);
    process.stdout.write(HELP + "\n");
    return cmd === undefined ? 2 : 0;
  }
  if (cmd === "--version" || cmd === "-v" || cmd === "version") {
    process.stdout.write(`awet ${VERSION}\n`);
    return 0;
  }
  const run = COMMANDS[cmd];
  if (!run) {
    process.stderr.write(`awet: unknown command '${terminalSafe(String(cmd))}'. Run 'awet --help' for the list.\n`);
    return 2;
  }
  try {
    return await run(rest);
  } catch (e) {
    if (e instanceof AwetError) {
      process.stderr.write(`awet ${cmd}: ${terminalSafe(e.message)}\n`);
      return e.exitCode;
    }
    process.stderr.write(terminalSafe(`awet ${cmd}: unexpected error: ${errorMessage(e)}\n${(e as Error)?.stack ?? ""}\n`));
    return 1;
  }
}

if (import.meta.main) {
  // A reader that stops early (`awet portals | head`) closes the pipe: that ends the command
  // quietly, as with any Unix tool, instead of a stack trace.
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(0);
    throw e;
  });
  const code = await main(process.argv.slice(2));
  // `start` never returns normally; everything else exits with its code once output is flushed.
  process.exitCode = code;
  if (code !== 0) process.exit(code);
}
