import type { Sample } from "./dataset";

export const QUANTILES = [0.1, 0.5, 0.9] as const;

/** A trained linear quantile model: one weight vector per quantile over standardised features. */
export interface QuantileModel {
  kind: "linear-quantile-v1";
  horizon: number;
  features: readonly string[];
  mean: number[];
  std: number[];
  weights: number[][]; // [q][feature]
  bias: number[]; // [q]
  seed: number;
  epochs: number;
  trained_on: number;
}

export interface TrainOptions {
  horizon: number;
  features: readonly string[];
  seed?: number;
  epochs?: number;
  learningRate?: number;
  onProgress?: (epoch: number, epochs: number, loss: number) => void;
}

/** Mulberry32: a small seeded PRNG, so training is deterministic given the seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function pinball(q: number, y: number, pred: number): number {
  const d = y - pred;
  return d >= 0 ? q * d : (q - 1) * d;
}

/**
 * Linear quantile regression for p10/p50/p90 of the next-horizon return, trained by Adam on the
 * pinball loss over standardised features, with seeded shuffling: the same data and seed give
 * the same model. Quantiles are kept ordered at prediction time. Pure (no I/O, no clock).
 */
export function trainQuantile(samples: Sample[], o: TrainOptions): QuantileModel {
  if (samples.length < 100) throw new Error(`need at least 100 samples to train, got ${samples.length}`);
  const d = samples[0]!.x.length;
  const mean = Array(d).fill(0), std = Array(d).fill(0);
  for (const s of samples) s.x.forEach((v, j) => (mean[j] += v));
  mean.forEach((_, j) => (mean[j] /= samples.length));
  for (const s of samples) s.x.forEach((v, j) => (std[j] += (v - mean[j]) ** 2));
  std.forEach((_, j) => (std[j] = Math.sqrt(std[j] / samples.length) || 1));
  const ys = samples.map((s) => s.y);
  const yScale = Math.sqrt(ys.reduce((a, y) => a + y * y, 0) / ys.length) || 1;
  const X = samples.map((s) => s.x.map((v, j) => (v - mean[j]) / std[j]));
  const Y = ys.map((y) => y / yScale);
  const seed = o.seed ?? 42;
  const epochs = o.epochs ?? 30;
  const lr = o.learningRate ?? 0.01;
  const rand = rng(seed);
  const W = QUANTILES.map(() => Array(d).fill(0));
  const B = QUANTILES.map((q) => sortedQuantile([...Y].sort((a, b) => a - b), q)); // start at the unconditional quantile
  const m = QUANTILES.map(() => Array(d + 1).fill(0)), v = QUANTILES.map(() => Array(d + 1).fill(0));
  const idx = X.map((_, i) => i);
  let step = 0;
  const batch = 64;
  for (let ep = 0; ep < epochs; ep++) {
    for (let i = idx.length - 1; i > 0; i--) {
      const k = Math.floor(rand() * (i + 1));
      [idx[i], idx[k]] = [idx[k]!, idx[i]!];
    }
    for (let s0 = 0; s0 < idx.length; s0 += batch) {
      step++;
      const end = Math.min(idx.length, s0 + batch);
      QUANTILES.forEach((q, qi) => {
        const g = Array(d + 1).fill(0);
        for (let t = s0; t < end; t++) {
          const i = idx[t]!;
          const x = X[i]!;
          let p = B[qi]!;
          for (let j = 0; j < d; j++) p += W[qi]![j]! * x[j]!;
          const dl = Y[i]! - p >= 0 ? -q : 1 - q; // d pinball / d prediction
          for (let j = 0; j < d; j++) g[j] += dl * x[j]!;
          g[d] += dl;
        }
        for (let j = 0; j <= d; j++) {
          const gj = g[j]! / (end - s0);
          m[qi]![j] = 0.9 * m[qi]![j]! + 0.1 * gj;
          v[qi]![j] = 0.999 * v[qi]![j]! + 0.001 * gj * gj;
          const mh = m[qi]![j]! / (1 - 0.9 ** step), vh = v[qi]![j]! / (1 - 0.999 ** step);
          const upd = (lr * mh) / (Math.sqrt(vh) + 1e-8);
          if (j < d) W[qi]![j]! -= upd;
          else B[qi]! -= upd;
        }
      });
    }
    if (o.onProgress) {
      let loss = 0;
      for (let i = 0; i < X.length; i += 7) QUANTILES.forEach((q, qi) => (loss += pinball(q, Y[i]!, dot(W[qi]!, X[i]!) + B[qi]!)));
      o.onProgress(ep + 1, epochs, (loss * yScale) / Math.ceil(X.length / 7) / QUANTILES.length);
    }
  }
  return {
    kind: "linear-quantile-v1", horizon: o.horizon, features: o.features, mean, std,
    weights: W.map((w) => w.map((x) => x * yScale)), bias: B.map((b) => b * yScale), seed, epochs, trained_on: samples.length,
  };
}

function dot(a: number[], b: number[]): number {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += a[j]! * b[j]!;
  return s;
}

export function sortedQuantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** p10/p50/p90 for one feature vector, kept in order. Pure. */
export function predictQuantiles(m: QuantileModel, x: number[]): [number, number, number] {
  const z = x.map((v, j) => (v - m.mean[j]!) / m.std[j]!);
  const p = m.weights.map((w, qi) => dot(w, z) + m.bias[qi]!).sort((a, b) => a - b);
  return [p[0]!, p[1]!, p[2]!];
}
