/**
 * InceptionResNetV2 as tf.keras 2.7 builds it (keras/applications/inception_resnet_v2.py) with
 * include_top=False.
 *
 * conv2d_bn: Conv2D (bias only when there is no BN) -> BatchNormalization(axis 3, scale=False,
 * Keras defaults) -> Activation. Unnamed ones get fresh-session names ('conv2d', ...); named ones
 * '<name>', '<name>_bn', '<name>_ac'. Each Inception-ResNet block ends with '<block>_mixed'
 * (Concatenate), '<block>_conv' (1x1 Conv2D with bias, no BN, linear), '<block>' (the residual
 * scaling, a Lambda in Keras 2.7: {@link CustomScaleLayer}, counted as a layer) and '<block>_ac'.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackboneArgs } from './common';
import { avgPool3x3, conv2dBn, maxPool3x3s2 } from './inception_common';
import { call, imageInput, resolveBackboneArgs } from './init';
import { CustomScaleLayer, KerasNames, type BuildContext as Ctx } from './layers';

type BlockType = 'block35' | 'block17' | 'block8';

/** Keras's inception_resnet_block: branches -> concat -> 1x1 conv (bias) -> x + scale * up -> [relu]. */
function inceptionResnetBlock(
  ctx: Ctx,
  x: tf.SymbolicTensor,
  scale: number,
  blockType: BlockType,
  blockIdx: number,
  activation: 'relu' | null = 'relu',
): tf.SymbolicTensor {
  let branches: tf.SymbolicTensor[];
  if (blockType === 'block35') {
    const b0 = conv2dBn(ctx, x, 32, 1);
    let b1 = conv2dBn(ctx, x, 32, 1);
    b1 = conv2dBn(ctx, b1, 32, 3);
    let b2 = conv2dBn(ctx, x, 32, 1);
    b2 = conv2dBn(ctx, b2, 48, 3);
    b2 = conv2dBn(ctx, b2, 64, 3);
    branches = [b0, b1, b2];
  } else if (blockType === 'block17') {
    const b0 = conv2dBn(ctx, x, 192, 1);
    let b1 = conv2dBn(ctx, x, 128, 1);
    b1 = conv2dBn(ctx, b1, 160, [1, 7]);
    b1 = conv2dBn(ctx, b1, 192, [7, 1]);
    branches = [b0, b1];
  } else {
    const b0 = conv2dBn(ctx, x, 192, 1);
    let b1 = conv2dBn(ctx, x, 192, 1);
    b1 = conv2dBn(ctx, b1, 224, [1, 3]);
    b1 = conv2dBn(ctx, b1, 256, [3, 1]);
    branches = [b0, b1];
  }
  const blockName = `${blockType}_${blockIdx}`;
  const mixed = call(tf.layers.concatenate({ axis: 3, name: `${blockName}_mixed` }), branches);
  const channels = x.shape[3];
  if (channels == null) throw new Error(`InceptionResNetV2: unknown channel count at ${blockName}`);
  const up = conv2dBn(ctx, mixed, channels, 1, { activation: null, useBias: true, name: `${blockName}_conv` });
  x = call(new CustomScaleLayer({ scale, name: blockName }), [x, up]);
  if (activation !== null) x = call(tf.layers.activation({ activation, name: `${blockName}_ac` }), x);
  return x;
}

/**
 * InceptionResNetV2 without its top: 780 layers, output 1 x 1 x 1536 at 80 x 80 (Keras's minimum
 * input is 75). Total parameters 54,336,736, as Keras.
 */
export function buildInceptionResNetV2(args?: BackboneArgs): tf.LayersModel {
  const { inputSize, seed } = resolveBackboneArgs(args, 'InceptionResNetV2', 75);
  const ctx: Ctx = { seed, names: new KerasNames() };
  const input = imageInput(inputSize);

  // Stem.
  let x = conv2dBn(ctx, input, 32, 3, { strides: 2, padding: 'valid' });
  x = conv2dBn(ctx, x, 32, 3, { padding: 'valid' });
  x = conv2dBn(ctx, x, 64, 3);
  x = maxPool3x3s2(ctx, x);
  x = conv2dBn(ctx, x, 80, 1, { padding: 'valid' });
  x = conv2dBn(ctx, x, 192, 3, { padding: 'valid' });
  x = maxPool3x3s2(ctx, x);

  // Mixed 5b (Inception-A).
  {
    const b0 = conv2dBn(ctx, x, 96, 1);
    let b1 = conv2dBn(ctx, x, 48, 1);
    b1 = conv2dBn(ctx, b1, 64, 5);
    let b2 = conv2dBn(ctx, x, 64, 1);
    b2 = conv2dBn(ctx, b2, 96, 3);
    b2 = conv2dBn(ctx, b2, 96, 3);
    let bp = avgPool3x3(ctx, x);
    bp = conv2dBn(ctx, bp, 64, 1);
    x = call(tf.layers.concatenate({ axis: 3, name: 'mixed_5b' }), [b0, b1, b2, bp]);
  }

  for (let i = 1; i <= 10; i++) x = inceptionResnetBlock(ctx, x, 0.17, 'block35', i);

  // Mixed 6a (Reduction-A).
  {
    const b0 = conv2dBn(ctx, x, 384, 3, { strides: 2, padding: 'valid' });
    let b1 = conv2dBn(ctx, x, 256, 1);
    b1 = conv2dBn(ctx, b1, 256, 3);
    b1 = conv2dBn(ctx, b1, 384, 3, { strides: 2, padding: 'valid' });
    const bp = maxPool3x3s2(ctx, x);
    x = call(tf.layers.concatenate({ axis: 3, name: 'mixed_6a' }), [b0, b1, bp]);
  }

  for (let i = 1; i <= 20; i++) x = inceptionResnetBlock(ctx, x, 0.1, 'block17', i);

  // Mixed 7a (Reduction-B).
  {
    let b0 = conv2dBn(ctx, x, 256, 1);
    b0 = conv2dBn(ctx, b0, 384, 3, { strides: 2, padding: 'valid' });
    let b1 = conv2dBn(ctx, x, 256, 1);
    b1 = conv2dBn(ctx, b1, 288, 3, { strides: 2, padding: 'valid' });
    let b2 = conv2dBn(ctx, x, 256, 1);
    b2 = conv2dBn(ctx, b2, 288, 3);
    b2 = conv2dBn(ctx, b2, 320, 3, { strides: 2, padding: 'valid' });
    const bp = maxPool3x3s2(ctx, x);
    x = call(tf.layers.concatenate({ axis: 3, name: 'mixed_7a' }), [b0, b1, b2, bp]);
  }

  for (let i = 1; i <= 9; i++) x = inceptionResnetBlock(ctx, x, 0.2, 'block8', i);
  x = inceptionResnetBlock(ctx, x, 1.0, 'block8', 10, null);

  x = conv2dBn(ctx, x, 1536, 1, { name: 'conv_7b' });
  return tf.model({ inputs: input, outputs: x, name: 'inception_resnet_v2' });
}
