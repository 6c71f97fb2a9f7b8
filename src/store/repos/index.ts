/**
 * The repositories, one per concern, written once over the `Db` an adapter provides
 * (src/store/db.ts): the SQL here is what both dialects accept.
 */
import type { Db } from "../db";
import type { Repositories, StoreCounts } from "../port";
import { positionRepository, pnlRepository } from "./book";
import { auditRepository, barRepository } from "./market";
import { backtestRunRepository, deadLetterRepository, jobRunRepository, llmTraceRepository, modelRepository, stateRepository } from "./records";
import { tradeRepository } from "./trades";
import { watchRepository } from "./watch";

export { auditRepository, backtestRunRepository, barRepository, deadLetterRepository, jobRunRepository, llmTraceRepository, modelRepository };
export { pnlRepository, positionRepository, stateRepository, tradeRepository, watchRepository };

/** Every repository over one database. */
export function repositories(db: Db): Repositories {
  return {
    ...barRepository(db),
    ...auditRepository(db),
    ...tradeRepository(db),
    ...positionRepository(db),
    ...llmTraceRepository(db),
    ...pnlRepository(db),
    ...modelRepository(db),
    ...jobRunRepository(db),
    ...backtestRunRepository(db),
    ...stateRepository(db),
    ...deadLetterRepository(db),
    ...watchRepository(db),
  };
}

/** Row counts of the main tables (`awet status`, /health). */
export async function storeCounts(db: Db): Promise<StoreCounts> {
  await db.settle();
  const one = async (table: string) => Number((await db.all("counts", `SELECT COUNT(*) AS n FROM ${table}`))[0]!.n);
  const by: Record<string, number> = {};
  for (const r of await db.all("counts", "SELECT status, COUNT(*) AS n FROM trades GROUP BY status")) by[r.status] = Number(r.n);
  return {
    market_bars: await one("market_bars"),
    audit_events: await one("audit_events"),
    trades: await one("trades"),
    trades_by_status: by,
    dead_letters: await one("dead_letters"),
  };
}
