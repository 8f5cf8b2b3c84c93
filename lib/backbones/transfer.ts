/**
 * The paper's transfer model (backbone -> Flatten -> Dense(3) for GQR, PR, DC), its two freezing
 * regimes, and parameter counting.
 */
import * as tf from '@tensorflow/tfjs';
import { METRICS, type Regime } from '../types';
import { deriveSeed } from '../util/rng';
import { frozenLayerCount } from './freeze';

/** Arguments of {@link buildTransferModel}. */
export interface TransferModelArgs {
  /** Seed of the Dense kernel initialiser (glorot_uniform, as Keras). Default 0. */
  seed?: number;
  /** Number of linear outputs. Default 3 (GQR, PR, DC, in that order). */
  outputs?: number;
  /** Model name. Default `<base name>_iqa`. */
  name?: string;
}

/**
 * base + Flatten ('flatten') + Dense(outputs, linear, 'dense'), as one flat functional model that
 * shares the base's layers (weights loaded into `base` are the transfer model's). model.layers is
 * base.layers followed by 'flatten' and 'dense'.
 */
export function buildTransferModel(base: tf.LayersModel, args: TransferModelArgs = {}): tf.LayersModel {
  const outputs = args.outputs ?? METRICS.length;
  const seed = args.seed ?? 0;
  if (!Number.isInteger(outputs) || outputs < 1) {
    throw new Error(`buildTransferModel: outputs must be a positive integer, got ${outputs}`);
  }
  if (base.inputs.length !== 1 || base.outputs.length !== 1) {
    throw new Error(
      `buildTransferModel: the base model '${base.name}' must have one input and one output, ` +
        `got ${base.inputs.length} and ${base.outputs.length}`,
    );
  }
  for (const taken of ['flatten', 'dense']) {
    if (base.layers.some((l) => l.name === taken)) {
      throw new Error(`buildTransferModel: the base model '${base.name}' already has a layer named '${taken}'`);
    }
  }
  const flat = tf.layers.flatten({ name: 'flatten' }).apply(base.outputs[0]) as tf.SymbolicTensor;
  const y = tf.layers
    .dense({
      units: outputs,
      activation: 'linear',
      name: 'dense',
      kernelInitializer: tf.initializers.glorotUniform({ seed: deriveSeed(seed, 'dense', 'kernel') }),
      biasInitializer: 'zeros',
    })
    .apply(flat) as tf.SymbolicTensor;
  const model = tf.model({ inputs: base.inputs, outputs: y, name: args.name ?? `${base.name}_iqa` });
  BASE_OF.set(model, base);
  return model;
}

/** The base of each model made by buildTransferModel, so applyRegime needs no third argument. */
const BASE_OF = new WeakMap<tf.LayersModel, tf.LayersModel>();

// The freeze rule lives in a tfjs-free module so that tables and plans can use it without loading TensorFlow.js.
export { PAPER_FROZEN_FRACTION, frozenLayerCount } from './freeze';

/** Parameter counts, as Keras's model.summary() reports them. */
export interface ParamCounts {
  total: number;
  trainable: number;
  nonTrainable: number;
}

function size(shape: ReadonlyArray<number | null>): number {
  return shape.reduce<number>((a, b) => a * (b ?? 1), 1);
}

/** Total, trainable and non-trainable parameters of a model under its current `trainable` flags. */
export function countParams(model: tf.LayersModel): ParamCounts {
  const total = model.weights.reduce((s, w) => s + size(w.shape), 0);
  const trainable = model.trainableWeights.reduce((s, w) => s + size(w.shape), 0);
  return { total, trainable, nonTrainable: total - trainable };
}

/** What {@link applyRegime} did. */
export interface RegimeSummary {
  regime: Regime;
  /** N: layers of the base model. */
  baseLayers: number;
  /** Base layers set non-trainable (all N for 'frozen', round(0.6 N) for 'partial'). */
  frozenLayers: number;
  /** Layers after the base (Flatten, Dense); always trainable. */
  headLayers: number;
  params: ParamCounts;
}

