/**
 * The model registry's rules, pure: version names, the kind and horizons of a stored model, the
 * promote-or-refuse decision and which model a rollback returns to. The models table's status is
 * the one record of which model is in production (ops/model.ts reads and writes it).
 */
import { createHash } from "node:crypto";
import type { ModelRow } from "../store/port";
import type { TftModel } from "./tft";
import { asLinearSet } from "./walkforward";

export type Kind = "linear" | "tft";
export const KIND_NAME: Record<Kind, string> = { linear: "linear-quantile", tft: "tft" };

/** A version name from the kind, the parameters' hash and the training time `at`. */
export function modelVersion(kind: Kind, params: unknown, at: number): string {
  const h = createHash("sha1").update(JSON.stringify(params)).digest("hex").slice(0, 8);
  return `${kind === "tft" ? "t" : "q"}${new Date(at).toISOString().slice(0, 10).replace(/-/g, "")}-${h}`;
}

export function kindOf(row: Pick<ModelRow, "params">): Kind {
  return (row.params as { kind?: string })?.kind === "tft-v1" ? "tft" : "linear";
}

/** The horizons a stored model forecasts. */
export function horizonsOf(row: Pick<ModelRow, "params">): number[] {
  return kindOf(row) === "tft" ? (row.params as TftModel).config.horizons : asLinearSet(row.params).horizons;
}

/** The production model (status production), or null. */
export function productionOf<T extends Pick<ModelRow, "status">>(models: T[]): T | null {
  return models.find((m) => m.status === "production") ?? null;
}

/** The model a rollback makes production again: the most recently promoted retired one, or null. */
export function previousProduction<T extends Pick<ModelRow, "status" | "promoted_at">>(models: T[]): T | null {
  return models.filter((m) => m.status === "retired" && m.promoted_at !== null).sort((a, b) => b.promoted_at! - a.promoted_at!)[0] ?? null;
}

export interface PromotionFigures {
  horizons: number[];
  candidate: { version: string; kind: Kind; pinball_loss: number; coverage_p10_p90: number; coverage_p10: number; coverage_p90: number };
  production: { version: string; kind: Kind; pinball_loss: number | null; note?: string } | null;
  random_walk: number;
  rolling_vol: number;
  bar: number; // the pinball loss the candidate had to be at or under
  margin_pct: number;
  coverage_band: [number, number];
  validation_n: number;
}

export interface PromotionDecision {
  promoted: boolean;
  candidate: string | null;
  production: string | null;
  reason: string;
  figures?: PromotionFigures;
}

/**
 * The promote-or-refuse rule, pure: the candidate's validation pinball loss must be at least
 * `margin_pct` percent below the production model's (when it is comparable) and both baselines',
 * and its p10–p90 coverage inside the band.
 */
export function decide(f: Omit<PromotionFigures, "bar">): { promote: boolean; reason: string; bar: number } {
  const e = (x: number) => x.toExponential(4);
  const rivals: [string, number][] = [["random walk", f.random_walk], ["rolling vol", f.rolling_vol]];
  if (f.production && f.production.pinball_loss !== null) rivals.unshift([`production ${f.production.version}`, f.production.pinball_loss]);
  const [bestName, best] = rivals.reduce((a, b) => (b[1] < a[1] ? b : a));
  const bar = best * (1 - f.margin_pct / 100);
  const c = f.candidate;
  const cov = `coverage p10-p90 ${(c.coverage_p10_p90 * 100).toFixed(1)}% (p10 ${(c.coverage_p10 * 100).toFixed(1)}%, p90 ${(c.coverage_p90 * 100).toFixed(1)}%)`;
  const band = `[${(f.coverage_band[0] * 100).toFixed(0)}%, ${(f.coverage_band[1] * 100).toFixed(0)}%]`;
  const vs = rivals.map(([n, v]) => `${n} ${e(v)}`).join(", ");
  if (!(c.pinball_loss <= bar)) return { promote: false, bar, reason: `refused: candidate pinball ${e(c.pinball_loss)} is not ${f.margin_pct}% below the best of ${vs} (needs <= ${e(bar)}, ${bestName} is best)` };
  if (c.coverage_p10_p90 < f.coverage_band[0] || c.coverage_p10_p90 > f.coverage_band[1]) return { promote: false, bar, reason: `refused: candidate ${cov} outside the band ${band} although its pinball ${e(c.pinball_loss)} beats ${vs}` };
  return { promote: true, bar, reason: `${f.production ? "promoted" : "first production model"}: candidate pinball ${e(c.pinball_loss)} <= ${e(bar)} (${f.margin_pct}% below the best of ${vs}), ${cov} inside ${band}` };
}

/** The system_state key holding a candidate's promotion decision and its figures. */
export const decisionKey = (version: string) => `promotion_decision:${version}`;
