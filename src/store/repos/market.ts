import type { Bar, Envelope } from "../../core/events";
import { Where, type Db } from "../db";
import type { AuditRepository, AuditRow, BarRepository } from "../port";

/** Market bars: appended through the batched writer, read by time. */
export function barRepository(db: Db): BarRepository {
  const bars = db.codec<Bar & { source: string }>("market_bars");
  const asBar = bars.decoder(["symbol", "ts", "open", "high", "low", "close", "volume"]);
  const asClose = bars.decoder(["symbol", "ts", "close"]);
  const between = (from: number, to: number) => new Where(bars).cmp("ts", ">=", from).cmp("ts", "<", to);
  return {
    appendBars: (rows, source) => db.append("market_bars", rows, { source }),
    async barCloses(from, to) {
      await db.settle();
      const w = between(from, to);
      return (await db.all("barCloses", `SELECT symbol, ts, close FROM market_bars ${w} ORDER BY ts, symbol`, w.params)).map((r) => {
        const b = asClose(r);
        return { symbol: b.symbol, ts: b.ts, price: b.close };
      });
    },
    async barsBetween(from, to) {
      await db.settle();
      const w = between(from, to);
      return (await db.all("barsBetween", `SELECT symbol, ts, open, high, low, close, volume FROM market_bars ${w} ORDER BY ts, symbol`, w.params)).map(asBar);
    },
    async latestBarTs() {
      await db.settle();
      const [r] = await db.all("latestBarTs", "SELECT MAX(ts) AS t FROM market_bars");
      return (bars.read("ts", r?.t) as number | null) ?? null;
    },
  };
}

/**
 * The audit trail. Rows of one correlation id are listed by time, then by `seq`, the order they
 * were written in: one bar's events share its time, and the chain must show them in order.
 */
export function auditRepository(db: Db): AuditRepository {
  const audit = db.codec<AuditRow>("audit_events");
  return {
    appendAudit: (events: Envelope[]) =>
      db.append(
        "audit_events",
        events.map((e) => ({ event_id: e.id, ts: e.ts, correlation_id: e.correlation_id, event_type: e.type, source: e.source, symbol: e.symbol, payload: e.payload })),
      ),
    async auditByCorrelation(correlationId) {
      await db.settle();
      return (await db.all("auditByCorrelation", "SELECT * FROM audit_events WHERE correlation_id = ? ORDER BY ts, seq", [correlationId])).map(audit.decode);
    },
    async recentAudit(correlationId, limit) {
      await db.settle();
      return (await db.all("recentAudit", "SELECT * FROM audit_events WHERE correlation_id = ? ORDER BY ts DESC, seq DESC LIMIT ?", [correlationId, limit])).map(audit.decode);
    },
    async countAudit(eventType) {
      await db.settle();
      const w = new Where(audit).eq("event_type", eventType);
      const [r] = await db.all("countAudit", `SELECT COUNT(*) AS n FROM audit_events ${w}`, w.params);
      return Number(r!.n);
    },
  };
}
