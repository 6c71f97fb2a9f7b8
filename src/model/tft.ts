/**
 * A Temporal Fusion Transformer (Lim et al., 2019) for multi-horizon quantiles of the future
 * return, on tfjs. The parts, in order:
 *   input embedding      each scalar input variable → a d-vector (its own linear map)
 *   variable selection   a GRN over all embeddings gives softmax weights per variable and time;
 *                        each variable goes through its own GRN; the weighted sum is the input
 *   LSTM encoder         over the lookback window (default 120 bars)
 *   gate, add & norm     GLU-gated LSTM output + the selected input, layer norm
 *   enrichment           a GRN on every step (there are no static covariates here, so no context)
 *   attention            interpretable multi-head self-attention (per-head queries and keys, one
 *                        value projection shared by all heads, heads averaged), queried from the
 *                        last step over the whole window, then gate, add & norm, a position-wise
 *                        GRN and a last gate, add & norm with the LSTM output
 *   heads                per horizon p10/p50/p90 (p10 = p50 − softplus, p90 = p50 + softplus: the
 *                        quantiles cannot cross) and a confidence head (sigmoid)
 * GRN(a) = LayerNorm(skip(a) + GLU(W1·ELU(W2·a + b2) + b1)),  GLU(g) = σ(Wg·g + bg) ⊙ (Wv·g + bv).
 *
 * The confidence is the model's probability that its p50 has the right sign, averaged over the
 * horizons: a logistic head on the final representation trained by cross-entropy against that
 * outcome; it does not feed gradients back into the quantile trunk.
 *
 * Everything here is pure apart from tfjs's own state: no I/O, no clock (the caller passes `now`
 * where it wants timings). Initial weights and the sample order come from a seeded PRNG, so the
 * same data, seed and backend give the same model.
 */
import { tf } from "./tf";
import { rng } from "./quantile";

export interface TftConfig {
  features: string[]; // input variable names (FEATURE_NAMES)
  lookback: number; // bars in the encoder window
  horizons: number[]; // bars ahead, one quantile head each
  hidden: number; // d
  heads: number; // attention heads
}

export interface TftWeights {
  name: string;
  shape: number[];
  data: string; // little-endian float32, base64
}

/** A trained TFT as stored in the model registry (params of a `tft` row). */
export interface TftModel {
  kind: "tft-v1";
  config: TftConfig;
  norm: { mean: number[]; std: number[]; y_scale: number[] }; // inputs standardised; targets / y_scale per horizon
  weights: TftWeights[];
  importances: Record<string, number>; // mean variable-selection weight per input over the validation part
  seed: number;
  epochs_run: number;
  best_epoch: number;
  val_loss: number; // the early-stopping loss (scaled pinball) at the best epoch
  backend: string;
  trained_on: number;
}

type P = Record<string, tf.Tensor>;

/** Parameter shapes for a config (names are stable: they are the stored weights' names). */
export function paramShapes(c: TftConfig): Record<string, number[]> {
  const F = c.features.length, d = c.hidden, H = c.horizons.length;
  const s: Record<string, number[]> = {
    emb_w: [F, d], emb_b: [F, d],
    lstm_wx: [d, 4 * d], lstm_wh: [d, 4 * d], lstm_b: [4 * d],
    att_wq: [d, c.heads * d], att_wk: [d, c.heads * d], att_wv: [d, d], att_wo: [d, d],
    q_w: [d, H * 3], q_b: [H * 3],
    conf_w: [d, 1], conf_b: [1],
  };
  const grn = (p: string, din: number, dout: number, batch?: number) => {
    const b = (...x: number[]) => (batch ? [batch, ...x] : x);
    const v = (n: number) => (batch ? [batch, 1, n] : [n]);
    if (din !== dout) s[`${p}_skip`] = b(din, dout);
    Object.assign(s, { [`${p}_w2`]: b(din, d), [`${p}_b2`]: v(d), [`${p}_w1`]: b(d, d), [`${p}_b1`]: v(d), [`${p}_wg`]: b(d, dout), [`${p}_bg`]: v(dout), [`${p}_wv`]: b(d, dout), [`${p}_bv`]: v(dout), [`${p}_ln_g`]: v(dout), [`${p}_ln_b`]: v(dout) });
  };
  const glu = (p: string) => Object.assign(s, { [`${p}_wg`]: [d, d], [`${p}_bg`]: [d], [`${p}_wv`]: [d, d], [`${p}_bv`]: [d], [`${p}_ln_g`]: [d], [`${p}_ln_b`]: [d] });
  grn("vsn_sel", F * d, F);
  grn("vsn_var", d, d, F);
  glu("gate_lstm");
  grn("enrich", d, d);
  glu("gate_att");
  grn("ff", d, d);
  glu("gate_out");
  return s;
}

