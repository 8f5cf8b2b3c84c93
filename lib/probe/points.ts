/**
 * Where a backbone is probed: its block outputs. A block output is a tensor every path from the
 * input to the output passes through (a single-tensor cut of the graph), made by a non-linearity
 * or a residual Add/Multiply (so a block's inner BN and convolution outputs are not counted twice),
 * plus the model's output (the layer the paper flattens). Long chains are thinned evenly to
 * `maxPoints`, always keeping the first and the last.
 */
import * as tf from '@tensorflow/tfjs';
import { modelNodes } from '../train/graph';

/** One probe point. */
export interface ProbePoint {
  /** Layer name (its output is probed). */
  name: string;
  /** Index in model.layers. */
  layerIndex: number;
  /** layerIndex / (layers - 1): 0 at the input, 1 at the last layer. */
  depth: number;
  /** Channels of the output (the probe sees 2 x channels features: mean and std). */
  channels: number;
  /** Spatial size [h, w] of the output. */
  spatial: [number, number];
}

const BLOCK_END_CLASSES = new Set(['ReLU', 'Activation', 'Add', 'Multiply', 'Concatenate', 'MaxPooling2D', 'AveragePooling2D']);

/** The block outputs of a single-input, single-output 4-D model (see the module comment). */
export function probePoints(model: tf.LayersModel, maxPoints = 16): ProbePoint[] {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) throw new Error(`probePoints: ${model.name} must have one input and one output`);
  const nodes = modelNodes(model);
  // Remaining consumers of each tensor; after a node, the tensors still awaited are "live".
  const consumers = new Map<number, number>();
  for (const n of nodes) for (const t of n.inputs) consumers.set(t.id, (consumers.get(t.id) ?? 0) + 1);
  const live = new Set<number>([model.inputs[0].id]);
  const outId = model.outputs[0].id;
  const last = model.layers.length - 1;
  const found: ProbePoint[] = [];
  for (const n of nodes) {
    for (const t of n.inputs) {
      const left = (consumers.get(t.id) ?? 1) - 1;
      consumers.set(t.id, left);
      if (left === 0) live.delete(t.id);
    }
    for (const t of n.outputs) live.add(t.id);
    if (n.outputs.length !== 1) continue;
    const t = n.outputs[0];
    const shape = t.shape;
    const isCut = live.size === 1 && live.has(t.id);
    const isOut = t.id === outId;
    if (shape.length !== 4 || !(isOut || (isCut && BLOCK_END_CLASSES.has(n.layer.getClassName())))) continue;
    found.push({ name: n.layer.name, layerIndex: n.layerIndex, depth: n.layerIndex / Math.max(1, last), channels: shape[3] as number, spatial: [shape[1] as number, shape[2] as number] });
  }
  if (found.length <= maxPoints) return found;
  const keep = new Set<number>();
  for (let i = 0; i < maxPoints; i++) keep.add(Math.round((i * (found.length - 1)) / (maxPoints - 1)));
  return found.filter((_, i) => keep.has(i));
}

/**
 * Spatially pooled activations at the probe points: for each point a rows x (2 * channels) matrix,
 * per channel the spatial mean then the spatial standard deviation, in inference mode.
 */
export function pooledActivations(model: tf.LayersModel, points: readonly ProbePoint[], batches: Iterable<tf.Tensor4D>): Array<{ data: Float32Array; rows: number; dim: number }> {
  const outs = points.map((p) => model.getLayer(p.name).output as tf.SymbolicTensor);
  const multi = tf.model({ inputs: model.inputs, outputs: outs });
  const chunks: Float32Array[][] = points.map(() => []);
  let rows = 0;
  for (const x of batches) {
    const pooled = tf.tidy(() => {
      const ys = multi.predict(x) as tf.Tensor | tf.Tensor[];
      return (Array.isArray(ys) ? ys : [ys]).map((y) => {
        const { mean, variance } = tf.moments(y, [1, 2]);
        return tf.concat([mean, variance.sqrt()], 1);
      });
    });
    pooled.forEach((p, i) => chunks[i].push(p.dataSync() as Float32Array));
    rows += x.shape[0];
    tf.dispose(pooled);
  }
  return points.map((p, i) => {
    const dim = 2 * p.channels;
    const data = new Float32Array(rows * dim);
    let o = 0;
    for (const c of chunks[i]) {
      data.set(c, o);
      o += c.length;
    }
    return { data, rows, dim };
  });
}
