/**
 * MobileNet (v1) as tf.keras 2.7 builds it (keras/applications/mobilenet.py) with include_top=False,
 * alpha 1.0, depth_multiplier 1 (the 224 weights load for any input size).
 *
 * BatchNormalization keeps Keras's defaults (epsilon 1e-3, momentum 0.99) on axis -1; activations
 * are ReLU(6.) layers. Stride-2 depthwise convs are preceded by ZeroPadding2D(((0, 1), (0, 1)))
 * and use 'valid' padding, as in Keras.
 */
import * as tf from '@tensorflow/tfjs';
import { batchNormalization } from './batch_norm';
import type { BackboneArgs } from './common';
import { call, conv2d, imageInput, resolveBackboneArgs } from './init';
import { depthwiseConv2d, relu6 } from './layers';

/** Arguments of {@link buildMobileNet}. */
export interface MobileNetArgs extends BackboneArgs {
  /** Width multiplier. Default 1.0 (the study's; Keras also ships 0.25, 0.5, 0.75 weights). */
  alpha?: number;
}

/** Keras's _depthwise_conv_block: [pad] dw 3x3 - BN - ReLU6 - pw 1x1 - BN - ReLU6. */
function depthwiseConvBlock(
  seed: number,
  x: tf.SymbolicTensor,
  pointwiseFilters: number,
  alpha: number,
  strides: 1 | 2,
  blockId: number,
): tf.SymbolicTensor {
  const filters = Math.trunc(pointwiseFilters * alpha);
  if (strides === 2) {
    x = call(tf.layers.zeroPadding2d({ padding: [[0, 1], [0, 1]], name: `conv_pad_${blockId}` }), x);
  }
  x = call(
    depthwiseConv2d(seed, {
      name: `conv_dw_${blockId}`,
      kernelSize: 3,
      strides,
      padding: strides === 1 ? 'same' : 'valid',
      useBias: false,
    }),
    x,
  );
  x = call(batchNormalization({ name: `conv_dw_${blockId}_bn`, axis: -1 }), x);
  x = call(relu6(`conv_dw_${blockId}_relu`), x);
  x = call(conv2d(seed, { name: `conv_pw_${blockId}`, filters, kernelSize: 1, padding: 'same', useBias: false }), x);
  x = call(batchNormalization({ name: `conv_pw_${blockId}_bn`, axis: -1 }), x);
  return call(relu6(`conv_pw_${blockId}_relu`), x);
}

/**
 * MobileNet without its top: 86 layers, output 2 x 2 x 1024 at 80 x 80 (Keras's minimum input is
 * 32). Total parameters 3,228,864 at alpha 1, as Keras.
 */
export function buildMobileNet(args?: MobileNetArgs): tf.LayersModel {
  const { inputSize, seed } = resolveBackboneArgs(args, 'MobileNet', 32);
  const alpha = args?.alpha ?? 1.0;
  if (!(alpha > 0)) throw new Error(`MobileNet: alpha must be > 0, got ${alpha}`);
  const input = imageInput(inputSize);

  // _conv_block: conv1 (3x3/2, 'same', no bias) - BN - ReLU6.
  let x = call(
    conv2d(seed, { name: 'conv1', filters: Math.trunc(32 * alpha), kernelSize: 3, strides: 2, padding: 'same', useBias: false }),
    input,
  );
  x = call(batchNormalization({ name: 'conv1_bn', axis: -1 }), x);
  x = call(relu6('conv1_relu'), x);

  // [pointwise filters, stride] of blocks 1..13.
  const blocks: Array<[number, 1 | 2]> = [
    [64, 1],
    [128, 2],
    [128, 1],
    [256, 2],
    [256, 1],
    [512, 2],
    [512, 1],
    [512, 1],
    [512, 1],
    [512, 1],
    [512, 1],
    [1024, 2],
    [1024, 1],
  ];
  blocks.forEach(([filters, strides], i) => {
    x = depthwiseConvBlock(seed, x, filters, alpha, strides, i + 1);
  });
  return tf.model({ inputs: input, outputs: x, name: `mobilenet_${alpha.toFixed(2)}_${inputSize}` });
}
