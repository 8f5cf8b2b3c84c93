/**
 * Pretext pretraining of a whole backbone from random init: backbone -> global average pool ->
 * Dense(1) regresses the (standardised) log count level of a patch, MSE, Keras Adam, BatchNorm in
 * training mode. Steps train on whole patches by default (random crops are cheaper, but 40 x 40
 * crops gave inference-mode R^2 near 0 on the whole 80 x 80 patches the study feeds, against 0.88 for
 * whole patches, MobileNetV3Small, quick cohort, 80 steps) with random flips and a random intensity scale (so the patch mean, which rises
 * with the count level after per-volume min-max, is no shortcut; off by default, see PretrainConfig). Afterwards every BN layer's moving
 * statistics are re-measured on whole patches in inference mode (calibrateBatchNorm): the moving
 * averages of a few hundred steps at Keras's momentum 0.99-0.999 lag far behind the trained weights,
 * which made the prototype's inference-mode predictions constant.
 */
import * as tf from '@tensorflow/tfjs';
import { calibrateBatchNorm } from '../backbones/calibrate';
import { preprocessAffine } from '../patches/preprocess';
import type { PreprocessingMode } from '../types';
import { Rng, deriveSeed } from '../util/rng';
import { KerasAdam } from '../train/suffix';

/** Settings of pretrainBackbone (all recorded in the provenance and the cache key). */
export interface PretrainConfig {
  /** Optimiser steps. Default 120. */
  steps?: number;
  /** Patches per step. Default 32. */
  batchSize?: number;
  /** Adam learning rate. Default 1e-3. */
  learningRate?: number;
  /** Side of the random crop trained on; the whole patch when >= its size. Default 80 (the whole 80 x 80 patch: smaller crops do not transfer to whole patches). */
  crop?: number;
  /** Random intensity scale per patch, log-uniform in [1/s, s]; 1 disables. Default 1 (off: it slowed learning; the scaling test in the check watches the patch-mean shortcut instead). */
  intensityJitter?: number;
  /** Patches the BN statistics are re-measured on after training. Default 96. */
  calibrationImages?: number;
  /** Seed of batches, crops, flips, jitter and the head's init. Default 0. */
  seed?: number;
}

/** Most patches of the inference-mode check. */
const CHECK_PATCHES = 256;

export const DEFAULT_PRETRAIN: Required<PretrainConfig> = { steps: 120, batchSize: 32, learningRate: 1e-3, crop: 80, intensityJitter: 1, calibrationImages: 96, seed: 0 };

/** Arguments of pretrainBackbone. */
export interface PretrainArgs {
  /** The backbone (random init); its weights are trained in place. */
  base: tf.LayersModel;
  preprocessing: PreprocessingMode;
  /** Grey patches in [0, 1], patch after patch, `size` x `size`. */
  patches: Float32Array;
  size: number;
  /** One target per patch. */
  targets: Float32Array;
  /** Rows trained on. */
  train: ArrayLike<number>;
  /** Rows the inference-mode check runs on (other patients). */
  validation: ArrayLike<number>;
  config?: PretrainConfig;
  /** Called after each step with the step's training loss (standardised units); return true to stop. */
  onStep?: (step: number, loss: number, seconds: number) => void | boolean;
}

/** The inference-mode check of a pretrained backbone on held-out patches. */
export interface PretextCheck {
  /** Patches checked. */
  count: number;
  /** MSE and MAE of the predicted target (target units, e.g. ln count %). */
  mse: number;
  mae: number;
  /** 1 - MSE / variance of the targets. */
  r2: number;
  /** Standard deviation of the predictions over that of the targets (near 0: a collapsed model). */
  predictionSpread: number;
  /** Mean change of the prediction when the patches are scaled by 0.7 and by 1.4 (the patch-mean shortcut). */
  scaleShift: { down: number; up: number };
}

/** What pretrainBackbone did. */
export interface PretrainResult {
  config: Required<PretrainConfig>;
  /** Training loss per step (standardised targets). */
  losses: number[];
  /** Mean training loss of the last 10 % of steps (standardised targets). */
  finalLoss: number;
  /** Standardisation of the targets: z = (t - mean) / std. */
  targetMean: number;
  targetStd: number;
  /** BN layers re-measured after training. */
  bnLayers: number;
  /** Inference-mode check on the validation rows, before any head sees the model. */
  check: PretextCheck;
  seconds: number;
  /** Mean seconds per step (the first, compiling step excluded when there are more). */
  secondsPerStep: number;
}

