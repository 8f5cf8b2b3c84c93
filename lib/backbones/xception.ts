/**
 * Xception as tf.keras 2.7 builds it (keras/applications/xception.py) with include_top=False.
 * BatchNormalization keeps Keras's defaults (epsilon 1e-3, momentum 0.99) on axis -1. The residual
 * 1x1 convs, their BNs and the `add` merges are unnamed in Keras; they get the names a fresh
 * tf.keras session gives them ('conv2d', 'conv2d_1', ..., 'batch_normalization', ..., 'add', ...).
 */
import * as tf from '@tensorflow/tfjs';
import { batchNormalization } from './batch_norm';
import type { BackboneArgs } from './common';
import { call, conv2d, imageInput, relu, resolveBackboneArgs, separableConv2d } from './init';
import { KerasNames } from './layers';

function bn(name: string): tf.layers.Layer {
  return batchNormalization({ name, axis: -1 });
}

function sepconv(seed: number, filters: number, name: string): tf.layers.Layer {
  return separableConv2d(seed, { name, filters, kernelSize: 3, padding: 'same', useBias: false });
}

/** Strided 1x1 conv + BN shortcut of the entry/exit blocks (unnamed in Keras). */
function residualBranch(x: tf.SymbolicTensor, seed: number, filters: number, auto: KerasNames): tf.SymbolicTensor {
  const r = call(conv2d(seed, { name: auto.next('conv2d'), filters, kernelSize: 1, strides: 2, padding: 'same', useBias: false }), x);
  return call(bn(auto.next('batch_normalization')), r);
}

/**
 * Entry-flow block 3, 4 and exit block 13: [ReLU] sepconv-BN-ReLU-sepconv-BN, 3x3/2 max pool,
 * plus the strided shortcut. Block 2 has no leading ReLU (it follows block1_conv2_act).
 */
function downBlock(
  x: tf.SymbolicTensor,
  seed: number,
  block: number,
  filters: [number, number],
  auto: KerasNames,
  leadingRelu: boolean,
): tf.SymbolicTensor {
  const residual = residualBranch(x, seed, filters[1], auto);
  const p = `block${block}`;
  if (leadingRelu) x = call(relu(`${p}_sepconv1_act`), x);
  x = call(sepconv(seed, filters[0], `${p}_sepconv1`), x);
  x = call(bn(`${p}_sepconv1_bn`), x);
  x = call(relu(`${p}_sepconv2_act`), x);
  x = call(sepconv(seed, filters[1], `${p}_sepconv2`), x);
  x = call(bn(`${p}_sepconv2_bn`), x);
  x = call(tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same', name: `${p}_pool` }), x);
  return call(tf.layers.add({ name: auto.next('add') }), [x, residual]);
}

/** Xception without its top (132 layers; 3 x 3 x 2048 at 80 x 80). */
export function buildXception(args?: BackboneArgs): tf.LayersModel {
  const { inputSize, seed } = resolveBackboneArgs(args, 'xception', 71);
  const auto = new KerasNames();
  const input = imageInput(inputSize);
  let x = call(conv2d(seed, { name: 'block1_conv1', filters: 32, kernelSize: 3, strides: 2, useBias: false }), input);
  x = call(bn('block1_conv1_bn'), x);
  x = call(relu('block1_conv1_act'), x);
  x = call(conv2d(seed, { name: 'block1_conv2', filters: 64, kernelSize: 3, useBias: false }), x);
  x = call(bn('block1_conv2_bn'), x);
  x = call(relu('block1_conv2_act'), x);

  x = downBlock(x, seed, 2, [128, 128], auto, false);
  x = downBlock(x, seed, 3, [256, 256], auto, true);
  x = downBlock(x, seed, 4, [728, 728], auto, true);

  // Middle flow: eight identity-shortcut blocks of three ReLU-sepconv-BN.
  for (let i = 0; i < 8; i++) {
    const residual = x;
    const p = `block${i + 5}`;
    for (let k = 1; k <= 3; k++) {
      x = call(relu(`${p}_sepconv${k}_act`), x);
      x = call(sepconv(seed, 728, `${p}_sepconv${k}`), x);
      x = call(bn(`${p}_sepconv${k}_bn`), x);
    }
    x = call(tf.layers.add({ name: auto.next('add') }), [x, residual]);
  }

  x = downBlock(x, seed, 13, [728, 1024], auto, true);

  x = call(sepconv(seed, 1536, 'block14_sepconv1'), x);
  x = call(bn('block14_sepconv1_bn'), x);
  x = call(relu('block14_sepconv1_act'), x);
  x = call(sepconv(seed, 2048, 'block14_sepconv2'), x);
  x = call(bn('block14_sepconv2_bn'), x);
  x = call(relu('block14_sepconv2_act'), x);
  return tf.model({ inputs: input, outputs: x, name: 'xception' });
}
