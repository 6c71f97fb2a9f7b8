import { Elysia, t } from "elysia";
import { pnlForDate, pnlToday, pnlWeek } from "../ops/pnl";
import { reportJson } from "../reports/render";
import { apiErrors } from "./errors";
import { CalendarDate, Open, READ_ERRORS, Whole } from "./schemas";
import type { ServerContext } from "./context";

/** The daily_pnl_summary columns of one New York trading day (FIFO, as `awet pnl`). */
export const PnlDay = Open({
  report_date: t.Nullable(t.String({ format: "date" })),
  realized_pnl_usd: t.Number(),
  unrealized_pnl_usd: t.Number(),
  total_pnl_usd: t.Number(),
  win_rate: t.Nullable(t.Number()),
  num_trades: t.Integer(),
});

/** PnL reports: one day (GET /api/pnl/:date) and the last N trading days (GET /api/pnl?days=). */
export function pnlRoutes(c: ServerContext) {
  const { sup } = c;
  return new Elysia({ name: "awet-pnl" })
    .use(apiErrors())
    .get("/api/pnl/:date", async ({ params }) => reportJson(await pnlForDate(sup.store, params.date)), {
      params: t.Object({ date: CalendarDate() }),
      response: { 200: PnlDay, ...READ_ERRORS },
      detail: { tags: ["pnl"], summary: "The daily PnL report of a New York trading day (daily_pnl_summary columns, by symbol, round trips)" },
    })
    .get("/api/pnl", async ({ query }) => ({ days: await pnlWeek(sup.store, await pnlToday(sup.store), query.days ?? 7) }), {
      query: t.Object({ days: t.Optional(Whole({ minimum: 1, maximum: 31, default: 7, description: "trading days, newest last" })) }),
      response: { 200: t.Object({ days: t.Array(PnlDay) }), ...READ_ERRORS },
      detail: { tags: ["pnl"], summary: "The last N trading days up to today" },
    });
}
