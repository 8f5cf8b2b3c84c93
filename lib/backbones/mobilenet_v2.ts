/**
 * MobileNetV2 as tf.keras 2.7 builds it (keras/applications/mobilenet_v2.py) with include_top=False,
 * alpha 1.0 (the 224 weights load for any input size).
 *
 * BatchNormalization: epsilon 1e-3, momentum 0.999, axis -1. Activations are ReLU(6.) layers.
 * Stride-2 depthwise convs are preceded by ZeroPadding2D(correct_pad(x, 3)) and use 'valid' padding.
 */
import * as tf from '@tensorflow/tfjs';
import { batchNormalization } from './batch_norm';
import type { BackboneArgs } from './common';
import { call, conv2d, imageInput, resolveBackboneArgs } from './init';
import { correctPad, depthwiseConv2d, relu6 } from './layers';

/** Arguments of {@link buildMobileNetV2}. */
export interface MobileNetV2Args extends BackboneArgs {
  /** Width multiplier. Default 1.0 (the study's). */
  alpha?: number;
}

/** Keras's _make_divisible: round to a multiple of `divisor`, never more than 10 % down. */
export function makeDivisible(v: number, divisor: number, minValue?: number): number {
  const min = minValue ?? divisor;
  let newV = Math.max(min, Math.floor(Math.trunc(v + divisor / 2) / divisor) * divisor);
  if (newV < 0.9 * v) newV += divisor;
  return newV;
}

/** BatchNormalization of MobileNetV2 and V3: epsilon 1e-3, momentum 0.999, axis -1. */
export function mobileNetBN(name: string): tf.layers.Layer {
  return batchNormalization({ name, axis: -1, epsilon: 1e-3, momentum: 0.999 });
}

/** Keras's _inverted_res_block: [expand 1x1 - BN - ReLU6] [pad] dw 3x3 - BN - ReLU6 - project 1x1 - BN [+ add]. */
function invertedResBlock(
  seed: number,
  inputs: tf.SymbolicTensor,
  expansion: number,
  stride: 1 | 2,
  alpha: number,
  filters: number,
  blockId: number,
): tf.SymbolicTensor {
  const inChannels = inputs.shape[3];
  if (inChannels == null) throw new Error(`MobileNetV2: unknown channel count at block ${blockId}`);
  const pointwiseFilters = makeDivisible(Math.trunc(filters * alpha), 8);
  let x = inputs;
  let prefix = `block_${blockId}_`;
  if (blockId) {
    x = call(conv2d(seed, { name: `${prefix}expand`, filters: expansion * inChannels, kernelSize: 1, padding: 'same', useBias: false }), x);
    x = call(mobileNetBN(`${prefix}expand_BN`), x);
    x = call(relu6(`${prefix}expand_relu`), x);
  } else {
    prefix = 'expanded_conv_';
  }
  if (stride === 2) {
    const pad = correctPad([x.shape[1], x.shape[2]], 3);
    x = call(tf.layers.zeroPadding2d({ padding: pad, name: `${prefix}pad` }), x);
  }
  x = call(
    depthwiseConv2d(seed, { name: `${prefix}depthwise`, kernelSize: 3, strides: stride, padding: stride === 1 ? 'same' : 'valid', useBias: false }),
    x,
  );
  x = call(mobileNetBN(`${prefix}depthwise_BN`), x);
  x = call(relu6(`${prefix}depthwise_relu`), x);
  x = call(conv2d(seed, { name: `${prefix}project`, filters: pointwiseFilters, kernelSize: 1, padding: 'same', useBias: false }), x);
  x = call(mobileNetBN(`${prefix}project_BN`), x);
  if (inChannels === pointwiseFilters && stride === 1) {
    return call(tf.layers.add({ name: `${prefix}add` }), [inputs, x]);
  }
  return x;
}

/**
 * MobileNetV2 without its top: 154 layers, output 3 x 3 x 1280 at 80 x 80 (Keras's minimum input is
 * 32). Total parameters 2,257,984 at alpha 1, as Keras.
 */
export function buildMobileNetV2(args?: MobileNetV2Args): tf.LayersModel {
  const { inputSize, seed } = resolveBackboneArgs(args, 'MobileNetV2', 32);
  const alpha = args?.alpha ?? 1.0;
  if (!(alpha > 0)) throw new Error(`MobileNetV2: alpha must be > 0, got ${alpha}`);
  const input = imageInput(inputSize);

  let x = call(
    conv2d(seed, { name: 'Conv1', filters: makeDivisible(32 * alpha, 8), kernelSize: 3, strides: 2, padding: 'same', useBias: false }),
    input,
  );
  x = call(mobileNetBN('bn_Conv1'), x);
  x = call(relu6('Conv1_relu'), x);

  // [filters, stride, expansion] of blocks 0..16.
  const blocks: Array<[number, 1 | 2, number]> = [
    [16, 1, 1],
    [24, 2, 6],
    [24, 1, 6],
    [32, 2, 6],
    [32, 1, 6],
    [32, 1, 6],
    [64, 2, 6],
    [64, 1, 6],
    [64, 1, 6],
    [64, 1, 6],
    [96, 1, 6],
    [96, 1, 6],
    [96, 1, 6],
    [160, 2, 6],
    [160, 1, 6],
    [160, 1, 6],
    [320, 1, 6],
  ];
  blocks.forEach(([filters, stride, expansion], blockId) => {
    x = invertedResBlock(seed, x, expansion, stride, alpha, filters, blockId);
  });

  // No alpha on the last conv unless alpha > 1 (as in the paper and Keras).
  const lastBlockFilters = alpha > 1.0 ? makeDivisible(1280 * alpha, 8) : 1280;
  x = call(conv2d(seed, { name: 'Conv_1', filters: lastBlockFilters, kernelSize: 1, useBias: false }), x);
  x = call(mobileNetBN('Conv_1_bn'), x);
  x = call(relu6('out_relu'), x);
  return tf.model({ inputs: input, outputs: x, name: `mobilenetv2_${alpha.toFixed(2)}_${inputSize}` });
}
