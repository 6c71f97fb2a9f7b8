import { excludedSet, valuesList, type Db } from "../db";
import type { DailyPnlRow, PnlRepository, Position, PositionRepository, TradeRow } from "../port";
import { tradePatchStatement } from "./trades";

/** Positions, one row per symbol. */
export function positionRepository(db: Db): PositionRepository {
  const positions = db.codec<Position>("positions");
  const trades = db.codec<TradeRow>("trades");
  const cols = positions.insertColumns;
  const upsert = `INSERT INTO positions (${cols.join(", ")}) VALUES ${valuesList(1, cols.length)}
    ON CONFLICT (symbol) DO UPDATE SET ${excludedSet(cols.filter((c) => c !== "symbol"))}`;
  // `inherited` is present only when set, as positions built from fills have no flag
  const decode = (r: Record<string, unknown>): Position => {
    const p = positions.decode(r);
    if (!p.inherited) delete p.inherited;
    return p;
  };
  return {
    positions: async () => (await db.all("positions", "SELECT * FROM positions ORDER BY symbol")).map(decode),
    async getPosition(symbol) {
      const [r] = await db.all("getPosition", "SELECT * FROM positions WHERE symbol = ?", [symbol]);
      return r ? decode(r) : null;
    },
    async upsertPosition(p) {
      await db.run("upsertPosition", upsert, positions.values(p));
    },
    async recordFill(id, patch, p) {
      await db.settle("trades");
      const u = tradePatchStatement(trades, id, patch);
      await db.atomic("recordFill", [...(u ? [u] : []), { sql: upsert, params: positions.values(p) }]);
    },
  };
}

/** The end-of-day PnL summaries, one row per date. */
export function pnlRepository(db: Db): PnlRepository {
  const pnl = db.codec<DailyPnlRow>("daily_pnl_summary");
  const cols = pnl.insertColumns;
  const upsert = `INSERT INTO daily_pnl_summary (${cols.join(", ")}) VALUES ${valuesList(1, cols.length)}
    ON CONFLICT (report_date) DO UPDATE SET ${excludedSet(cols.filter((c) => c !== "report_date"))}`;
  return {
    async saveDailyPnl(r) {
      await db.run("saveDailyPnl", upsert, pnl.values(r));
    },
    listDailyPnl: async (limit) => (await db.all("listDailyPnl", "SELECT * FROM daily_pnl_summary ORDER BY report_date DESC LIMIT ?", [limit])).map(pnl.decode),
  };
}
