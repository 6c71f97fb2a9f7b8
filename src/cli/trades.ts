import { openStore } from "../compose/adapters";
import type { TradeStatus } from "../store/port";
import { TRADE_STATUSES } from "../store/port";
import { tradeJson } from "../ops/trades";
import { UsageError } from "../core/errors";
import { intFlag, parseArgs } from "./args";
import { GLOBAL_VALUE_FLAGS, out, settingsFrom } from "./common";
import { existsSync } from "node:fs";
import { oneLine } from "../core/text";

export const TRADES_HELP = `Usage: awet trades [--status S] [--symbol SYM] [--limit N] [--json] [--home DIR]

Lists trade rows from the store under the home, newest first (default 20).
  --status S   one of ${TRADE_STATUSES.join(", ")}
  --symbol SYM only this symbol
  --limit N    1..1000 rows`;

export async function tradesCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { bool: ["json", "help"], value: [...GLOBAL_VALUE_FLAGS, "status", "limit", "symbol"] });
  if (p.flags.help) return out(TRADES_HELP), 0;
  const status = p.flags.status as string | undefined;
  if (status !== undefined && !TRADE_STATUSES.includes(status as TradeStatus))
    throw new UsageError(`--status must be one of ${TRADE_STATUSES.join(", ")}; got '${status}'`);
  const limit = intFlag(p, "limit", 20, 1, 1000);
  const s = settingsFrom(p);
  if (s.app.store === "sqlite" && !existsSync(s.paths.db)) {
    if (p.flags.json) out("[]");
    else out(`no database at ${s.paths.db} yet (run awet start or awet replay first)`);
    return 0;
  }
  const store = await openStore(s);
  try {
    const rows = await store.listTrades({ status: status as TradeStatus | undefined, limit, symbol: p.flags.symbol as string | undefined });
    if (p.flags.json) {
      out(JSON.stringify(rows.map(tradeJson), null, 2));
      return 0;
    }
    if (rows.length === 0) return out("no trades" + (status ? ` with status ${status}` : "")), 0;
    const pad = (x: unknown, w: number) => String(x ?? "").padEnd(w).slice(0, w);
    out(`${pad("id", 6)} ${pad("ts (UTC)", 20)} ${pad("symbol", 6)} ${pad("side", 4)} ${pad("qty", 6)} ${pad("price", 10)} ${pad("status", 14)} ${pad("fill", 10)} reason`);
    for (const t of rows)
      out(
        `${pad(t.id, 6)} ${pad(new Date(t.ts).toISOString().slice(0, 19), 20)} ${pad(t.symbol, 6)} ${pad(t.side, 4)} ${pad(t.qty, 6)} ${pad(t.price?.toFixed(2), 10)} ${pad(t.status, 14)} ${pad(t.avg_fill_price?.toFixed(2), 10)} ${oneLine(t.error_message ?? "")}`,
      );
  } finally {
    await store.close();
  }
  return 0;
}
