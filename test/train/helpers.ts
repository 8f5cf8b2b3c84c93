import * as tf from '@tensorflow/tfjs';
import { KerasBatchNormalization } from '../../lib/backbones/batch_norm';
import { initBackend } from '../../lib/backend';

/** The backend lib/backend chooses on this machine (as the study does); its name. */
export async function setupBackend(): Promise<string> {
  return (await initBackend()).backend;
}

/**
 * A small DenseNet-like conv net: conv -> BN -> relu, a branch whose outputs are concatenated with
 * an earlier tensor (so a cut crosses with several tensors), depthwise conv + BN, pooling.
 * BN statistics are randomised so folding/inference mode matter.
 */
export function tinyBackbone(size = 16, seed = 1): tf.LayersModel {
  const init = (s: number) => tf.initializers.glorotUniform({ seed: seed * 100 + s });
  const x = tf.input({ shape: [size, size, 3], name: 'input_1' });
  let y = tf.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', useBias: false, name: 'conv1', kernelInitializer: init(1) }).apply(x) as tf.SymbolicTensor;
  y = new KerasBatchNormalization({ name: 'bn1', epsilon: 1e-3 }).apply(y) as tf.SymbolicTensor;
  const a = tf.layers.reLU({ name: 'relu1' }).apply(y) as tf.SymbolicTensor;
  let b = tf.layers.conv2d({ filters: 3, kernelSize: 1, name: 'conv2', kernelInitializer: init(2) }).apply(a) as tf.SymbolicTensor;
  b = new KerasBatchNormalization({ name: 'bn2' }).apply(b) as tf.SymbolicTensor;
  b = tf.layers.reLU({ name: 'relu2' }).apply(b) as tf.SymbolicTensor;
  let c = tf.layers.concatenate({ name: 'concat1' }).apply([a, b]) as tf.SymbolicTensor;
  c = tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', useBias: false, name: 'dw', depthwiseInitializer: init(3) }).apply(c) as tf.SymbolicTensor;
  c = new KerasBatchNormalization({ name: 'bn3' }).apply(c) as tf.SymbolicTensor;
  let d = tf.layers.concatenate({ name: 'concat2' }).apply([a, c]) as tf.SymbolicTensor;
  d = tf.layers.conv2d({ filters: 5, kernelSize: 3, strides: 2, padding: 'same', name: 'conv3', kernelInitializer: init(4) }).apply(d) as tf.SymbolicTensor;
  d = new KerasBatchNormalization({ name: 'bn4' }).apply(d) as tf.SymbolicTensor;
  d = tf.layers.reLU({ name: 'relu4' }).apply(d) as tf.SymbolicTensor;
  const model = tf.model({ inputs: x, outputs: d, name: 'tiny' });
  // Non-trivial BN statistics.
  let k = 0;
  for (const l of model.layers) {
    if (l.getClassName() !== 'BatchNormalization') continue;
    const ws = l.getWeights();
    l.setWeights(ws.map((w, i) => {
      k++;
      const n = w.size;
      const vals = Array.from({ length: n }, (_, j) => Math.sin(j * 1.7 + k));
      return tf.tensor(vals.map((v) => (i === 3 ? 0.5 + Math.abs(v) : i === 0 ? 1 + 0.3 * v : 0.2 * v)), w.shape);
    }));
  }
  return model;
}

/** Deterministic pseudo-random input in [0, 1). */
export function sampleInput(n: number, size = 16, seed = 3): tf.Tensor4D {
  const vals = new Float32Array(n * size * size * 3);
  let s = seed;
  for (let i = 0; i < vals.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    vals[i] = (s >>> 8) / 16777216;
  }
  return tf.tensor4d(vals, [n, size, size, 3]);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