export function resolvePretrainConfig(cfg: PretrainConfig = {}): Required<PretrainConfig> {
  const c = { ...DEFAULT_PRETRAIN, ...Object.fromEntries(Object.entries(cfg).filter(([, v]) => v !== undefined)) } as Required<PretrainConfig>;
  const positiveInt = (v: number) => Number.isInteger(v) && v >= 1;
  if (!positiveInt(c.steps)) throw new Error(`pretrain: steps must be a positive integer, got ${c.steps}`);
  if (!positiveInt(c.batchSize)) throw new Error(`pretrain: batchSize must be a positive integer, got ${c.batchSize}`);
  if (!positiveInt(c.crop) || c.crop < 8) throw new Error(`pretrain: crop must be an integer >= 8, got ${c.crop}`);
  if (!(c.learningRate > 0)) throw new Error(`pretrain: learningRate must be > 0, got ${c.learningRate}`);
  if (!(c.intensityJitter >= 1)) throw new Error(`pretrain: intensityJitter must be >= 1, got ${c.intensityJitter}`);
  if (!positiveInt(c.calibrationImages)) throw new Error(`pretrain: calibrationImages must be a positive integer, got ${c.calibrationImages}`);
  return c;
}

/** The pretext model: base -> GlobalAveragePooling2D -> Dense(1); shares the base's layers. */
export function pretextModel(base: tf.LayersModel, seed: number): tf.LayersModel {
  const pooled = tf.layers.globalAveragePooling2d({ name: 'pretext_pool' }).apply(base.outputs[0]) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 1, name: 'pretext_head', kernelInitializer: tf.initializers.glorotUniform({ seed }) }).apply(pooled) as tf.SymbolicTensor;
  return tf.model({ inputs: base.inputs, outputs: out, name: `${base.name}_pretext` });
}

/**
 * A batch of preprocessed backbone inputs [n, side, side, 3]: for each row a `side` crop at a random
 * (or centred, when rng is undefined) place, optionally flipped and intensity-scaled.
 */
export function pretextBatch(
  patches: Float32Array,
  size: number,
  rows: ArrayLike<number>,
  side: number,
  mode: PreprocessingMode,
  rng?: Rng,
  jitter = 1,
  scale = 1,
): tf.Tensor4D {
  const s = Math.min(side, size);
  const { scale: a, offset: b } = preprocessAffine(mode);
  const out = new Float32Array(rows.length * s * s * 3);
  const logJ = Math.log(jitter);
  for (let n = 0; n < rows.length; n++) {
    const base = rows[n] * size * size;
    const y0 = rng ? rng.int(size - s + 1) : (size - s) >> 1;
    const x0 = rng ? rng.int(size - s + 1) : (size - s) >> 1;
    const flipY = rng ? rng.next() < 0.5 : false;
    const flipX = rng ? rng.next() < 0.5 : false;
    const k = scale * (rng && jitter > 1 ? Math.exp(rng.uniform(-logJ, logJ)) : 1);
    for (let y = 0; y < s; y++) {
      const sy = y0 + (flipY ? s - 1 - y : y);
      for (let x = 0; x < s; x++) {
        const v = k * patches[base + sy * size + x0 + (flipX ? s - 1 - x : x)];
        const o = ((n * s + y) * s + x) * 3;
        out[o] = a[0] * v + b[0];
        out[o + 1] = a[1] * v + b[1];
        out[o + 2] = a[2] * v + b[2];
      }
    }
  }
  return tf.tensor4d(out, [rows.length, s, s, 3]);
}

/** Inference-mode predictions (target units) of whole patches. */
export function predictPretext(model: tf.LayersModel, patches: Float32Array, size: number, rows: ArrayLike<number>, mode: PreprocessingMode, mean: number, std: number, scale = 1, batchSize = 32): Float32Array {
  const out = new Float32Array(rows.length);
  for (let s = 0; s < rows.length; s += batchSize) {
    const idx = Array.prototype.slice.call(rows, s, Math.min(s + batchSize, rows.length)) as number[];
    const y = tf.tidy(() => (model.predict(pretextBatch(patches, size, idx, size, mode, undefined, 1, scale)) as tf.Tensor).mul(std).add(mean));
    out.set(y.dataSync() as Float32Array, s);
    y.dispose();
  }
  return out;
}

function meanOf(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s / a.length;
}

