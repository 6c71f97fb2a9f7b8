import { AGENT_DESCRIPTIONS, AGENT_NAMES } from "../agents/pipeline";
import { UsageError } from "../core/errors";
import { parseArgs } from "./args";
import { GLOBAL_VALUE_FLAGS, out } from "./common";

const LIST = AGENT_NAMES.map((n) => `  ${n.padEnd(12)} ${AGENT_DESCRIPTIONS[n]}`).join("\n");

export const AGENTS_HELP = `Usage: awet agents [list] [--json]

The pipeline's agents (what \`awet start --agents LIST\` can split across processes):
${LIST}

Scheduled things are jobs: \`awet jobs list | run NAME | runs\`.`;

/** `awet agents`: the pipeline's agents; the scheduled jobs moved to `awet jobs`. */
export async function agentsCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { bool: ["help", "json"], value: GLOBAL_VALUE_FLAGS });
  if (p.flags.help) return out(AGENTS_HELP), 0;
  const sub = p.positionals[0];
  if (sub === undefined || sub === "list") {
    if (p.flags.json) out(JSON.stringify(AGENT_NAMES.map((name) => ({ name, description: AGENT_DESCRIPTIONS[name] })), null, 2));
    else out(LIST);
    return 0;
  }
  if (sub === "run" || sub === "runs") throw new UsageError(`${sub}: scheduled jobs are \`awet jobs ${sub}\` now (awet jobs --help); \`awet agents\` lists the pipeline's agents`);
  throw new UsageError(`awet agents: expected list; got '${sub}' (scheduled jobs: awet jobs)`);
}
