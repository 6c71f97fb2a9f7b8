/**
 * Training the TFT: Adam on the mean pinball loss of every horizon's p10/p50/p90 (targets scaled
 * per horizon), gradients clipped by global norm, seeded initial weights and sample order, early
 * stopping on the time-ordered last part of the training points (the best epoch's weights are
 * kept). The confidence head is fitted in the same steps on the trunk's output, without sending
 * gradients into it. No I/O; the caller passes a clock for the ETA (the Worker passes Date.now).
 */
import { tf } from "./tf";
import { rng } from "./quantile";
import { clip, confidenceLogit, encodeWeights, forward, initParams, paramShapes, quantileLoss, type TftConfig, type TftModel } from "./tft";
import type { Point, Series } from "./series";

export interface TftTrainOptions {
  lookback: number;
  horizons: number[];
  hidden: number;
  heads: number;
  features: string[];
  seed?: number;
  epochs?: number; // upper bound; early stopping usually ends sooner
  patience?: number; // epochs without a better validation loss before stopping
  batch?: number;
  learningRate?: number;
  validFrac?: number; // the time-ordered tail of the training points used for early stopping
  backend?: string;
}

export interface TftProgress {
  epoch: number;
  epochs: number;
  loss: number; // training pinball (scaled targets)
  val_loss: number;
  eta_s: number; // at this pace, seconds left for the remaining epochs (an upper bound: early stopping may end sooner)
  best_epoch: number;
}

/** Standardised, clipped feature rows per series (rows of unwarm bars are zeros; they are never in a window). */
export function normalisedSeries(series: Series[], mean: number[], std: number[]): Float32Array[] {
  const F = mean.length;
  return series.map((se) => {
    const a = new Float32Array(se.x.length * F);
    se.x.forEach((r, i) => {
      if (r) for (let j = 0; j < F; j++) a[i * F + j] = clip((r[j]! - mean[j]!) / std[j]!);
    });
    return a;
  });
}

/** A batch of windows [B, L, F] as one buffer: a window is a contiguous run of rows. */
export function gather(norm: Float32Array[], points: Point[], idx: ArrayLike<number>, from: number, to: number, L: number, F: number): Float32Array {
  const buf = new Float32Array((to - from) * L * F);
  for (let b = from; b < to; b++) {
    const p = points[idx[b]!]!;
    buf.set(norm[p.s]!.subarray((p.i - L + 1) * F, (p.i + 1) * F), (b - from) * L * F);
  }
  return buf;
}