/** Seeded initial weights: Glorot-uniform matrices, zero biases, unit layer-norm gains, LSTM forget bias 1. */
export function initParams(c: TftConfig, seed: number): Record<string, Float32Array> {
  const r = rng(seed);
  const out: Record<string, Float32Array> = {};
  for (const [name, shape] of Object.entries(paramShapes(c))) {
    const n = shape.reduce((a, b) => a * b, 1);
    const a = new Float32Array(n);
    if (name.endsWith("_ln_g")) a.fill(1);
    else if (name === "lstm_b") a.fill(1, c.hidden, 2 * c.hidden); // gates i, f, g, o: forget bias 1
    else if (/_b\d?$|_b[gv]$|_ln_b$/.test(name) || name === "emb_b") a.fill(0);
    else {
      const fanIn = shape[shape.length - 2] ?? 1, fanOut = shape[shape.length - 1] ?? 1;
      const lim = Math.sqrt(6 / (fanIn + fanOut));
      for (let i = 0; i < n; i++) a[i] = (r() * 2 - 1) * lim;
    }
    out[name] = a;
  }
  return out;
}

function layerNorm(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5))), g), b);
}

const mm = (a: tf.Tensor, w: tf.Tensor) => tf.matMul(a as tf.Tensor2D, w as tf.Tensor2D);

function gluOf(p: P, name: string, x: tf.Tensor): tf.Tensor {
  return tf.mul(tf.sigmoid(tf.add(mm(x, p[`${name}_wg`]!), p[`${name}_bg`]!)), tf.add(mm(x, p[`${name}_wv`]!), p[`${name}_bv`]!));
}

/** GRN over the last axis; `x` is [N, din] (or [F, N, din] with per-variable weights). */
function grn(p: P, name: string, x: tf.Tensor): tf.Tensor {
  const skip = p[`${name}_skip`] ? mm(x, p[`${name}_skip`]!) : x;
  const h = tf.elu(tf.add(mm(x, p[`${name}_w2`]!), p[`${name}_b2`]!));
  const g = tf.add(mm(h, p[`${name}_w1`]!), p[`${name}_b1`]!);
  return layerNorm(tf.add(skip, gluOf(p, name, g)), p[`${name}_ln_g`]!, p[`${name}_ln_b`]!);
}

function gateAddNorm(p: P, name: string, x: tf.Tensor, residual: tf.Tensor): tf.Tensor {
  return layerNorm(tf.add(residual, gluOf(p, name, x)), p[`${name}_ln_g`]!, p[`${name}_ln_b`]!);
}

export interface Forward {
  raw: tf.Tensor; // [B, H, 3] scaled quantiles (ordered)
  final: tf.Tensor; // [B, d]
  vsn: tf.Tensor; // [B, F] variable-selection weights averaged over the window
}