/** The inference-mode check: accuracy, spread and the scaling test. */
export function checkPretext(model: tf.LayersModel, args: Pick<PretrainArgs, 'patches' | 'size' | 'targets' | 'preprocessing'>, rows: ArrayLike<number>, mean: number, std: number): PretextCheck {
  const pred = predictPretext(model, args.patches, args.size, rows, args.preprocessing, mean, std);
  const t = Float32Array.from(rows, (r) => args.targets[r]);
  const tm = meanOf(t);
  const pm = meanOf(pred);
  let se = 0;
  let ae = 0;
  let vt = 0;
  let vp = 0;
  for (let i = 0; i < t.length; i++) {
    se += (pred[i] - t[i]) ** 2;
    ae += Math.abs(pred[i] - t[i]);
    vt += (t[i] - tm) ** 2;
    vp += (pred[i] - pm) ** 2;
  }
  const down = meanOf(predictPretext(model, args.patches, args.size, rows, args.preprocessing, mean, std, 0.7)) - pm;
  const up = meanOf(predictPretext(model, args.patches, args.size, rows, args.preprocessing, mean, std, 1.4)) - pm;
  return { count: t.length, mse: se / t.length, mae: ae / t.length, r2: vt > 0 ? 1 - se / vt : NaN, predictionSpread: vt > 0 ? Math.sqrt(vp / vt) : NaN, scaleShift: { down, up } };
}

/** Trains `base` on the pretext targets (see the module comment). */
export function pretrainBackbone(args: PretrainArgs): PretrainResult {
  const cfg = resolvePretrainConfig(args.config);
  const { base, patches, size, targets } = args;
  if (base.inputs.length !== 1) throw new Error(`pretrain: ${base.name} has ${base.inputs.length} inputs, expected 1`);
  if (patches.length !== targets.length * size * size) throw new Error(`pretrain: ${patches.length} patch values for ${targets.length} targets of ${size}x${size}`);
  if (args.train.length === 0 || args.validation.length === 0) throw new Error('pretrain: empty training or validation rows');
  const t0 = performance.now();
  const trainT = Float32Array.from(args.train, (r) => targets[r]);
  const targetMean = meanOf(trainT);
  const targetStd = Math.sqrt(meanOf(trainT.map((v) => (v - targetMean) ** 2))) || 1;
  const rng = new Rng(deriveSeed(cfg.seed, 'pretext-batches'));
  const model = pretextModel(base, deriveSeed(cfg.seed, 'pretext-head'));
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const opt = new KerasAdam(vars, { learningRate: cfg.learningRate, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 });
  const losses: number[] = [];
  const stepSeconds: number[] = [];
  const train = Array.from(args.train, Number);
  try {
    for (let step = 1; step <= cfg.steps; step++) {
      const ts = performance.now();
      const idx = Array.from({ length: cfg.batchSize }, () => train[rng.int(train.length)]);
      const x = pretextBatch(patches, size, idx, cfg.crop, args.preprocessing, rng, cfg.intensityJitter);
      const y = tf.tensor2d(Float32Array.from(idx, (r) => (targets[r] - targetMean) / targetStd), [idx.length, 1]);
      const { value, grads } = tf.variableGrads(() => tf.losses.meanSquaredError(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, vars);
      opt.apply(vars.map((v) => grads[v.name]));
      const loss = value.dataSync()[0];
      tf.dispose([value, ...Object.values(grads), x, y]);
      if (!Number.isFinite(loss)) throw new Error(`pretrain: ${base.name} diverged at step ${step} (loss ${loss}); lower the learning rate`);
      losses.push(loss);
      const sec = (performance.now() - ts) / 1000;
      stepSeconds.push(sec);
      if (args.onStep?.(step, loss, sec) === true) break;
    }
  } finally {
    opt.dispose();
  }
  // Population BN statistics of the trained weights, on whole patches, in inference mode.
  const calRows = new Rng(deriveSeed(cfg.seed, 'pretext-bn')).sample(train, Math.min(cfg.calibrationImages, train.length));
  const calX = pretextBatch(patches, size, calRows, size, args.preprocessing);
  const bn = calibrateBatchNorm(base, calX);
  calX.dispose();
  // A seeded subset keeps the check (three passes over it) cheap.
  const checkRows = new Rng(deriveSeed(cfg.seed, 'pretext-check-rows')).sample(Array.from(args.validation, Number), Math.min(CHECK_PATCHES, args.validation.length));
  const check = checkPretext(model, args, checkRows, targetMean, targetStd);
  // Only the head's own variables are dropped: the base's layers stay with the caller.
  model.getLayer('pretext_head').dispose();
  const tail = Math.max(1, Math.ceil(losses.length / 10));
  const timed = stepSeconds.length > 1 ? stepSeconds.slice(1) : stepSeconds;
  return {
    config: cfg,
    losses,
    finalLoss: meanOf(losses.slice(-tail)),
    targetMean,
    targetStd,
    bnLayers: bn.layers,
    check,
    seconds: (performance.now() - t0) / 1000,
    secondsPerStep: meanOf(timed),
  };
}
