/**
 * Test double of lib/backbones' buildBackbone for scoring tests: a shallow random conv net
 * (conv -> BN -> ReLU, conv -> BN -> ReLU, average pooling). Unlike a deep random-init Keras backbone,
 * whose activations shrink to ~1e-11 (so a frozen Dense head cannot learn anything), its pooled
 * features keep the noise and contrast of a patch, so a head trained on the smoke cohort learns a
 * quality trend. Deterministic in `seed`, named layers (weights load by name).
 */
import * as tf from '@tensorflow/tfjs';

export function buildBackbone(_name: string, args: { inputSize?: number; seed?: number } = {}): tf.LayersModel {
  const size = args.inputSize ?? 32;
  const seed = args.seed ?? 0;
  const init = (s: number) => tf.initializers.glorotUniform({ seed: seed * 100 + s });
  const x = tf.input({ shape: [size, size, 3], name: 'input_1' });
  let y = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', useBias: false, name: 'conv1', kernelInitializer: init(1) }).apply(x) as tf.SymbolicTensor;
  y = tf.layers.batchNormalization({ name: 'bn1', epsilon: 1e-3 }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.reLU({ name: 'relu1' }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', useBias: false, name: 'conv2', kernelInitializer: init(2) }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.batchNormalization({ name: 'bn2', epsilon: 1e-3 }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.reLU({ name: 'relu2' }).apply(y) as tf.SymbolicTensor;
  const pool = Math.max(1, Math.floor(size / 8));
  y = tf.layers.averagePooling2d({ poolSize: pool, strides: pool, name: 'pool' }).apply(y) as tf.SymbolicTensor;
  return tf.model({ inputs: x, outputs: y, name: 'pooled' });
}
