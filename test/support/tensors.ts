/** Small tensor fixtures and comparisons shared by the accel suites (made by the tests themselves). */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../lib/util/rng';

/**
 * Random BN statistics (positive variances, non-zero means, gamma, beta), so folding changes the
 * numbers; Keras's fresh BN (mean 0, variance 1) would make a broken fold look right.
 */
export function randomizeBatchNorms(model: tf.LayersModel, seed: number): void {
  const rng = new Rng(seed);
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const cfg = layer.getConfig() as Record<string, unknown>;
    const ws = layer.getWeights();
    const names = [...(cfg.scale === false ? [] : ['gamma']), ...(cfg.center === false ? [] : ['beta']), 'mean', 'var'];
    layer.setWeights(
      ws.map((w, i) => {
        const n = w.size;
        const v = new Float32Array(n);
        for (let j = 0; j < n; j++) {
          const kind = names[i];
          v[j] = kind === 'gamma' ? rng.uniform(0.5, 1.5) : kind === 'var' ? rng.uniform(0.5, 2) : rng.uniform(-0.3, 0.3);
        }
        return tf.tensor(v, w.shape);
      }),
    );
  }
}

/** max |ref - out| / max |ref|. */
export function relMaxError(ref: Float32Array, out: Float32Array): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < ref.length; i++) {
    d = Math.max(d, Math.abs(ref[i] - out[i]));
    m = Math.max(m, Math.abs(ref[i]));
  }
  return d / Math.max(m, 1e-30);
}

/** A seeded NHWC batch of uniform values in [-1, 1). */
export function sampleBatch(n: number, size: number, seed: number, channels = 3): tf.Tensor4D {
  const rng = new Rng(seed);
  const v = new Float32Array(n * size * size * channels);
  for (let i = 0; i < v.length; i++) v[i] = rng.uniform(-1, 1);
  return tf.tensor4d(v, [n, size, size, channels]);
}

/**
 * Networks whose compiled inference exercises every rewrite (DenseNet's standalone BN + relu,
 * MobileNetV2's padding before stride-2 depthwise convs, MobileNetV3's hard-swish arithmetic,
 * InceptionResNetV2's scaled residuals) and input sizes (80 is the paper's; InceptionResNetV2
 * needs at least 75).
 */
export const COMPILE_CASES: ReadonlyArray<[string, number]> = [
  ['VGG16', 32],
  ['ResNet50', 32],
  ['DenseNet121', 32],
  ['MobileNetV2', 32],
  ['MobileNetV3Small', 32],
  ['InceptionResNetV2', 80],
];