/** The network on a batch of standardised windows x [B, L, F]. Call inside tf.tidy. */
export function forward(p: P, c: TftConfig, x: tf.Tensor3D): Forward {
  const [B, L, F] = x.shape;
  const d = c.hidden, H = c.horizons.length;
  // input embedding: [B, L, F, d]
  const emb = tf.add(tf.mul(tf.expandDims(x, 3), p.emb_w!), p.emb_b!);
  const flat = tf.reshape(emb, [B * L, F * d]);
  // variable selection: softmax weights [B*L, F], per-variable GRNs [F, B*L, d]
  const sel = tf.softmax(grn(p, "vsn_sel", flat), -1);
  const perVar = grn(p, "vsn_var", tf.transpose(tf.reshape(emb, [B * L, F, d]), [1, 0, 2]));
  const selected = tf.sum(tf.mul(tf.transpose(perVar, [1, 0, 2]), tf.expandDims(sel, 2)), 1); // [B*L, d]
  const vsn = tf.mean(tf.reshape(sel, [B, L, F]), 1);
  // LSTM encoder (input projection for every step at once, then the recurrence)
  const xw = tf.reshape(tf.add(mm(selected, p.lstm_wx!), p.lstm_b!), [B, L, 4 * d]);
  let h: tf.Tensor = tf.zeros([B, d]);
  let cell: tf.Tensor = tf.zeros([B, d]);
  const hs: tf.Tensor[] = [];
  for (let t = 0; t < L; t++) {
    const z = tf.add(tf.reshape(tf.slice(xw, [0, t, 0], [B, 1, 4 * d]), [B, 4 * d]), mm(h, p.lstm_wh!));
    const [i, f, g, o] = tf.split(z, 4, 1);
    cell = tf.add(tf.mul(tf.sigmoid(f!), cell), tf.mul(tf.sigmoid(i!), tf.tanh(g!)));
    h = tf.mul(tf.sigmoid(o!), tf.tanh(cell));
    hs.push(h);
  }
  const lstm = tf.reshape(tf.stack(hs, 1), [B * L, d]);
  const gated = gateAddNorm(p, "gate_lstm", lstm, selected); // [B*L, d]
  const enriched = grn(p, "enrich", gated);
  // interpretable multi-head attention from the last step over the window
  const nh = c.heads;
  const enr3 = tf.reshape(enriched, [B, L, d]);
  const last = tf.reshape(tf.slice(enr3, [0, L - 1, 0], [B, 1, d]), [B, d]);
  const q = tf.reshape(mm(last, p.att_wq!), [B, 1, nh, d]);
  const k = tf.reshape(mm(enriched, p.att_wk!), [B, L, nh, d]);
  const scores = tf.div(tf.sum(tf.mul(k, q), 3), Math.sqrt(d)); // [B, L, nh]
  const attn = tf.mean(tf.softmax(tf.transpose(scores, [0, 2, 1]), -1), 1); // heads averaged: [B, L]
  const v = tf.reshape(mm(enriched, p.att_wv!), [B, L, d]);
  const ctx = mm(tf.sum(tf.mul(v, tf.expandDims(attn, 2)), 1), p.att_wo!); // [B, d]
  const attOut = gateAddNorm(p, "gate_att", ctx, last);
  const ff = grn(p, "ff", attOut);
  const lstmLast = tf.reshape(tf.slice(tf.reshape(gated, [B, L, d]), [0, L - 1, 0], [B, 1, d]), [B, d]);
  const final = gateAddNorm(p, "gate_out", ff, lstmLast);
  // quantile heads: p50 free, p10/p90 at a softplus distance below/above
  const qr = tf.reshape(tf.add(mm(final, p.q_w!), p.q_b!), [B, H, 3]);
  const [lo, mid, hi] = tf.split(qr, 3, 2);
  const raw = tf.concat([tf.sub(mid!, tf.softplus(lo!)), mid!, tf.add(mid!, tf.softplus(hi!))], 2);
  return { raw, final, vsn };
}

/** Mean pinball loss over horizons and the three quantiles, on scaled targets y [B, H]. */
export function quantileLoss(raw: tf.Tensor, y: tf.Tensor): tf.Scalar {
  const qs = tf.tensor1d([0.1, 0.5, 0.9]);
  const e = tf.sub(tf.expandDims(y, 2), raw); // [B, H, 3]
  return tf.mean(tf.maximum(tf.mul(qs, e), tf.mul(tf.sub(qs, 1), e))) as tf.Scalar;
}

export function confidenceLogit(p: P, final: tf.Tensor): tf.Tensor {
  return tf.reshape(tf.add(mm(final, p.conf_w!), p.conf_b!), [-1]);
}

// --- weights: storage ------------------------------------------------------------------------

export function encodeWeights(named: Record<string, { shape: number[]; data: Float32Array }>): TftWeights[] {
  return Object.entries(named).map(([name, w]) => ({ name, shape: w.shape, data: Buffer.from(w.data.buffer, w.data.byteOffset, w.data.byteLength).toString("base64") }));
}

