import { Elysia, t, type TSchema } from "elysia";
import { approve, paperOff, paperOn, paperStatus, revoke, setExitLogic, setTradingState } from "../ops/control";
import { apiErrors } from "./errors";
import { CONTROL_ERRORS, JSON_BODY, Open, READ_ERRORS } from "./schemas";
import type { ServerContext } from "./context";

const PaperStatusT = Open({
  execution_dry_run: t.Boolean(),
  approval_file: t.String(),
  approved: t.Boolean(),
  trading_state: t.String(),
  trading_enabled: t.Boolean({ description: "whether orders can go out" }),
});
const TradingStateChange = Open({ from: t.String(), to: t.String() });
const ExitLogic = t.Object({ enable_exit_logic: t.Boolean(), config_file: t.String() });

/** What every POST control declares: the bearer token, a tag, the errors it may answer. */
const control = <S extends TSchema>(summary: string, ok: S) => ({
  response: { 200: ok, ...CONTROL_ERRORS },
  detail: { tags: ["control"], summary, security: [{ bearer: [] }] },
});

/**
 * The operator controls (src/ops/control.ts) over REST: paper on/off, approve/revoke, halt/resume,
 * exit logic on/off and run. Every POST needs the bearer token (guard.ts) and is audited (who,
 * what, control state before → after). Bodiless POSTs ignore any body, as before.
 */
export function controlRoutes(c: ServerContext) {
  const { sup } = c;
  const settings = sup.settings;
  // Settings edits reach the running pipeline through the runtime's live config.
  const refreshLive = () => sup.reloadConfig();
  const by = (ctx: Parameters<ServerContext["actor"]>[0]) => `rest ${c.actor(ctx).address ?? "?"}`;
  return new Elysia({ name: "awet-control" })
    .use(apiErrors())
    .get("/api/paper/status", () => paperStatus(settings, sup.store), {
      response: { 200: PaperStatusT, ...READ_ERRORS },
      detail: { tags: ["control"], summary: "execution_dry_run, approval file, trading state, whether orders can go out" },
    })
    .post("/api/approve", (ctx) => c.act(ctx, "approve", () => ({ approved: true, approval_file: approve(settings) })), {
      parse: "none",
      ...control("Create the approval file", t.Object({ approved: t.Boolean(), approval_file: t.String() })),
    })
    .post("/api/revoke", (ctx) => c.act(ctx, "revoke", () => ({ approved: false, removed: revoke(settings) })), {
      parse: "none",
      ...control("Remove the approval file", t.Object({ approved: t.Boolean(), removed: t.Boolean() })),
    })
    .post(
      "/api/paper/on",
      (ctx) =>
        c.act(ctx, "paper on", async () => {
          const st = await paperOn(settings, sup.store);
          refreshLive();
          return st;
        }),
      { parse: "none", ...control("execution_dry_run: false in config/app.yaml and create the approval file", PaperStatusT) },
    )
    .post(
      "/api/paper/off",
      (ctx) =>
        c.act(ctx, "paper off", async () => {
          const st = await paperOff(settings, sup.store);
          refreshLive();
          return st;
        }),
      { parse: "none", ...control("execution_dry_run: true in config/app.yaml and remove the approval file", PaperStatusT) },
    )
    .post(
      "/api/halt",
      (ctx) => {
        const reducing = ctx.body.mode === "reducing";
        const reason = ctx.body.reason ?? "operator";
        return c.act(ctx, reducing ? "halt --reducing" : "halt", () => setTradingState(sup.tradingState, reducing ? "REDUCING" : "HALTED", `api: ${reason}`, by(ctx)));
      },
      {
        ...JSON_BODY,
        body: t.Object({
          mode: t.Optional(t.Union([t.Literal("halted"), t.Literal("reducing")], { description: "halted (nothing trades, default) or reducing (only orders that shrink positions)" })),
          reason: t.Optional(t.String({ maxLength: 500, description: "recorded with the state (default 'operator')" })),
        }, { description: "optional; an empty body halts" }),
        ...control("Trading state HALTED (nothing trades) or REDUCING (only orders that shrink positions)", TradingStateChange),
      },
    )
    .post("/api/resume", (ctx) => c.act(ctx, "resume", () => setTradingState(sup.tradingState, "ACTIVE", "api: resume", by(ctx))), {
      parse: "none",
      ...control("Trading state ACTIVE", TradingStateChange),
    })
    .post("/api/exit/run", (ctx) => c.act(ctx, "exit run", async () => ({ checks: await sup.runExitOnce() }), (r) => ({ checks: r.checks.length })), {
      parse: "none",
      ...control("Evaluate every open position for take_profit / stop_loss / time_exit now", t.Object({ checks: t.Array(Open({})) })),
    })
    .post(
      "/api/exit/on",
      (ctx) =>
        c.act(ctx, "exit on", async () => {
          const file = await setExitLogic(settings, true);
          refreshLive();
          return { enable_exit_logic: true, config_file: file };
        }),
      { parse: "none", ...control("enable_exit_logic: true", ExitLogic) },
    )
    .post(
      "/api/exit/off",
      (ctx) =>
        c.act(ctx, "exit off", async () => {
          const file = await setExitLogic(settings, false);
          refreshLive();
          return { enable_exit_logic: false, config_file: file };
        }),
      { parse: "none", ...control("enable_exit_logic: false", ExitLogic) },
    );
}
