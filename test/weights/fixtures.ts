/** Small model doubles and temp folders for the weights tests. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';

/**
 * A small functional model with every weighted layer class the backbones use, plus weightless
 * layers in between (as Keras models have): Conv2D, BN, DepthwiseConv2D, SeparableConv2D,
 * BN without scale/center, Dense. `seed` changes every initial weight.
 */
export function tinyModel(seed: number, opts: { extraDense?: boolean; filters?: number; prefix?: string } = {}): tf.LayersModel {
  const p = opts.prefix ?? '';
  const k = (s: number) => tf.initializers.glorotUniform({ seed: seed * 100 + s });
  const r = (s: number) => tf.initializers.randomUniform({ minval: 0.5, maxval: 1.5, seed: seed * 100 + s });
  const n = (s: number) => tf.initializers.randomNormal({ stddev: 0.1, seed: seed * 100 + s });
  const input = tf.input({ shape: [8, 8, 3], name: `${p}input_1` });
  let x = tf.layers
    .conv2d({ filters: opts.filters ?? 4, kernelSize: 3, padding: 'same', name: `${p}conv1/conv`, kernelInitializer: k(1), biasInitializer: n(2) })
    .apply(input) as tf.SymbolicTensor;
  x = tf.layers
    .batchNormalization({ name: `${p}conv1/bn`, gammaInitializer: r(3), betaInitializer: n(4), movingMeanInitializer: n(5), movingVarianceInitializer: r(6) })
    .apply(x) as tf.SymbolicTensor;
  x = tf.layers.activation({ activation: 'relu', name: `${p}conv1/relu` }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', name: `${p}dw`, depthwiseInitializer: k(7), useBias: false }).apply(x) as tf.SymbolicTensor;
  x = tf.layers
    .separableConv2d({ filters: 5, kernelSize: 3, padding: 'same', name: `${p}sep`, depthwiseInitializer: k(8), pointwiseInitializer: k(9), biasInitializer: n(10) })
    .apply(x) as tf.SymbolicTensor;
  x = tf.layers
    .batchNormalization({ name: `${p}bn_noscale`, scale: false, center: false, movingMeanInitializer: n(11), movingVarianceInitializer: r(12) })
    .apply(x) as tf.SymbolicTensor;
  x = tf.layers.flatten({ name: `${p}flatten` }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.dense({ units: 3, name: `${p}dense`, kernelInitializer: k(13), biasInitializer: n(14) }).apply(x) as tf.SymbolicTensor;
  if (opts.extraDense) x = tf.layers.dense({ units: 2, name: `${p}dense_extra`, kernelInitializer: k(15) }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: x, name: `tiny${seed}` });
}

/** A fixed input batch for tinyModel. */
export function tinyInput(): tf.Tensor4D {
  const n = 2 * 8 * 8 * 3;
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = Math.sin(i * 0.37) * 0.9;
  return tf.tensor4d(v, [2, 8, 8, 3]);
}

/** Model output on tinyInput as a flat array. */
export function outputOf(model: tf.LayersModel): Float32Array {
  return tf.tidy(() => (model.predict(tinyInput()) as tf.Tensor).dataSync() as Float32Array);
}

/** A fresh temp folder removed by the returned function. */
export function tempDir(tag: string): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `pet-iqa-${tag}-`));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