/** Check and decode stored weights against the config; throws naming the first bad one. */
export function decodeWeights(m: TftModel): Record<string, { shape: number[]; data: Float32Array }> {
  if (!m || m.kind !== "tft-v1" || !m.config || !Array.isArray(m.weights)) throw new Error("not a tft-v1 model");
  const shapes = paramShapes(m.config);
  const by = new Map(m.weights.map((w) => [w.name, w]));
  const out: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const [name, shape] of Object.entries(shapes)) {
    const w = by.get(name);
    if (!w) throw new Error(`tft weights: ${name} is missing`);
    if (JSON.stringify(w.shape) !== JSON.stringify(shape)) throw new Error(`tft weights: ${name} has shape ${JSON.stringify(w.shape)}, expected ${JSON.stringify(shape)}`);
    const buf = Buffer.from(w.data, "base64");
    const n = shape.reduce((a, b) => a * b, 1);
    if (buf.byteLength !== n * 4) throw new Error(`tft weights: ${name} holds ${buf.byteLength} bytes, expected ${n * 4}`);
    const data = new Float32Array(n);
    new Uint8Array(data.buffer).set(buf);
    for (let i = 0; i < n; i++) if (!Number.isFinite(data[i]!)) throw new Error(`tft weights: ${name} holds a non-finite value`);
    out[name] = { shape, data };
  }
  return out;
}

// --- inference -------------------------------------------------------------------------------

export interface TftPrediction {
  quantiles: [number, number, number][][]; // [sample][horizon] = p10, p50, p90 (returns, not scaled)
  confidence: number[]; // [sample] in (0, 1)
  importances: number[][]; // [sample][feature] variable-selection weights
}

/** A stored TFT with its weights in tensors, ready for batched inference. Call dispose() when done. */
export class LoadedTft {
  private p: P;
  constructor(readonly model: TftModel) {
    const w = decodeWeights(model);
    this.p = Object.fromEntries(Object.entries(w).map(([k, v]) => [k, tf.tensor(v.data, v.shape)]));
  }

  get lookback(): number {
    return this.model.config.lookback;
  }

  /** Standardise a window of raw feature rows (oldest first, `lookback` rows). */
  normalise(rows: ArrayLike<number>[], into: Float32Array, at: number): void {
    const { mean, std } = this.model.norm;
    const F = mean.length;
    rows.forEach((r, t) => {
      for (let j = 0; j < F; j++) into[at + t * F + j] = clip((r[j]! - mean[j]!) / std[j]!);
    });
  }

  /** One batch: windows of raw feature rows, each `lookback` long. */
  predict(windows: ArrayLike<number>[][]): TftPrediction {
    const c = this.model.config;
    const B = windows.length, L = c.lookback, F = c.features.length;
    if (B === 0) return { quantiles: [], confidence: [], importances: [] };
    const buf = new Float32Array(B * L * F);
    windows.forEach((w, b) => {
      if (w.length !== L) throw new Error(`tft: window of ${w.length} rows, expected ${L}`);
      this.normalise(w, buf, b * L * F);
    });
    return this.predictNormalised(buf, B);
  }

  predictNormalised(buf: Float32Array, B: number): TftPrediction {
    const c = this.model.config;
    const H = c.horizons.length, F = c.features.length;
    const [raw, conf, vsn] = tf.tidy(() => {
      const f = forward(this.p, c, tf.tensor3d(buf, [B, c.lookback, F]));
      return [f.raw.dataSync(), tf.sigmoid(confidenceLogit(this.p, f.final)).dataSync(), f.vsn.dataSync()];
    });
    const ys = this.model.norm.y_scale;
    const quantiles: [number, number, number][][] = [];
    for (let b = 0; b < B; b++) {
      const row: [number, number, number][] = [];
      for (let h = 0; h < H; h++) {
        const o = (b * H + h) * 3;
        const q = [raw[o]! * ys[h]!, raw[o + 1]! * ys[h]!, raw[o + 2]! * ys[h]!].sort((x, y) => x - y); // the fix-up: never crossed
        if (!q.every(Number.isFinite)) throw new Error("tft: non-finite prediction");
        row.push(q as [number, number, number]);
      }
      quantiles.push(row);
    }
    return {
      quantiles,
      confidence: Array.from(conf as Float32Array),
      importances: Array.from({ length: B }, (_, b) => Array.from((vsn as Float32Array).subarray(b * F, (b + 1) * F))),
    };
  }

  dispose(): void {
    for (const t of Object.values(this.p)) t.dispose();
  }
}

export const clip = (v: number) => (v > 8 ? 8 : v < -8 ? -8 : Number.isFinite(v) ? v : 0);
