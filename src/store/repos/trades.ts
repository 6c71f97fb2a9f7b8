import { StoreError } from "../../core/errors";
import { round6 } from "../../core/money";
import type { TableCodec } from "../codec";
import { Where, type Db, type Statement } from "../db";
import { OPEN_STATUSES, type OrderStats, type TradePatch, type TradeRepository, type TradeRow } from "../port";

const OPEN = OPEN_STATUSES.map((s) => `'${s}'`).join(", ");
const PLACED = "status NOT IN ('blocked', 'rejected')";

/**
 * What the throttle gates need to know about past orders, in one pass over the placed rows. Plain
 * CASE sums, which both dialects read the same way.
 */
const ORDER_STATS = `SELECT
    SUM(CASE WHEN ts >= ? THEN 1 ELSE 0 END) AS orders_since,
    SUM(CASE WHEN symbol = ? AND ts >= ? THEN 1 ELSE 0 END) AS symbol_since,
    SUM(CASE WHEN status IN (${OPEN}) THEN 1 ELSE 0 END) AS open_orders,
    MAX(CASE WHEN symbol = ? THEN ts END) AS last_symbol_ts,
    SUM(CASE WHEN status IN (${OPEN}) AND side = 'buy' THEN (qty - filled_qty) * price ELSE 0 END) AS pending_buy,
    SUM(CASE WHEN status IN (${OPEN}) AND side = 'buy' AND symbol = ? THEN (qty - filled_qty) * price ELSE 0 END) AS pending_symbol_buy
  FROM trades WHERE ${PLACED}`;

/** The UPDATE of a trade patch (fields left undefined are not changed); null when it changes nothing. */
export function tradePatchStatement(trades: TableCodec<TradeRow>, id: number, patch: TradePatch): Statement | null {
  const keys = Object.keys(patch).filter((k) => (patch as Record<string, unknown>)[k] !== undefined && k !== "id");
  if (keys.length === 0) return null;
  const params = keys.map((k) => trades.value(k, (patch as Record<string, unknown>)[k]));
  return { sql: `UPDATE trades SET ${keys.map((k) => `${k} = ?`).join(", ")} WHERE id = ?`, params: [...params, id], mustChange: `trade ${id} not found` };
}

/** Trade rows: the write-ahead insert, buffered blocked rows, patches and the reads of the gates and reports. */
export function tradeRepository(db: Db): TradeRepository {
  const trades = db.codec<TradeRow>("trades");
  const n = (x: unknown) => Number(x ?? 0);
  return {
    async insertTrade(t) {
      const r = await db.writeAhead(t);
      if (r) return trades.decode(r);
      // The key has a row. If it is this very attempt — committed, but the reply was lost with the
      // connection, so the retried statement found it — it is ours: same run, correlation and wall
      // time of the attempt (a redelivered intent is a new attempt with a new wall time).
      if (t.submit_wall_at === undefined || t.submit_wall_at === null) return null;
      const [x] = await db.all("insertTrade", "SELECT * FROM trades WHERE idempotency_key = ?", [t.idempotency_key]);
      const had = x ? trades.decode(x) : null;
      return had && had.submit_wall_at === t.submit_wall_at && had.run_id === t.run_id && had.correlation_id === t.correlation_id && had.status === t.status ? had : null;
    },
    appendTrades: (rows) => db.append("trades", rows),
    async updateTrade(id, patch) {
      await db.settle("trades");
      const u = tradePatchStatement(trades, id, patch);
      if (!u) return;
      const changed = await db.run("updateTrade", u.sql, u.params);
      if (changed === 0) throw new StoreError(u.mustChange!, "updateTrade");
    },
    async getTrade(id) {
      await db.settle("trades");
      const [r] = await db.all("getTrade", "SELECT * FROM trades WHERE id = ?", [id]);
      return r ? trades.decode(r) : null;
    },
    async getTradeByKey(key) {
      await db.settle("trades");
      const [r] = await db.all("getTradeByKey", "SELECT * FROM trades WHERE idempotency_key = ?", [key]);
      return r ? trades.decode(r) : null;
    },
    async listTrades(f = {}) {
      await db.settle("trades");
      const w = new Where(trades)
        .eq("status", f.status).eq("symbol", f.symbol).eq("correlation_id", f.correlation_id).eq("alpaca_order_id", f.alpaca_order_id)
        .cmp("ts", ">=", f.since).when(f.adopted, "adopted_at IS NOT NULL");
      return (await db.all("listTrades", `SELECT * FROM trades ${w} ORDER BY ts DESC, id DESC LIMIT ?`, [...w.params, f.limit ?? 100])).map(trades.decode);
    },
    async orderStats(symbol, minuteStart, dayStart): Promise<OrderStats> {
      await db.settle("trades");
      const ts = (t: number) => trades.value("ts", t);
      const [r] = await db.all("orderStats", ORDER_STATS, [ts(minuteStart), symbol, ts(dayStart), symbol, symbol]);
      return {
        ordersSince: n(r!.orders_since),
        symbolOrdersSince: n(r!.symbol_since),
        openOrders: n(r!.open_orders),
        lastSymbolOrderTs: (trades.read("ts", r!.last_symbol_ts) as number | null) ?? null,
        pendingBuyNotional: round6(n(r!.pending_buy)),
        pendingSymbolBuyNotional: round6(n(r!.pending_symbol_buy)),
      };
    },
    async placedTradesSince(since) {
      await db.settle("trades");
      const w = new Where(trades).cmp("ts", ">=", since).when(true, PLACED);
      return (await db.all("placedTradesSince", `SELECT * FROM trades ${w} ORDER BY ts, id`, w.params)).map(trades.decode);
    },
  };
}
