/**
 * ResNet50/101/152 (v1) as tf.keras 2.7 builds them (keras/applications/resnet.py) with
 * include_top=False. The shared stem and `block1`/`stack1` code is also used by ResNet V2
 * (resnet_v2.ts), as in Keras. Every BatchNormalization has epsilon 1.001e-5 and axis 3.
 */
import * as tf from '@tensorflow/tfjs';
import { batchNormalization } from './batch_norm';
import type { BackboneArgs } from './common';
import { call, conv2d, imageInput, relu, resolveBackboneArgs } from './init';

/** BatchNormalization of ResNet and DenseNet: Keras passes epsilon 1.001e-5 (not the 1e-3 default). */
export function resnetBN(name: string): tf.layers.Layer {
  return batchNormalization({ name, axis: 3, epsilon: 1.001e-5 });
}

/**
 * Keras `block1`: bottleneck residual block of ResNet v1. With a conv shortcut, Keras creates the
 * shortcut conv before the main path; the layer list is ordered by graph depth anyway.
 */
function block1(
  x: tf.SymbolicTensor,
  seed: number,
  filters: number,
  name: string,
  opts: { stride?: number; convShortcut?: boolean } = {},
): tf.SymbolicTensor {
  const stride = opts.stride ?? 1;
  let shortcut = x;
  if (opts.convShortcut ?? true) {
    shortcut = call(conv2d(seed, { name: `${name}_0_conv`, filters: 4 * filters, kernelSize: 1, strides: stride }), x);
    shortcut = call(resnetBN(`${name}_0_bn`), shortcut);
  }
  x = call(conv2d(seed, { name: `${name}_1_conv`, filters, kernelSize: 1, strides: stride }), x);
  x = call(resnetBN(`${name}_1_bn`), x);
  x = call(relu(`${name}_1_relu`), x);
  x = call(conv2d(seed, { name: `${name}_2_conv`, filters, kernelSize: 3, padding: 'same' }), x);
  x = call(resnetBN(`${name}_2_bn`), x);
  x = call(relu(`${name}_2_relu`), x);
  x = call(conv2d(seed, { name: `${name}_3_conv`, filters: 4 * filters, kernelSize: 1 }), x);
  x = call(resnetBN(`${name}_3_bn`), x);
  x = call(tf.layers.add({ name: `${name}_add` }), [shortcut, x]);
  return call(relu(`${name}_out`), x);
}

/** Keras `stack1`: a conv-shortcut block (stride `stride1`) then identity blocks. */
function stack1(x: tf.SymbolicTensor, seed: number, filters: number, blocks: number, name: string, stride1 = 2): tf.SymbolicTensor {
  x = block1(x, seed, filters, `${name}_block1`, { stride: stride1 });
  for (let i = 2; i <= blocks; i++) x = block1(x, seed, filters, `${name}_block${i}`, { convShortcut: false });
  return x;
}

/**
 * Keras `ResNet(stack_fn, preact, use_bias, ...)` with include_top=False: the 7x7 stem, the
 * stacks, and (pre-activation nets only) the final post_bn/post_relu.
 */
export function buildResNetBase(
  modelName: string,
  preact: boolean,
  stackFn: (x: tf.SymbolicTensor, seed: number) => tf.SymbolicTensor,
  args?: BackboneArgs,
): tf.LayersModel {
  const { inputSize, seed } = resolveBackboneArgs(args, modelName, 32);
  const input = imageInput(inputSize);
  let x = call(tf.layers.zeroPadding2d({ padding: [[3, 3], [3, 3]], name: 'conv1_pad' }), input);
  x = call(conv2d(seed, { name: 'conv1_conv', filters: 64, kernelSize: 7, strides: 2, useBias: true }), x);
  if (!preact) {
    x = call(resnetBN('conv1_bn'), x);
    x = call(relu('conv1_relu'), x);
  }
  x = call(tf.layers.zeroPadding2d({ padding: [[1, 1], [1, 1]], name: 'pool1_pad' }), x);
  x = call(tf.layers.maxPooling2d({ poolSize: 3, strides: 2, name: 'pool1_pool' }), x);
  x = stackFn(x, seed);
  if (preact) {
    x = call(resnetBN('post_bn'), x);
    x = call(relu('post_relu'), x);
  }
  return tf.model({ inputs: input, outputs: x, name: modelName });
}

/** Blocks per stage (conv2..conv5) of the v1 and v2 ResNets. */
export const RESNET_DEPTHS = {
  50: [3, 4, 6, 3],
  101: [3, 4, 23, 3],
  152: [3, 8, 36, 3],
} as const;

function resnetV1(depth: keyof typeof RESNET_DEPTHS, args?: BackboneArgs): tf.LayersModel {
  const [b2, b3, b4, b5] = RESNET_DEPTHS[depth];
  return buildResNetBase(`resnet${depth}`, false, (x, seed) => {
    x = stack1(x, seed, 64, b2, 'conv2', 1);
    x = stack1(x, seed, 128, b3, 'conv3');
    x = stack1(x, seed, 256, b4, 'conv4');
    return stack1(x, seed, 512, b5, 'conv5');
  }, args);
}

/** ResNet50 without its top (175 layers; 3 x 3 x 2048 at 80 x 80). */
export function buildResNet50(args?: BackboneArgs): tf.LayersModel {
  return resnetV1(50, args);
}

/** ResNet101 without its top (345 layers; 3 x 3 x 2048 at 80 x 80). */
export function buildResNet101(args?: BackboneArgs): tf.LayersModel {
  return resnetV1(101, args);
}

/** ResNet152 without its top (515 layers; 3 x 3 x 2048 at 80 x 80). */
export function buildResNet152(args?: BackboneArgs): tf.LayersModel {
  return resnetV1(152, args);
}
