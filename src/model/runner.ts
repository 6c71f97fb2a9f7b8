/**
 * A stored model of either kind, ready for batched inference in Prediction: the linear set (one
 * head per horizon, a window of one row) or the TFT (a window of `lookback` rows).
 */
import type { ModelRow } from "../store/port";
import { predictQuantiles } from "./quantile";
import type { TftModel } from "./tft";
import { asLinearSet, type Q3 } from "./walkforward";

export interface Runner {
  version: string;
  kind: "linear" | "tft";
  name: string; // the `model` field of the events
  horizons: number[];
  lookback: number; // feature rows a prediction needs
  /** One batch: a window (oldest row first, `lookback` rows) per item. Throws on a broken model. */
  predict(windows: number[][][]): { quantiles: Q3[][]; confidence: (number | null)[] };
  dispose(): void;
}

export function linearRunner(version: string, params: unknown): Runner {
  const m = asLinearSet(params);
  return {
    version, kind: "linear", name: "linear-quantile", horizons: m.horizons, lookback: 1,
    predict: (ws) => ({ quantiles: ws.map((w) => m.heads.map((h) => predictQuantiles(h, w[w.length - 1]!))), confidence: ws.map(() => null) }),
    dispose: () => {},
  };
}

/** Load a registry row; a TFT's weights are checked as they are decoded (throws naming what is wrong). */
export async function loadRunner(row: Pick<ModelRow, "version" | "params">): Promise<Runner> {
  if ((row.params as { kind?: string })?.kind !== "tft-v1") return linearRunner(row.version, row.params);
  const { ensureBackend } = await import("./tf");
  const { LoadedTft } = await import("./tft");
  await ensureBackend();
  const t = new LoadedTft(row.params as TftModel);
  return {
    version: row.version, kind: "tft", name: "tft", horizons: t.model.config.horizons, lookback: t.lookback,
    predict: (ws) => {
      const r = t.predict(ws);
      return { quantiles: r.quantiles, confidence: r.confidence };
    },
    dispose: () => t.dispose(),
  };
}
