/**
 * DenseNet121/169/201 as tf.keras 2.7 builds them (keras/applications/densenet.py) with
 * include_top=False: growth rate 32, compression 0.5, BN epsilon 1.001e-5, bias-free convs.
 * tf.keras 2.7 names the stem 'conv1/conv', 'conv1/bn', 'conv1/relu' (Keras 3 uses '_'), and
 * leaves the two ZeroPadding2D layers unnamed ('zero_padding2d', 'zero_padding2d_1').
 */
import * as tf from '@tensorflow/tfjs';
import type { BackboneArgs } from './common';
import { call, conv2d, imageInput, relu, resolveBackboneArgs } from './init';
import { resnetBN as densenetBN } from './resnet';

const GROWTH_RATE = 32;

/** Keras `conv_block`: BN-ReLU-1x1(128)-BN-ReLU-3x3(32), concatenated to the input. */
function convBlock(x: tf.SymbolicTensor, seed: number, name: string): tf.SymbolicTensor {
  let x1 = call(densenetBN(`${name}_0_bn`), x);
  x1 = call(relu(`${name}_0_relu`), x1);
  x1 = call(conv2d(seed, { name: `${name}_1_conv`, filters: 4 * GROWTH_RATE, kernelSize: 1, useBias: false }), x1);
  x1 = call(densenetBN(`${name}_1_bn`), x1);
  x1 = call(relu(`${name}_1_relu`), x1);
  x1 = call(conv2d(seed, { name: `${name}_2_conv`, filters: GROWTH_RATE, kernelSize: 3, padding: 'same', useBias: false }), x1);
  return call(tf.layers.concatenate({ axis: 3, name: `${name}_concat` }), [x, x1]);
}

function denseBlock(x: tf.SymbolicTensor, seed: number, blocks: number, name: string): tf.SymbolicTensor {
  for (let i = 1; i <= blocks; i++) x = convBlock(x, seed, `${name}_block${i}`);
  return x;
}

/** Keras `transition_block`: BN-ReLU-1x1 conv halving the channels, 2x2 average pooling. */
function transitionBlock(x: tf.SymbolicTensor, seed: number, reduction: number, name: string): tf.SymbolicTensor {
  x = call(densenetBN(`${name}_bn`), x);
  x = call(relu(`${name}_relu`), x);
  const channels = x.shape[3] as number;
  x = call(conv2d(seed, { name: `${name}_conv`, filters: Math.trunc(channels * reduction), kernelSize: 1, useBias: false }), x);
  return call(tf.layers.averagePooling2d({ poolSize: 2, strides: 2, name: `${name}_pool` }), x);
}

function buildDenseNet(blocks: readonly [number, number, number, number], modelName: string, args?: BackboneArgs): tf.LayersModel {
  const { inputSize, seed } = resolveBackboneArgs(args, modelName, 32);
  const input = imageInput(inputSize);
  let x = call(tf.layers.zeroPadding2d({ padding: [[3, 3], [3, 3]], name: 'zero_padding2d' }), input);
  x = call(conv2d(seed, { name: 'conv1/conv', filters: 64, kernelSize: 7, strides: 2, useBias: false }), x);
  x = call(densenetBN('conv1/bn'), x);
  x = call(relu('conv1/relu'), x);
  x = call(tf.layers.zeroPadding2d({ padding: [[1, 1], [1, 1]], name: 'zero_padding2d_1' }), x);
  x = call(tf.layers.maxPooling2d({ poolSize: 3, strides: 2, name: 'pool1' }), x);
  x = denseBlock(x, seed, blocks[0], 'conv2');
  x = transitionBlock(x, seed, 0.5, 'pool2');
  x = denseBlock(x, seed, blocks[1], 'conv3');
  x = transitionBlock(x, seed, 0.5, 'pool3');
  x = denseBlock(x, seed, blocks[2], 'conv4');
  x = transitionBlock(x, seed, 0.5, 'pool4');
  x = denseBlock(x, seed, blocks[3], 'conv5');
  x = call(densenetBN('bn'), x);
  x = call(relu('relu'), x);
  return tf.model({ inputs: input, outputs: x, name: modelName });
}

/** DenseNet121 without its top (427 layers; 2 x 2 x 1024 at 80 x 80). */
export function buildDenseNet121(args?: BackboneArgs): tf.LayersModel {
  return buildDenseNet([6, 12, 24, 16], 'densenet121', args);
}

/** DenseNet169 without its top (595 layers; 2 x 2 x 1664 at 80 x 80). */
export function buildDenseNet169(args?: BackboneArgs): tf.LayersModel {
  return buildDenseNet([6, 12, 32, 32], 'densenet169', args);
}

/** DenseNet201 without its top (707 layers; 2 x 2 x 1920 at 80 x 80). */
export function buildDenseNet201(args?: BackboneArgs): tf.LayersModel {
  return buildDenseNet([6, 12, 48, 32], 'densenet201', args);
}
