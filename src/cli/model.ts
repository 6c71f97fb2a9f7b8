import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Settings } from "../config/load";
import type { Bar } from "../core/events";
import { UsageError } from "../core/errors";
import { parseCsv } from "../market/csv";
import { dataFromBars, type Evaluation } from "../model/evaluation";
import { decisionKey, horizonsOf, kindOf, productionOf, type Kind } from "../model/registry";
import type { ProgressInfo } from "../model/training";
import { evaluateKinds, evaluateVersion, progressLine, promote, rollback, trainCandidate, trainOnData } from "../ops/model";
import type { TftModel } from "../model/tft";
import type { HorizonMetrics } from "../model/walkforward";
import { intFlag, parseArgs } from "./args";
import { GLOBAL_VALUE_FLAGS, out, resolveDataPath, settingsFrom, withStore } from "./common";

export const MODEL_HELP = `Usage: awet model train [--kind tft|linear] [--seed N] [--epochs N] [--json]
       awet model eval [--json] | list [--json] | show [VERSION] [--json] | promote VERSION | rollback
       awet model walkforward DIR [--json]      [--home DIR] [--config FILE]

  train            train a candidate (model_kind in app.yaml, or --kind): tft, a Temporal Fusion
                   Transformer, or linear, one linear quantile model per horizon; p10/p50/p90 of the
                   return over each of forecast_horizons_bars, on the engineered features of the
                   stored bars, in a worker; one progress line per epoch (TFT: loss, validation
                   loss, best epoch, ETA; linear: loss)
  eval             walk-forward metrics of the production model (else the newest) beside two
                   baselines on the validation points; --json: {"model": {...}, "baselines":
                   {"random_walk": {...}, "rolling_vol": {...}}, "by_horizon": {"30": {"model",
                   "random_walk", "rolling_vol"}, ...}, "models": {"linear": {...}, "tft": {...}}},
                   each with pinball_loss, coverage_p10_p90, coverage_p10, coverage_p90,
                   directional_accuracy (models: the production-or-newest of each kind, same points)
  list             every version: kind, status (candidate, production, retired), metrics and the
                   morning_deployer's promote/refuse decision with its figures
  show [VERSION]   one model (default production, else the newest): kind, horizons, configuration,
                   validation metrics and, for a TFT, the inputs' importances (variable selection)
  promote VERSION  make VERSION the production model (Prediction picks it up without a restart)
  rollback         make the previously promoted version production again
  walkforward DIR  train linear and TFT on the CSV bars in DIR (e.g. data/daily) and score all four
                   kinds on the same walk-forward split, without touching the registry`;

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const m4 = (x: Pick<HorizonMetrics, "pinball_loss" | "coverage_p10_p90" | "directional_accuracy"> & Partial<HorizonMetrics>) =>
  `pinball ${x.pinball_loss.toExponential(4)}  coverage p10-p90 ${pct(x.coverage_p10_p90)}${x.coverage_p10 !== undefined ? ` (below p10 ${pct(x.coverage_p10)}, ≤ p90 ${pct(x.coverage_p90!)})` : ""}  direction ${pct(x.directional_accuracy)}`;

function kindFlag(v: unknown, s: Settings): Kind {
  if (v === undefined) return s.app.model_kind as Kind;
  if (v !== "tft" && v !== "linear") throw new UsageError(`--kind must be tft or linear; got '${String(v)}'`);
  return v;
}

function printEval(ev: Evaluation, label: string): void {
  out(`  ${label.padEnd(12)} ${m4(ev.model)}`);
  out(`  random walk  ${m4(ev.baselines.random_walk)}`);
  out(`  rolling vol  ${m4(ev.baselines.rolling_vol)}`);
  for (const [h, b] of Object.entries(ev.by_horizon)) {
    out(`  horizon ${h} bars`);
    out(`    ${label.padEnd(12)} ${m4(b.model)}`);
    out(`    random walk  ${m4(b.random_walk)}`);
    out(`    rolling vol  ${m4(b.rolling_vol)}`);
  }
}

function readBars(dir: string): Bar[] {
  const files = statSync(dir).isDirectory() ? readdirSync(dir).filter((f) => f.endsWith(".csv")).sort().map((f) => join(dir, f)) : [dir];
  if (files.length === 0) throw new UsageError(`awet model walkforward: no .csv files in ${dir}`);
  return files.flatMap((f) => parseCsv(readFileSync(f, "utf8"), f).flatMap((it) => (it.kind === "bar" ? [it.bar] : [])));
}

