import * as tf from '@tensorflow/tfjs';
import { isBatchNormalization } from './batch_norm';

/** What calibrateBatchNorm did. */
export interface BatchNormCalibration {
  /** BatchNormalization layers whose moving statistics were set. */
  layers: number;
  /** Images the statistics were measured on. */
  images: number;
}

interface RawNode {
  outboundLayer: tf.layers.Layer;
  inboundLayers: tf.layers.Layer[];
  inputTensors: tf.SymbolicTensor[];
  outputTensors: tf.SymbolicTensor[];
  callArgs?: Record<string, unknown>;
}

/**
 * Data-dependent statistics for a backbone with random weights: walks the graph in order and sets
 * every BatchNormalization layer's moving mean and variance to the per-channel mean and (population)
 * variance of its input on `images`, after the layers before it were calibrated. gamma and beta
 * keep their initial 1 and 0, so each BN then outputs zero-mean, unit-variance activations on these
 * images.
 *
 * Why: Keras's random initialisation (Glorot kernels, BN statistics 0 and 1) shrinks activations
 * layer after layer; a random-init MobileNet's features on PET patches are ~1e-20, so a head
 * trained on them can only learn its bias. Calibrated statistics make a random backbone a usable
 * random-feature extractor. It is used only where ImageNet weights are absent, and recorded in the
 * weights provenance of every result.
 */
export function calibrateBatchNorm(model: tf.LayersModel, images: tf.Tensor4D): BatchNormCalibration {
  if (model.inputs.length !== 1) throw new Error(`calibrateBatchNorm: ${model.name} has ${model.inputs.length} inputs, expected 1`);
  const keys = (model as unknown as { containerNodes: Set<string> }).containerNodes;
  const nodes: RawNode[] = [];
  for (const layer of model.layers) {
    (layer as unknown as { inboundNodes: RawNode[] }).inboundNodes.forEach((node, i) => {
      if (keys.has(`${layer.name}_ib-${i}`) && node.inboundLayers.length > 0) nodes.push(node);
    });
  }
  // How many nodes still need each tensor, so intermediate activations are freed as soon as possible.
  const pending = new Map<number, number>();
  for (const n of nodes) for (const t of n.inputTensors) pending.set(t.id, (pending.get(t.id) ?? 0) + 1);
  const values = new Map<number, tf.Tensor>();
  values.set(model.inputs[0].id, images);
  let calibrated = 0;
  try {
    for (const node of nodes) {
      const layer = node.outboundLayer;
      const inputs = node.inputTensors.map((t) => {
        const v = values.get(t.id);
        if (!v) throw new Error(`calibrateBatchNorm: ${t.name} (input of ${layer.name}) was not computed`);
        return v;
      });
      if (isBatchNormalization(layer)) {
        const [mean, variance] = movingStats(layer, 'calibrateBatchNorm: ');
        const moments = tf.tidy(() => tf.moments(inputs[0], [0, 1, 2]));
        mean.write(moments.mean);
        variance.write(moments.variance);
        tf.dispose([moments.mean, moments.variance]);
        calibrated++;
      }
      const out = tf.tidy(() => {
        const y = layer.apply(inputs.length === 1 ? inputs[0] : inputs, { ...(node.callArgs ?? {}), training: false }) as tf.Tensor | tf.Tensor[];
        return Array.isArray(y) ? y : [y];
      });
      node.outputTensors.forEach((t, i) => values.set(t.id, out[i]));
      for (const t of node.inputTensors) {
        const left = (pending.get(t.id) ?? 1) - 1;
        pending.set(t.id, left);
        const v = values.get(t.id);
        if (left === 0 && v && v !== images) {
          v.dispose();
          values.delete(t.id);
        }
      }
    }
  } finally {
    for (const v of values.values()) if (v !== images) v.dispose();
  }
  return { layers: calibrated, images: images.shape[0] };
}

/** Moving statistics of every BatchNormalization layer, by layer name (what calibration changes). */
export type BatchNormStats = Record<string, { mean: number[]; variance: number[] }>;

/**
 * A BatchNormalization layer's moving mean and variance; `who` prefixes the error. tfjs orders BN
 * weights [gamma?, beta?, moving_mean, moving_variance] (names may carry _1 suffixes).
 */
function movingStats(layer: tf.layers.Layer, who = ''): [tf.LayerVariable, tf.LayerVariable] {
  const w = layer.weights;
  const mean = w[w.length - 2];
  const variance = w[w.length - 1];
  if (!mean?.name.includes('moving_mean') || !variance?.name.includes('moving_variance')) {
    throw new Error(`${who}${layer.name} has no moving statistics`);
  }
  return [mean, variance];
}

/** The moving statistics of a model's BatchNormalization layers. */
export function readBatchNormStats(model: tf.LayersModel): BatchNormStats {
  const out: BatchNormStats = {};
  for (const layer of model.layers) {
    if (!isBatchNormalization(layer)) continue;
    const [m, v] = movingStats(layer);
    out[layer.name] = { mean: Array.from(m.read().dataSync()), variance: Array.from(v.read().dataSync()) };
  }
  return out;
}

/**
 * Sets the moving statistics of every BatchNormalization layer from `stats` (as saved by
 * readBatchNormStats after calibrateBatchNorm); `source` names the file in errors.
 */
export function applyBatchNormStats(model: tf.LayersModel, stats: BatchNormStats, source = 'BN statistics'): number {
  let applied = 0;
  for (const layer of model.layers) {
    if (!isBatchNormalization(layer)) continue;
    const s = stats[layer.name];
    if (!s) throw new Error(`${source}: no statistics for BatchNormalization layer '${layer.name}' of ${model.name}`);
    const [m, v] = movingStats(layer);
    const channels = m.shape[0] as number;
    if (s.mean.length !== channels || s.variance.length !== channels) {
      throw new Error(`${source}: layer '${layer.name}' has ${channels} channels, the statistics ${s.mean.length}/${s.variance.length}`);
    }
    tf.tidy(() => {
      m.write(tf.tensor1d(s.mean));
      v.write(tf.tensor1d(s.variance));
    });
    applied++;
  }
  const extra = Object.keys(stats).filter((k) => !model.layers.some((l) => l.name === k && isBatchNormalization(l)));
  if (extra.length) throw new Error(`${source}: statistics for layers that ${model.name} does not have: ${extra.slice(0, 5).join(', ')}`);
  return applied;
}