export function trainTft(series: Series[], points: Point[], o: TftTrainOptions, onProgress?: (p: TftProgress) => void, now: () => number = () => 0): TftModel {
  const c: TftConfig = { features: o.features, lookback: o.lookback, horizons: o.horizons, hidden: o.hidden, heads: o.heads };
  const F = c.features.length, L = c.lookback, H = c.horizons.length;
  if (points.length < 100) throw new Error(`need at least 100 training points for the TFT, got ${points.length}`);
  if (!Number.isInteger(L) || L < 2) throw new Error(`tft lookback must be an integer >= 2, got ${L}`);
  if (o.horizons.length === 0) throw new Error("tft needs at least one horizon");
  const seed = o.seed ?? 42, epochs = o.epochs ?? 20, patience = o.patience ?? 3, batch = o.batch ?? 64, lr = o.learningRate ?? 3e-3;
  // inputs and targets scaled on the training points
  const mean = Array(F).fill(0), std = Array(F).fill(0);
  for (const p of points) series[p.s]!.x[p.i]!.forEach((v, j) => (mean[j] += v));
  mean.forEach((_, j) => (mean[j] /= points.length));
  for (const p of points) series[p.s]!.x[p.i]!.forEach((v, j) => (std[j] += (v - mean[j]) ** 2));
  std.forEach((_, j) => (std[j] = Math.sqrt(std[j] / points.length) || 1));
  const yScale = c.horizons.map((_, h) => Math.sqrt(points.reduce((a, p) => a + p.y[h]! ** 2, 0) / points.length) || 1);
  const norm = normalisedSeries(series, mean, std);
  // early-stopping split: the last part in time, purged like the outer split
  const sorted = [...points].sort((a, b) => a.ts - b.ts || a.s - b.s);
  const cut = sorted[Math.floor(sorted.length * (1 - (o.validFrac ?? 0.15)))]!.ts;
  const fit = sorted.filter((p) => p.tsOut < cut), val = sorted.filter((p) => p.ts >= cut);
  if (fit.length < 50 || val.length < 10) throw new Error(`too few points for the TFT's early-stopping split (${fit.length} to fit, ${val.length} to validate)`);
  const targets = (pts: Point[], idx: ArrayLike<number>, from: number, to: number) => {
    const y = new Float32Array((to - from) * H);
    for (let b = from; b < to; b++) for (let h = 0; h < H; h++) y[(b - from) * H + h] = pts[idx[b]!]!.y[h]! / yScale[h]!;
    return y;
  };

  const init = initParams(c, seed);
  const vars: Record<string, tf.Variable> = tf.tidy(() => Object.fromEntries(Object.entries(init).map(([k, v]) => [k, tf.variable(tf.tensor(v, shapeOf(c, k)), true)])));
  const confVars = [vars.conf_w!, vars.conf_b!];
  const trunkVars = Object.entries(vars).filter(([k]) => !k.startsWith("conf_")).map(([, v]) => v);
  const opt = tf.train.adam(lr);
  const optConf = tf.train.adam(lr); // tfjs's Adam keys its moments by position: one optimizer per variable list
  const rand = rng(seed ^ 0x5eed);
  const order = Int32Array.from(fit.keys());
  const valIdx = Int32Array.from(val.keys());

  const valLoss = (pts: Point[], idx: Int32Array): { loss: number; vsn: number[] } => {
    let sum = 0;
    const vsn = Array(F).fill(0);
    for (let s0 = 0; s0 < idx.length; s0 += 256) {
      const e = Math.min(idx.length, s0 + 256);
      const [l, v] = tf.tidy(() => {
        const f = forward(vars, c, tf.tensor3d(gather(norm, pts, idx, s0, e, L, F), [e - s0, L, F]));
        return [quantileLoss(f.raw, tf.tensor2d(targets(pts, idx, s0, e), [e - s0, H])).dataSync()[0]!, tf.sum(f.vsn, 0).dataSync()];
      });
      sum += (l as number) * (e - s0);
      (v as Float32Array).forEach((x, j) => (vsn[j] += x));
    }
    return { loss: sum / idx.length, vsn: vsn.map((x) => x / idx.length) };
  };

  let best = { loss: Infinity, epoch: 0, weights: null as Record<string, Float32Array> | null };
  let since = 0, ran = 0;
  const t0 = now();
  try {
    for (let ep = 1; ep <= epochs; ep++) {
      for (let i = order.length - 1; i > 0; i--) {
        const k = Math.floor(rand() * (i + 1));
        [order[i], order[k]] = [order[k]!, order[i]!];
      }
      let trainSum = 0;
      for (let s0 = 0; s0 < order.length; s0 += batch) {
        const e = Math.min(order.length, s0 + batch);
        tf.tidy(() => {
          const X = tf.tensor3d(gather(norm, fit, order, s0, e, L, F), [e - s0, L, F]);
          const Y = tf.tensor2d(targets(fit, order, s0, e), [e - s0, H]);
          let final: tf.Tensor | null = null, p50: tf.Tensor | null = null;
          const { value, grads } = tf.variableGrads(() => {
            const f = forward(vars, c, X);
            final = tf.keep(f.final);
            p50 = tf.keep(tf.reshape(tf.slice(f.raw, [0, 0, 1], [e - s0, H, 1]), [e - s0, H]));
            return quantileLoss(f.raw, Y);
          }, trunkVars);
          opt.applyGradients(clipByGlobalNorm(grads, 1) as never);
          trainSum += value.dataSync()[0]! * (e - s0);
          // confidence head: P(sign(p50) is right), averaged over horizons; the trunk is a constant here
          const hit = tf.mean(tf.cast(tf.equal(tf.sign(p50!), tf.sign(Y)), "float32"), 1);
          const cg = tf.variableGrads(() => sigmoidXent(confidenceLogit(vars, final!), hit), confVars);
          optConf.applyGradients(cg.grads as never);
          tf.dispose([final!, p50!]);
        });
      }
      ran = ep;
      const v = valLoss(val, valIdx).loss;
      if (!Number.isFinite(v)) throw new Error(`tft training diverged at epoch ${ep} (validation loss ${v})`);
      if (v < best.loss - 1e-7) {
        best = { loss: v, epoch: ep, weights: Object.fromEntries(Object.entries(vars).map(([k, t]) => [k, (t.dataSync() as Float32Array).slice()])) };
        since = 0;
      } else since++;
      const per = (now() - t0) / ep / 1000;
      onProgress?.({ epoch: ep, epochs, loss: trainSum / order.length, val_loss: v, eta_s: since >= patience ? 0 : per * (epochs - ep), best_epoch: best.epoch });
      if (since >= patience) break;
    }
    tf.tidy(() => {
      for (const [k, w] of Object.entries(best.weights!)) vars[k]!.assign(tf.tensor(w, shapeOf(c, k)));
    });
    const imp = valLoss(val, valIdx).vsn;
    return {
      kind: "tft-v1", config: c, norm: { mean, std, y_scale: yScale },
      weights: encodeWeights(Object.fromEntries(Object.entries(best.weights!).map(([k, w]) => [k, { shape: shapeOf(c, k), data: w }]))),
      importances: Object.fromEntries(c.features.map((f, j) => [f, imp[j]!])),
      seed, epochs_run: ran, best_epoch: best.epoch, val_loss: best.loss, backend: o.backend ?? tf.getBackend(), trained_on: points.length,
    };
  } finally {
    opt.dispose();
    optConf.dispose();
    for (const v of Object.values(vars)) v.dispose();
  }
}

const shapeCache = new WeakMap<TftConfig, Record<string, number[]>>();
function shapeOf(c: TftConfig, k: string): number[] {
  let s = shapeCache.get(c);
  if (!s) shapeCache.set(c, (s = paramShapes(c)));
  return s[k]!;
}

function sigmoidXent(logit: tf.Tensor, target: tf.Tensor): tf.Scalar {
  // mean(max(z, 0) − z·t + log(1 + e^−|z|)), the numerically stable form
  return tf.mean(tf.add(tf.sub(tf.relu(logit), tf.mul(logit, target)), tf.log1p(tf.exp(tf.neg(tf.abs(logit)))))) as tf.Scalar;
}

function clipByGlobalNorm(grads: tf.NamedTensorMap, maxNorm: number): tf.NamedTensorMap {
  const gs = Object.values(grads);
  const total = Math.sqrt(gs.reduce((a, g) => a + (tf.sum(tf.square(g)).dataSync()[0] as number), 0));
  if (!(total > maxNorm)) return grads;
  const k = maxNorm / total;
  return Object.fromEntries(Object.entries(grads).map(([n, g]) => [n, tf.mul(g, k)]));
}