export async function modelCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { bool: ["help", "json"], value: [...GLOBAL_VALUE_FLAGS, "seed", "epochs", "kind"] });
  const sub = p.positionals[0];
  if (p.flags.help || !sub) return out(MODEL_HELP), p.flags.help ? 0 : 2;
  const s = settingsFrom(p);
  const progress = p.flags.json ? undefined : (pr: ProgressInfo) => process.stderr.write(`  ${progressLine(pr)}\n`);
  const note = p.flags.json ? undefined : (n: string) => process.stderr.write(`  TFT on the ${n}\n`);
  if (sub === "walkforward") {
    const dir = p.positionals[1];
    if (!dir) throw new UsageError("awet model walkforward DIR (a directory of CSV bars, e.g. data/daily)");
    const path = resolveDataPath(dir, s.home);
    const d = dataFromBars(readBars(path), s);
    const seed = intFlag(p, "seed", 42, 0, 2 ** 31);
    const epochs = p.flags.epochs === undefined ? undefined : intFlag(p, "epochs", 1, 1, 1000);
    const res: Record<string, unknown> = {};
    let base: Evaluation | null = null;
    for (const kind of ["linear", "tft"] as Kind[]) {
      if (!p.flags.json) out(`training ${kind} on ${d.train.length} points (validation ${d.valid.length}, horizons ${d.horizons.join(", ")})`);
      const t0 = Date.now();
      const r = await trainOnData(null, s, d, Date.now(), { kind, seed, epochs: kind === "tft" ? epochs : undefined, onProgress: progress, onNote: note });
      base ??= r.evaluation;
      const extra = kind === "tft" ? { backend: (r.model as TftModel).backend, epochs_run: (r.model as TftModel).epochs_run, best_epoch: (r.model as TftModel).best_epoch, importances: (r.model as TftModel).importances } : {};
      res[kind] = { ...r.evaluation.model, by_horizon: Object.fromEntries(Object.entries(r.evaluation.by_horizon).map(([h, b]) => [h, b.model])), train_seconds: (Date.now() - t0) / 1000, where: r.where, ...extra };
      if (!p.flags.json) printEval(r.evaluation, kind);
    }
    if (p.flags.json) out(JSON.stringify({ data: path, horizons: d.horizons, lookback: d.lookback, train_window: base!.train_window, validation_window: base!.validation_window, baselines: base!.baselines, by_horizon_baselines: Object.fromEntries(Object.entries(base!.by_horizon).map(([h, b]) => [h, { random_walk: b.random_walk, rolling_vol: b.rolling_vol }])), models: res }, null, 2));
    return 0;
  }
  return withStore(s, async (store) => {
    if (sub === "train") {
      const kind = kindFlag(p.flags.kind, s);
      const r = await trainCandidate(store, s, Date.now(), { kind, seed: intFlag(p, "seed", 42, 0, 2 ** 31), epochs: p.flags.epochs === undefined ? undefined : intFlag(p, "epochs", 1, 1, 1000), onProgress: progress, onNote: note });
      if (p.flags.json) out(JSON.stringify({ version: r.version, kind: r.kind, where: r.where, backend: r.backend ?? null, samples: r.samples, ...r.evaluation }, null, 2));
      else {
        out(`candidate ${r.version} (${r.kind}, trained in the ${r.where}${r.backend ? ` on the ${r.backend}` : ""} on ${r.evaluation.train_window.n} points; validated on ${r.evaluation.validation_window.n})`);
        printEval(r.evaluation, "model");
      }
      return 0;
    }
    if (sub === "eval") {
      const models = await store.listModels();
      const row = productionOf(models) ?? models[0];
      if (!row) throw new UsageError("no model yet: run `awet model train` (bars are needed: `awet replay data/minute`)");
      const ev = await evaluateVersion(store, s, row);
      const kinds = await evaluateKinds(store, s, models);
      if (p.flags.json) out(JSON.stringify({ model: { version: row.version, status: row.status, kind: kindOf(row), ...ev.model }, baselines: ev.baselines, train_window: ev.train_window, validation_window: ev.validation_window, horizons: ev.horizons, by_horizon: ev.by_horizon, models: kinds }, null, 2));
      else {
        out(`walk-forward evaluation of ${row.version} (${kindOf(row)}, ${row.status}); validation ${ev.validation_window.from} .. ${ev.validation_window.to}, ${ev.validation_window.n} points`);
        printEval(ev, "model");
        for (const [k, v] of Object.entries(kinds)) out(`  ${k.padEnd(12)} ${(v as { version: string }).version}: ${m4(v as HorizonMetrics)}`);
      }
      return 0;
    }
    if (sub === "list") {
      const models = await store.listModels();
      const decisions = await Promise.all(models.map(async (m) => JSON.parse((await store.getState(decisionKey(m.version))) ?? "null") as { at: string; promoted: boolean; reason: string; figures: unknown } | null));
      if (p.flags.json) out(JSON.stringify(models.map((m, i) => ({ ...m, params: undefined, kind: kindOf(m), decision: decisions[i] })), null, 2));
      else if (models.length === 0) out("no models");
      else
        models.forEach((m, i) => {
          const met = (m.metrics as { model?: HorizonMetrics } | null)?.model;
          out(`${m.version.padEnd(20)} ${kindOf(m).padEnd(6)} ${m.status.padEnd(11)} created ${new Date(m.created_at).toISOString()}  ${met ? m4(met) : ""}`);
          if (decisions[i]) out(`${"".padEnd(21)}${decisions[i]!.at} ${decisions[i]!.reason}`);
        });
      return 0;
    }
    if (sub === "show") {
      const models = await store.listModels();
      const v = p.positionals[1];
      const row = v ? models.find((m) => m.version === v) : (productionOf(models) ?? models[0]);
      if (!row) throw new UsageError(v ? `awet model show: no model version '${v}' (see awet model list)` : "no model yet: run `awet model train`");
      const kind = kindOf(row);
      const params = row.params as TftModel;
      const info = kind === "tft"
        ? { config: params.config, importances: params.importances, epochs_run: params.epochs_run, best_epoch: params.best_epoch, val_loss: params.val_loss, seed: params.seed, backend: params.backend, trained_on: params.trained_on }
        : { heads: horizonsOf(row).length };
      const decision = JSON.parse((await store.getState(decisionKey(row.version))) ?? "null");
      if (p.flags.json) out(JSON.stringify({ version: row.version, kind, status: row.status, horizons: horizonsOf(row), created_at: new Date(row.created_at).toISOString(), metrics: row.metrics, train_window: row.train_window, decision, ...info }, null, 2));
      else {
        out(`${row.version} (${kind}, ${row.status}), horizons ${horizonsOf(row).join(", ")} bars, created ${new Date(row.created_at).toISOString()}`);
        const met = (row.metrics as { model?: HorizonMetrics } | null)?.model;
        if (met) out(`  validation   ${m4(met)}`);
        if (kind === "tft") {
          const c = params.config;
          out(`  lookback ${c.lookback} bars, hidden ${c.hidden}, ${c.heads} attention heads; ${params.epochs_run} epochs run, best ${params.best_epoch} (val ${params.val_loss.toExponential(3)}), seed ${params.seed}, ${params.backend} backend`);
          out("  input importances (mean variable-selection weight on the validation part):");
          for (const [f, w] of Object.entries(params.importances).sort((a, b) => b[1] - a[1])) out(`    ${f.padEnd(14)} ${(w * 100).toFixed(1).padStart(5)}%  ${"#".repeat(Math.round(w * 50))}`);
        }
        if (decision) out(`  decision ${decision.at}: ${decision.reason}`);
      }
      return 0;
    }
    if (sub === "promote") {
      const v = p.positionals[1];
      if (!v) throw new UsageError("awet model promote VERSION");
      if (!(await store.listModels()).some((m) => m.version === v)) throw new UsageError(`awet model promote: no model version '${v}' (see awet model list)`);
      await promote(store, v, Date.now());
      out(`${v} is now the production model`);
      return 0;
    }
    if (sub === "rollback") {
      out(`${await rollback(store, Date.now())} is the production model again`);
      return 0;
    }
    throw new UsageError(`awet model: expected train, eval, list, show, promote, rollback or walkforward; got '${sub}'`);
  });
}
