/**
 * InceptionV3 as tf.keras 2.7 builds it (keras/applications/inception_v3.py) with include_top=False.
 *
 * Every conv2d_bn is Conv2D (no bias) -> BatchNormalization(axis 3, scale=False, Keras defaults
 * epsilon 1e-3, momentum 0.99) -> Activation('relu'), all unnamed in Keras, so they get the names of
 * a fresh session ('conv2d', 'conv2d_1', ..., 'batch_normalization', ..., 'activation', ...).
 * Layers are created in Keras's order; `model.layers` then follows Keras's (depth, traversal) order
 * because tfjs-layers sorts a functional model's layers exactly as Keras does.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackboneArgs } from './common';
import { avgPool3x3, conv2dBn as convBn, maxPool3x3s2 } from './inception_common';
import { call, imageInput, resolveBackboneArgs } from './init';
import { KerasNames, type BuildContext as Ctx } from './layers';

/** Keras's conv2d_bn of inception_v3.py (always unnamed): rows x cols kernel. */
function conv2dBn(ctx: Ctx, x: tf.SymbolicTensor, filters: number, rows: number, cols: number, padding: 'same' | 'valid' = 'same', strides = 1): tf.SymbolicTensor {
  return convBn(ctx, x, filters, [rows, cols], { padding, strides });
}

function concat(ctx: Ctx, xs: tf.SymbolicTensor[], name?: string): tf.SymbolicTensor {
  return call(tf.layers.concatenate({ axis: 3, name: name ?? ctx.names.next('concatenate') }), xs);
}

/** Mixed 0-2 (35 x 35 at 299): 1x1 | 1x1-5x5 | 1x1-3x3-3x3 | avgpool-1x1(poolFilters). */
function blockA(ctx: Ctx, x: tf.SymbolicTensor, poolFilters: number, name: string): tf.SymbolicTensor {
  const b1 = conv2dBn(ctx, x, 64, 1, 1);
  let b5 = conv2dBn(ctx, x, 48, 1, 1);
  b5 = conv2dBn(ctx, b5, 64, 5, 5);
  let b3 = conv2dBn(ctx, x, 64, 1, 1);
  b3 = conv2dBn(ctx, b3, 96, 3, 3);
  b3 = conv2dBn(ctx, b3, 96, 3, 3);
  let bp = avgPool3x3(ctx, x);
  bp = conv2dBn(ctx, bp, poolFilters, 1, 1);
  return concat(ctx, [b1, b5, b3, bp], name);
}

/** Mixed 4-7 (17 x 17 at 299): factorised 7x7 branches with `c` inner channels. */
function blockC(ctx: Ctx, x: tf.SymbolicTensor, c: number, name: string): tf.SymbolicTensor {
  const b1 = conv2dBn(ctx, x, 192, 1, 1);
  let b7 = conv2dBn(ctx, x, c, 1, 1);
  b7 = conv2dBn(ctx, b7, c, 1, 7);
  b7 = conv2dBn(ctx, b7, 192, 7, 1);
  let b7d = conv2dBn(ctx, x, c, 1, 1);
  b7d = conv2dBn(ctx, b7d, c, 7, 1);
  b7d = conv2dBn(ctx, b7d, c, 1, 7);
  b7d = conv2dBn(ctx, b7d, c, 7, 1);
  b7d = conv2dBn(ctx, b7d, 192, 1, 7);
  let bp = avgPool3x3(ctx, x);
  bp = conv2dBn(ctx, bp, 192, 1, 1);
  return concat(ctx, [b1, b7, b7d, bp], name);
}

/** Mixed 9-10 (8 x 8 at 299): expanded filter bank with split 1x3 / 3x1 branches. */
function blockE(ctx: Ctx, x: tf.SymbolicTensor, i: number): tf.SymbolicTensor {
  const b1 = conv2dBn(ctx, x, 320, 1, 1);
  let b3 = conv2dBn(ctx, x, 384, 1, 1);
  const b3a = conv2dBn(ctx, b3, 384, 1, 3);
  const b3b = conv2dBn(ctx, b3, 384, 3, 1);
  b3 = concat(ctx, [b3a, b3b], `mixed9_${i}`);
  let b3d = conv2dBn(ctx, x, 448, 1, 1);
  b3d = conv2dBn(ctx, b3d, 384, 3, 3);
  const b3da = conv2dBn(ctx, b3d, 384, 1, 3);
  const b3db = conv2dBn(ctx, b3d, 384, 3, 1);
  b3d = concat(ctx, [b3da, b3db]); // unnamed in Keras: 'concatenate', 'concatenate_1'
  let bp = avgPool3x3(ctx, x);
  bp = conv2dBn(ctx, bp, 192, 1, 1);
  return concat(ctx, [b1, b3, b3d, bp], `mixed${9 + i}`);
}

/**
 * InceptionV3 without its top: 311 layers, output 1 x 1 x 2048 at 80 x 80 (Keras's minimum input
 * is 75). Total parameters 21,802,784, as Keras.
 */
export function buildInceptionV3(args?: BackboneArgs): tf.LayersModel {
  const { inputSize, seed } = resolveBackboneArgs(args, 'InceptionV3', 75);
  const ctx: Ctx = { seed, names: new KerasNames() };
  const input = imageInput(inputSize);

  let x = conv2dBn(ctx, input, 32, 3, 3, 'valid', 2);
  x = conv2dBn(ctx, x, 32, 3, 3, 'valid');
  x = conv2dBn(ctx, x, 64, 3, 3);
  x = maxPool3x3s2(ctx, x);
  x = conv2dBn(ctx, x, 80, 1, 1, 'valid');
  x = conv2dBn(ctx, x, 192, 3, 3, 'valid');
  x = maxPool3x3s2(ctx, x);

  x = blockA(ctx, x, 32, 'mixed0');
  x = blockA(ctx, x, 64, 'mixed1');
  x = blockA(ctx, x, 64, 'mixed2');

  // mixed 3: grid reduction 35 -> 17.
  {
    const b3 = conv2dBn(ctx, x, 384, 3, 3, 'valid', 2);
    let b3d = conv2dBn(ctx, x, 64, 1, 1);
    b3d = conv2dBn(ctx, b3d, 96, 3, 3);
    b3d = conv2dBn(ctx, b3d, 96, 3, 3, 'valid', 2);
    const bp = maxPool3x3s2(ctx, x);
    x = concat(ctx, [b3, b3d, bp], 'mixed3');
  }

  x = blockC(ctx, x, 128, 'mixed4');
  x = blockC(ctx, x, 160, 'mixed5');
  x = blockC(ctx, x, 160, 'mixed6');
  x = blockC(ctx, x, 192, 'mixed7');

  // mixed 8: grid reduction 17 -> 8.
  {
    let b3 = conv2dBn(ctx, x, 192, 1, 1);
    b3 = conv2dBn(ctx, b3, 320, 3, 3, 'valid', 2);
    let b7 = conv2dBn(ctx, x, 192, 1, 1);
    b7 = conv2dBn(ctx, b7, 192, 1, 7);
    b7 = conv2dBn(ctx, b7, 192, 7, 1);
    b7 = conv2dBn(ctx, b7, 192, 3, 3, 'valid', 2);
    const bp = maxPool3x3s2(ctx, x);
    x = concat(ctx, [b3, b7, bp], 'mixed8');
  }

  x = blockE(ctx, x, 0);
  x = blockE(ctx, x, 1);
  return tf.model({ inputs: input, outputs: x, name: 'inception_v3' });
}
