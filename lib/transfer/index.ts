/**
 * The paper's transfer model, one owner for each of its parts: the freeze rule, the frozen extractor
 * (frozen regime: BN-folded base + Flatten), the split of the partial regime into a frozen prefix and
 * a trainable suffix, the Dense(3) head, and the compiled inference the frozen parts run with.
 * Training (lib/study/jobs) and scoring (lib/score/model) build and run the frozen parts through
 * here, so a kept model scores patches with exactly the features its training read from the cache.
 * Tables II/III count parameters with the same rule (lib/backbones/param_table, lib/figures/table3).
 */
import * as tf from '@tensorflow/tfjs';
import type { InferenceFn } from '../accel/compile';
import { compileForBackend } from '../accel/graph';
import { attachHead, foldBatchNorm, splitModel, type SplitModel } from '../train/graph';
import { glorotDense } from '../train/head_common';
import { deriveSeed } from '../util/rng';
import { saveTfjsModel } from '../weights/tfjs';

// The freeze rule (tfjs-free, so plans and tables load it without TensorFlow.js) and the Keras-style
// transfer model with its regimes (Table II/III counts) live in lib/backbones; this is their entry point.
export { PAPER_FROZEN_FRACTION, frozenLayerCount } from '../backbones/freeze';
export { applyRegime, buildTransferModel, countParams, type ParamCounts, type RegimeSummary, type TransferModelArgs } from '../backbones/transfer';

/**
 * What the frozen part of a regime outputs, i.e. what the study caches: the flattened frozen base
 * (frozen regime), or the activations at the partial regime's cut after `frozenLayers` frozen base layers.
 */
export type ExtractTarget = { kind: 'features' } | { kind: 'cut'; frozenLayers: number };

/** The target's tag in cache keys and logs: 'features' or `cut<k>` (the cache keys' spelling since format 1). */
export function extractTargetTag(target: ExtractTarget): string {
  return target.kind === 'features' ? 'features' : `cut${target.frozenLayers}`;
}

/** Options of the frozen parts. */
export interface FrozenPartOptions {
  /** Fold BatchNormalization into the preceding convolutions (exact in inference mode). Default true (every study run). */
  foldBatchNorm?: boolean;
}

/** The frozen regime's extractor: the (BN-folded) base followed by Flatten; one output of `dim` features. */
export function frozenExtractor(base: tf.LayersModel, opts: FrozenPartOptions = {}): tf.LayersModel {
  const m = opts.foldBatchNorm === false ? base : foldBatchNorm(base).model;
  return tf.model({ inputs: m.inputs, outputs: tf.layers.flatten().apply(m.outputs[0]) as tf.SymbolicTensor, name: `${base.name}_features` });
}

/** The partial regime's model and its split (see partialSplit). */
export interface PartialSplit {
  /** `base` + Flatten + Dense(3) ('dense'). */
  whole: tf.LayersModel;
  /** Frozen prefix (not BN-folded), cut tensors and trainable suffix (shares layers with `whole`). */
  split: SplitModel;
  /** The head layer, shared by `whole` and `split.suffix`. */
  dense: tf.layers.Layer;
}

/**
 * The partial regime's model: `base` + Flatten + Dense(3) (layer 'dense'), split after the first
 * `frozenLayers` base layers (frozen) into prefix and suffix.
 */
export function partialSplit(base: tf.LayersModel, frozenLayers: number): PartialSplit {
  const dense = tf.layers.dense({ units: 3, name: 'dense' });
  const whole = attachHead(base, { dense });
  const frozen = new Set(base.layers.slice(0, frozenLayers));
  return { whole, split: splitModel(whole, (l) => frozen.has(l)), dense };
}

/** partialSplit with the Dense(3) head initialised as a run's seed gives it (Glorot uniform, zero bias), as training starts. */
export function seededPartialSplit(base: tf.LayersModel, frozenLayers: number, runSeed: number): PartialSplit {
  const split = partialSplit(base, frozenLayers);
  const dim = split.dense.getWeights()[0].shape[0];
  const init = glorotDense(dim, 3, deriveSeed(runSeed, 'init'));
  const w = [tf.tensor2d(init.kernel, [dim, 3]), tf.tensor1d(init.bias)];
  split.dense.setWeights(w);
  tf.dispose(w);
  return split;
}

/** The frozen prefix of a split as the study runs it: BN-folded unless asked otherwise. */
export function frozenPrefix(split: SplitModel, opts: FrozenPartOptions = {}): tf.LayersModel {
  return opts.foldBatchNorm === false ? split.prefix : foldBatchNorm(split.prefix).model;
}

/** The model whose outputs the study caches for a target: frozenExtractor, or the BN-folded frozen prefix of partialSplit. */
export function extractionModel(base: tf.LayersModel, target: ExtractTarget): tf.LayersModel {
  if (target.kind === 'features') return frozenExtractor(base);
  return frozenPrefix(partialSplit(base, target.frozenLayers).split);
}

/**
 * The inference the frozen parts run with, in the study and in scoring alike (lib/accel
 * compileForBackend: same outputs as model.predict to float32 precision, activations fused into the
 * convolutions; one TensorFlow graph on native). Compile after the weights are loaded.
 */
export function compileFrozen(model: tf.LayersModel): Promise<InferenceFn> {
  return compileForBackend(model);
}

/** The paper's Dense(3) head on its own (layer 'dense'), taking flattened features (input 'features'); model 'head'. */
export function headModel(dim: number): tf.LayersModel {
  const inp = tf.input({ shape: [dim], name: 'features' });
  const dense = tf.layers.dense({ units: 3, name: 'dense' });
  return tf.model({ inputs: inp, outputs: dense.apply(inp) as tf.SymbolicTensor, name: 'head' });
}

/** Saves a Dense(3) head as a TensorFlow.js layers model (input = flattened features). */
export async function saveHead(dir: string, kernel: Float32Array, bias: Float32Array, dim: number): Promise<void> {
  const m = headModel(dim);
  const w = [tf.tensor2d(kernel, [dim, 3]), tf.tensor1d(bias)];
  m.setWeights(w);
  tf.dispose(w);
  await saveTfjsModel(m, dir);
  m.dispose();
}
