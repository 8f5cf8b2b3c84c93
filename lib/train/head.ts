/**
 * The frozen regime's Dense(3) head trained on cached features with plain Float32Array loops.
 *
 * Why not tf.layers: a head step is a 10 x D by D x 3 product; tfjs' per-op overhead and the copies
 * in and out of the backend cost more than the arithmetic. Here one fused pass over the weights does
 * gradient + exact Keras Adam per batch of 10, and the features of the whole patch set stay in one
 * Float32Array addressed by index (no copies per run).
 */
import { Rng, deriveSeed } from '../util/rng';
import { EpochKeeper, adamLearningRateAt, checkHeadData, glorotDense, mseOf, predictHead, resolveTrainConfig, startHeadRun, type DenseWeights, type EpochLog, type HeadTrainArgs, type TrainResult } from './head_common';
import { HeadSimdUnavailableError, trainHeadSimd } from './head_simd';
import { fastKernelsEnabled } from '../backend/fast-kernels';

// The shared types and helpers live in head_common.ts; re-exported so `lib/train/head` stays the head's one entry point.
export * from './head_common';

/**
 * Trains Dense(3) with MSE and exact Keras Adam on mini-batches in a seeded shuffled order each
 * epoch, keeping the weights of the epoch with the lowest validation loss (first one on ties, as
 * Keras' ModelCheckpoint(save_best_only) does).
 *
 * Runs the wasm SIMD kernel (head_simd.ts) when it compiles, else the plain-JS loops (trainHeadJs).
 * Environment: `PET_IQA_FAST_KERNELS=0` (the one switch of lib/backend/fast-kernels) forces the
 * plain-JS loops, to compare or debug the kernel; the two agree to float32 precision
 * (test/train/head_simd.test.ts).
 */
export function trainHead(args: HeadTrainArgs): TrainResult<DenseWeights> {
  // The WebAssembly SIMD kernel (same seeds, order and Keras Adam; equal to float32 precision) is
  // 6-7x faster; the JS loops remain for machines without wasm SIMD, or with the fast kernels off
  // (PET_IQA_FAST_KERNELS=0, lib/backend/fast-kernels).
  if (fastKernelsEnabled()) {
    try {
      return trainHeadSimd(args);
    } catch (e) {
      if (!(e instanceof HeadSimdUnavailableError)) throw e;
    }
  }
  return trainHeadJs(args);
}

/** The reference trainer in plain Float32Array loops (see trainHead). */
export function trainHeadJs(args: HeadTrainArgs): TrainResult<DenseWeights> {
  const cfg = resolveTrainConfig(args.config);
  const { features: X, labels } = args;
  const D = X.dim;
  checkHeadData(X, labels);
  const t0 = performance.now();
  const w = startHeadRun(X.rows, D, args, cfg);
  const kernel = w.kernel;
  const bias = w.bias;
  const mK = new Float32Array(D * 3);
  const vK = new Float32Array(D * 3);
  const mB = new Float64Array(3);
  const vB = new Float64Array(3);
  const { beta1: b1, beta2: b2, epsilon: eps } = cfg;
  const c1 = 1 - b1;
  const c2 = 1 - b2;
  const orderRng = new Rng(deriveSeed(cfg.seed, 'order'));
  const order = Array.from(args.train, Number);
  const B = cfg.batchSize;
  const rowOff = new Int32Array(B);
  const err = new Float64Array(B * 3);
  const G = new Float64Array(D * 3);
  const x = X.data;
  let step = 0;
  let best: DenseWeights = { kernel: Float32Array.from(kernel), bias: Float32Array.from(bias), dim: D, outputs: 3 };
  const keeper = new EpochKeeper(cfg.patience);
  const history: EpochLog[] = [];
  let epoch = 0;
  for (epoch = 1; epoch <= cfg.epochs; epoch++) {
    orderRng.shuffle(order);
    let lossSum = 0;
    for (let start = 0; start < order.length; start += B) {
      const nb = Math.min(B, order.length - start);
      // Forward: predictions and dLoss/dPred = 2 (p - y) / (nb * 3) (Keras MSE: mean over outputs, then batch).
      const gscale = 2 / (nb * 3);
      for (let b = 0; b < nb; b++) {
        const r = order[start + b];
        const base = r * D;
        rowOff[b] = base;
        let s0 = bias[0];
        let s1 = bias[1];
        let s2 = bias[2];
        for (let d = 0, j = 0; d < D; d++, j += 3) {
          const v = x[base + d];
          s0 += v * kernel[j];
          s1 += v * kernel[j + 1];
          s2 += v * kernel[j + 2];
        }
        const e0 = s0 - labels[r * 3];
        const e1 = s1 - labels[r * 3 + 1];
        const e2 = s2 - labels[r * 3 + 2];
        lossSum += e0 * e0 + e1 * e1 + e2 * e2;
        err[b * 3] = e0 * gscale;
        err[b * 3 + 1] = e1 * gscale;
        err[b * 3 + 2] = e2 * gscale;
      }
      step++;
      // Keras Adam: w -= lr_t m / (sqrt(v) + eps).
      const lrt = adamLearningRateAt(cfg, step);
      // Gradient: one contiguous pass per batch row into G (rows stream better than 10 strided
      // reads per feature), then Adam in one pass over the kernel.
      for (let b = 0; b < nb; b++) {
        const o = rowOff[b];
        const e0 = err[b * 3];
        const e1 = err[b * 3 + 1];
        const e2 = err[b * 3 + 2];
        if (b === 0) {
          for (let d = 0, j = 0; d < D; d++, j += 3) {
            const v = x[o + d];
            G[j] = v * e0;
            G[j + 1] = v * e1;
            G[j + 2] = v * e2;
          }
        } else {
          for (let d = 0, j = 0; d < D; d++, j += 3) {
            const v = x[o + d];
            G[j] += v * e0;
            G[j + 1] += v * e1;
            G[j + 2] += v * e2;
          }
        }
      }
      for (let j = 0; j < G.length; j++) {
        const g = G[j];
        const m = (mK[j] = b1 * mK[j] + c1 * g);
        const vv = (vK[j] = b2 * vK[j] + c2 * g * g);
        kernel[j] -= (lrt * m) / (Math.sqrt(vv) + eps);
      }
      for (let o = 0; o < 3; o++) {
        let g = 0;
        for (let b = 0; b < nb; b++) g += err[b * 3 + o];
        mB[o] = b1 * mB[o] + c1 * g;
        vB[o] = b2 * vB[o] + c2 * g * g;
        bias[o] -= (lrt * mB[o]) / (Math.sqrt(vB[o]) + eps);
      }
    }
    const loss = lossSum / (order.length * 3);
    const valLoss = mseOf(predictHead(w, X, args.validation), labels, args.validation);
    const log = { epoch, loss, valLoss };
    history.push(log);
    if (keeper.observe(epoch, valLoss)) best = { kernel: Float32Array.from(kernel), bias: Float32Array.from(bias), dim: D, outputs: 3 };
    if (keeper.shouldStop(args.onEpoch?.(log) === true)) break;
  }
  return { best, ...keeper.kept(), history, epochsRun: history.length, seconds: (performance.now() - t0) / 1000 };
}
