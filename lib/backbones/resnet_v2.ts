/**
 * ResNet50V2/101V2/152V2 as tf.keras 2.7 builds them (keras/applications/resnet_v2.py, which
 * calls `ResNet(stack_fn, preact=True, use_bias=True)` and `block2`/`stack2` of resnet.py) with
 * include_top=False. Pre-activation blocks; the stride sits in the last block of a stack.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackboneArgs } from './common';
import { call, conv2d, relu } from './init';
import { KerasNames } from './layers';
import { buildResNetBase, RESNET_DEPTHS, resnetBN } from './resnet';

/** Keras `block2`: pre-activation bottleneck block. */
function block2(
  x: tf.SymbolicTensor,
  seed: number,
  filters: number,
  name: string,
  names: KerasNames,
  opts: { stride?: number; convShortcut?: boolean } = {},
): tf.SymbolicTensor {
  const stride = opts.stride ?? 1;
  let preact = call(resnetBN(`${name}_preact_bn`), x);
  preact = call(relu(`${name}_preact_relu`), preact);
  let shortcut: tf.SymbolicTensor;
  if (opts.convShortcut ?? false) {
    shortcut = call(conv2d(seed, { name: `${name}_0_conv`, filters: 4 * filters, kernelSize: 1, strides: stride }), preact);
  } else {
    // Keras: MaxPooling2D(1, strides=stride)(x) if stride > 1 else x; the pooling layer is unnamed,
    // so it gets a fresh session's automatic name ('max_pooling2d', 'max_pooling2d_1', ...).
    shortcut = stride > 1 ? call(tf.layers.maxPooling2d({ poolSize: 1, strides: stride, name: names.next('max_pooling2d') }), x) : x;
  }
  x = call(conv2d(seed, { name: `${name}_1_conv`, filters, kernelSize: 1, useBias: false }), preact);
  x = call(resnetBN(`${name}_1_bn`), x);
  x = call(relu(`${name}_1_relu`), x);
  x = call(tf.layers.zeroPadding2d({ padding: [[1, 1], [1, 1]], name: `${name}_2_pad` }), x);
  x = call(conv2d(seed, { name: `${name}_2_conv`, filters, kernelSize: 3, strides: stride, useBias: false }), x);
  x = call(resnetBN(`${name}_2_bn`), x);
  x = call(relu(`${name}_2_relu`), x);
  x = call(conv2d(seed, { name: `${name}_3_conv`, filters: 4 * filters, kernelSize: 1 }), x);
  return call(tf.layers.add({ name: `${name}_out` }), [shortcut, x]);
}

/** Keras `stack2`: conv-shortcut block, identity blocks, then the strided block. */
function stack2(
  x: tf.SymbolicTensor,
  seed: number,
  filters: number,
  blocks: number,
  name: string,
  names: KerasNames,
  stride1 = 2,
): tf.SymbolicTensor {
  x = block2(x, seed, filters, `${name}_block1`, names, { convShortcut: true });
  for (let i = 2; i < blocks; i++) x = block2(x, seed, filters, `${name}_block${i}`, names);
  return block2(x, seed, filters, `${name}_block${blocks}`, names, { stride: stride1 });
}

function resnetV2(depth: keyof typeof RESNET_DEPTHS, args?: BackboneArgs): tf.LayersModel {
  const [b2, b3, b4, b5] = RESNET_DEPTHS[depth];
  const names = new KerasNames();
  return buildResNetBase(`resnet${depth}v2`, true, (x, seed) => {
    x = stack2(x, seed, 64, b2, 'conv2', names);
    x = stack2(x, seed, 128, b3, 'conv3', names);
    x = stack2(x, seed, 256, b4, 'conv4', names);
    return stack2(x, seed, 512, b5, 'conv5', names, 1);
  }, args);
}

/** ResNet50V2 without its top (190 layers; 3 x 3 x 2048 at 80 x 80). */
export function buildResNet50V2(args?: BackboneArgs): tf.LayersModel {
  return resnetV2(50, args);
}

/** ResNet101V2 without its top (377 layers; 3 x 3 x 2048 at 80 x 80). */
export function buildResNet101V2(args?: BackboneArgs): tf.LayersModel {
  return resnetV2(101, args);
}

/** ResNet152V2 without its top (564 layers; 3 x 3 x 2048 at 80 x 80). */
export function buildResNet152V2(args?: BackboneArgs): tf.LayersModel {
  return resnetV2(152, args);
}