/**
 * The base's layers in order, found either from `base` or, for a model made by
 * {@link buildTransferModel} (or a Keras-style model that nests its base), from the model itself.
 */
function baseLayersOf(
  model: tf.LayersModel,
  base?: tf.LayersModel,
): { baseLayers: tf.layers.Layer[]; head: tf.layers.Layer[]; container?: tf.LayersModel } {
  if (base) {
    const inModel = new Set(model.layers);
    if (inModel.has(base)) {
      // Keras style: the base is one layer of the model; the outer InputLayer is not part of the head.
      const head = model.layers.filter((l) => l !== base && l.getClassName() !== 'InputLayer');
      return { baseLayers: base.layers, head, container: base };
    }
    const missing = base.layers.filter((l) => !inModel.has(l));
    if (missing.length > 0) {
      throw new Error(
        `applyRegime: base model '${base.name}' is not part of model '${model.name}' ` +
          `(${missing.length} of its layers are missing, e.g. '${missing[0].name}')`,
      );
    }
    const inBase = new Set<tf.layers.Layer>(base.layers);
    return { baseLayers: base.layers, head: model.layers.filter((l) => !inBase.has(l)) };
  }
  const known = BASE_OF.get(model);
  if (known) return baseLayersOf(model, known);
  const nested = model.layers.filter((l) => l instanceof tf.LayersModel) as tf.LayersModel[];
  if (nested.length === 1) return baseLayersOf(model, nested[0]);
  if (nested.length > 1) {
    throw new Error(`applyRegime: model '${model.name}' nests ${nested.length} models; pass the base explicitly`);
  }
  // Any other flat model (e.g. reloaded from disk): everything before the last Flatten is the base.
  let cut = -1;
  model.layers.forEach((l, i) => {
    if (l.getClassName() === 'Flatten') cut = i;
  });
  if (cut < 1) {
    throw new Error(
      `applyRegime: cannot tell the base from the head of model '${model.name}' (no Flatten layer); ` +
        'pass the base model as the third argument',
    );
  }
  return { baseLayers: model.layers.slice(0, cut), head: model.layers.slice(cut) };
}

/**
 * Sets the paper's freezing regime on a transfer model, in place:
 * - 'frozen': every base layer non-trainable; only the head (Flatten, Dense) trains.
 * - 'partial': the first round(0.6 N) base layers non-trainable (InputLayer included), the rest of
 *   the base and the head trainable.
 * Frozen BatchNormalization layers of the backbones (batch_norm.ts) then run in inference mode, as
 * tf.keras 2.x does. Call before compile(), as in Keras; on an already compiled model the list of
 * weights the optimiser updates is refreshed here.
 */
export function applyRegime(model: tf.LayersModel, regime: Regime, base?: tf.LayersModel): RegimeSummary {
  if (regime !== 'frozen' && regime !== 'partial') {
    throw new Error(`applyRegime: regime must be 'frozen' or 'partial', got '${String(regime)}'`);
  }
  const { baseLayers, head, container } = baseLayersOf(model, base);
  const n = baseLayers.length;
  const k = regime === 'frozen' ? n : frozenLayerCount(n);
  baseLayers.forEach((layer, i) => {
    layer.trainable = i >= k;
  });
  for (const layer of head) layer.trainable = true;
  // A nested base container must itself stay trainable for its trainable sublayers to count; its
  // `trainable` setter would reset the sublayers' weight flags, so set the flag alone.
  if (container) (container as unknown as { trainable_: boolean }).trainable_ = true;
  // tfjs fixes the optimiser's variable list at compile(); keep it in step with the new flags.
  const compiled = model as unknown as { collectedTrainableWeights?: unknown };
  if (compiled.collectedTrainableWeights !== undefined) compiled.collectedTrainableWeights = model.trainableWeights;
  return { regime, baseLayers: n, frozenLayers: k, headLayers: head.length, params: countParams(model) };
}
