/**
 * Keras's conv2d_bn and the unnamed pools shared by InceptionV3 and InceptionResNetV2.
 *
 * conv2d_bn: Conv2D (bias only when there is no BN) -> BatchNormalization(axis 3, scale=False,
 * Keras defaults epsilon 1e-3, momentum 0.99) -> Activation. Unnamed ones get fresh-session names
 * ('conv2d', 'batch_normalization', 'activation', ...); named ones '<name>', '<name>_bn', '<name>_ac'.
 */
import * as tf from '@tensorflow/tfjs';
import { batchNormalization } from './batch_norm';
import { call, conv2d } from './init';
import type { BuildContext } from './layers';

/** Arguments of Keras's conv2d_bn (inception_v3.py, inception_resnet_v2.py). */
export interface ConvBnArgs {
  /** Default 1. */
  strides?: number;
  /** Default 'same'. */
  padding?: 'same' | 'valid';
  /** Default 'relu'; null for none. */
  activation?: 'relu' | null;
  /** Default false; true also drops the BatchNormalization. */
  useBias?: boolean;
  /** Layer-name stem; unnamed (fresh-session names) when absent. */
  name?: string;
}

/** Keras's conv2d_bn. */
export function conv2dBn(
  ctx: BuildContext,
  x: tf.SymbolicTensor,
  filters: number,
  kernelSize: number | [number, number],
  a: ConvBnArgs = {},
): tf.SymbolicTensor {
  const { seed, names } = ctx;
  const useBias = a.useBias ?? false;
  const activation = a.activation === undefined ? 'relu' : a.activation;
  x = call(
    conv2d(seed, {
      name: a.name ?? names.next('conv2d'),
      filters,
      kernelSize,
      strides: a.strides ?? 1,
      padding: a.padding ?? 'same',
      useBias,
    }),
    x,
  );
  if (!useBias) {
    const bnName = a.name ? `${a.name}_bn` : names.next('batch_normalization');
    x = call(batchNormalization({ name: bnName, axis: 3, scale: false }), x);
  }
  if (activation !== null) {
    const acName = a.name ? `${a.name}_ac` : names.next('activation');
    x = call(tf.layers.activation({ activation, name: acName }), x);
  }
  return x;
}

/** Unnamed AveragePooling2D(3, strides 1, 'same'). */
export function avgPool3x3(ctx: BuildContext, x: tf.SymbolicTensor): tf.SymbolicTensor {
  return call(tf.layers.averagePooling2d({ poolSize: 3, strides: 1, padding: 'same', name: ctx.names.next('average_pooling2d') }), x);
}

/** Unnamed MaxPooling2D(3, strides 2, 'valid'). */
export function maxPool3x3s2(ctx: BuildContext, x: tf.SymbolicTensor): tf.SymbolicTensor {
  return call(tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'valid', name: ctx.names.next('max_pooling2d') }), x);
}
