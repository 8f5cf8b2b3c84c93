/**
 * MobileNetV3 Large and Small as tf.keras 2.7 builds them (keras/applications/mobilenet_v3.py at
 * tag v2.7.0) with include_top=False, alpha 1.0, minimalistic=False, include_preprocessing=True.
 *
 * Facts of the 2.7 source that decide the layer list (Keras 2.8+ differs; do not follow it):
 * - The model starts with Rescaling(1/127.5, offset -1) (the preprocessing is built in).
 * - hard_sigmoid(x) = ReLU(6.)(x + 3.) * (1. / 6.): the `+ 3.` and the `* (1/6)` are TFOpLambda
 *   layers ('tf.__operators__.add', 'tf.math.multiply', ...), the ReLU an unnamed 're_lu_k'.
 *   hard_swish(x) = Multiply()([x, hard_sigmoid(x)]): four layers.
 * - relu(x) = ReLU()(x), unnamed.
 * - The top that include_top=False keeps: Conv_1 - BN - act - GlobalAveragePooling2D(keepdims) -
 *   Conv_2 (1280 Large / 1024 Small, with bias) - act: output 1 x 1 x 1280 (1024).
 * - BatchNormalization: epsilon 1e-3, momentum 0.999; SE blocks reduce to _depth(filters * 0.25).
 * Layer counts: Large 269, Small 235 (InputLayer included).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackboneArgs } from './common';
import { call, conv2d, imageInput, resolveBackboneArgs } from './init';
import { KerasNames, correctPad, depthwiseConv2d, globalAveragePooling2d, relu6, tfOpAdd, tfOpMultiply, type BuildContext as Ctx } from './layers';
import { makeDivisible, mobileNetBN } from './mobilenet_v2';

/** Arguments of {@link buildMobileNetV3Large} and {@link buildMobileNetV3Small}. */
export interface MobileNetV3Args extends BackboneArgs {
  /** Width multiplier. Default 1.0 (the study's; Keras also ships 0.75 weights). */
  alpha?: number;
}

/** Keras's _depth (from the TF-slim MobileNet): the same rounding as MobileNetV2's _make_divisible, divisor 8 by default. */
export function depth(v: number, divisor = 8, minValue?: number): number {
  return makeDivisible(v, divisor, minValue);
}

type Activation = (ctx: Ctx, x: tf.SymbolicTensor) => tf.SymbolicTensor;

/** `layers.ReLU()(x)`, unnamed. */
const relu: Activation = (ctx, x) => call(tf.layers.reLU({ name: ctx.names.next('re_lu') }), x);

/** `layers.ReLU(6.)(x + 3.) * (1. / 6.)`: three layers. */
function hardSigmoid(ctx: Ctx, x: tf.SymbolicTensor): tf.SymbolicTensor {
  x = call(tfOpAdd(3, ctx.names), x);
  x = call(relu6(ctx.names.next('re_lu')), x);
  // Python evaluates 1. / 6. in double precision; the float32 cast happens in the op, as in TF.
  return call(tfOpMultiply(1 / 6, ctx.names), x);
}

/** `layers.Multiply()([x, hard_sigmoid(x)])`: four layers. */
const hardSwish: Activation = (ctx, x) => {
  const hs = hardSigmoid(ctx, x);
  return call(tf.layers.multiply({ name: ctx.names.next('multiply') }), [x, hs]);
};

/** Keras's _se_block: GAP(keepdims) - 1x1 conv - ReLU - 1x1 conv - hard_sigmoid - Multiply. */
function seBlock(ctx: Ctx, inputs: tf.SymbolicTensor, filters: number, seRatio: number, prefix: string): tf.SymbolicTensor {
  const { seed } = ctx;
  let x = call(globalAveragePooling2d({ keepdims: true, name: `${prefix}squeeze_excite/AvgPool` }), inputs);
  x = call(conv2d(seed, { name: `${prefix}squeeze_excite/Conv`, filters: depth(filters * seRatio), kernelSize: 1, padding: 'same' }), x);
  x = call(tf.layers.reLU({ name: `${prefix}squeeze_excite/Relu` }), x);
  x = call(conv2d(seed, { name: `${prefix}squeeze_excite/Conv_1`, filters, kernelSize: 1, padding: 'same' }), x);
  x = hardSigmoid(ctx, x);
  return call(tf.layers.multiply({ name: `${prefix}squeeze_excite/Mul` }), [inputs, x]);
}

/** Keras's _inverted_res_block of mobilenet_v3.py. */
function invertedResBlock(
  ctx: Ctx,
  x: tf.SymbolicTensor,
  expansion: number,
  filters: number,
  kernelSize: number,
  stride: 1 | 2,
  seRatio: number | null,
  activation: Activation,
  blockId: number,
): tf.SymbolicTensor {
  const { seed } = ctx;
  const shortcut = x;
  const inFilters = x.shape[3];
  if (inFilters == null) throw new Error(`MobileNetV3: unknown channel count at block ${blockId}`);
  let prefix = 'expanded_conv/';
  if (blockId) {
    prefix = `expanded_conv_${blockId}/`;
    x = call(conv2d(seed, { name: `${prefix}expand`, filters: depth(inFilters * expansion), kernelSize: 1, padding: 'same', useBias: false }), x);
    x = call(mobileNetBN(`${prefix}expand/BatchNorm`), x);
    x = activation(ctx, x);
  }
  if (stride === 2) {
    const pad = correctPad([x.shape[1], x.shape[2]], kernelSize);
    x = call(tf.layers.zeroPadding2d({ padding: pad, name: `${prefix}depthwise/pad` }), x);
  }
  x = call(
    depthwiseConv2d(seed, { name: `${prefix}depthwise`, kernelSize, strides: stride, padding: stride === 1 ? 'same' : 'valid', useBias: false }),
    x,
  );
  x = call(mobileNetBN(`${prefix}depthwise/BatchNorm`), x);
  x = activation(ctx, x);
  if (seRatio) x = seBlock(ctx, x, depth(inFilters * expansion), seRatio, prefix);
  x = call(conv2d(seed, { name: `${prefix}project`, filters, kernelSize: 1, padding: 'same', useBias: false }), x);
  x = call(mobileNetBN(`${prefix}project/BatchNorm`), x);
  if (stride === 1 && inFilters === filters) {
    x = call(tf.layers.add({ name: `${prefix}Add` }), [shortcut, x]);
  }
  return x;
}

/** One row of a stack: expansion, filters (before alpha), kernel, stride, SE?, activation. */
type BlockSpec = [number, number, number, 1 | 2, boolean, 'relu' | 'hswish'];

// Keras passes `kernel`, `activation` and `se_ratio` from the non-minimalistic settings (5, hard_swish,
// 0.25) to some rows and fixed values to others; the tables below spell each row out.
const LARGE: BlockSpec[] = [
  [1, 16, 3, 1, false, 'relu'],
  [4, 24, 3, 2, false, 'relu'],
  [3, 24, 3, 1, false, 'relu'],
  [3, 40, 5, 2, true, 'relu'],
  [3, 40, 5, 1, true, 'relu'],
  [3, 40, 5, 1, true, 'relu'],
  [6, 80, 3, 2, false, 'hswish'],
  [2.5, 80, 3, 1, false, 'hswish'],
  [2.3, 80, 3, 1, false, 'hswish'],
  [2.3, 80, 3, 1, false, 'hswish'],
  [6, 112, 3, 1, true, 'hswish'],
  [6, 112, 3, 1, true, 'hswish'],
  [6, 160, 5, 2, true, 'hswish'],
  [6, 160, 5, 1, true, 'hswish'],
  [6, 160, 5, 1, true, 'hswish'],
];

const SMALL: BlockSpec[] = [
  [1, 16, 3, 2, true, 'relu'],
  [72 / 16, 24, 3, 2, false, 'relu'],
  [88 / 24, 24, 3, 1, false, 'relu'],
  [4, 40, 5, 2, true, 'hswish'],
  [6, 40, 5, 1, true, 'hswish'],
  [6, 40, 5, 1, true, 'hswish'],
  [3, 48, 5, 1, true, 'hswish'],
  [3, 48, 5, 1, true, 'hswish'],
  [6, 96, 5, 2, true, 'hswish'],
  [6, 96, 5, 1, true, 'hswish'],
  [6, 96, 5, 1, true, 'hswish'],
];

function buildMobileNetV3(
  who: string,
  stack: BlockSpec[],
  lastPointCh: number,
  modelType: 'large' | 'small',
  args?: MobileNetV3Args,
): tf.LayersModel {
  const { inputSize, seed } = resolveBackboneArgs(args, who, 32);
  const alpha = args?.alpha ?? 1.0;
  if (!(alpha > 0)) throw new Error(`${who}: alpha must be > 0, got ${alpha}`);
  const ctx: Ctx = { seed, names: new KerasNames() };
  const input = imageInput(inputSize);

  let x = call(tf.layers.rescaling({ scale: 1 / 127.5, offset: -1, name: ctx.names.next('rescaling') }), input);
  x = call(conv2d(seed, { name: 'Conv', filters: 16, kernelSize: 3, strides: 2, padding: 'same', useBias: false }), x);
  x = call(mobileNetBN('Conv/BatchNorm'), x);
  x = hardSwish(ctx, x);

  stack.forEach(([expansion, filters, kernel, stride, se, act], blockId) => {
    x = invertedResBlock(ctx, x, expansion, depth(filters * alpha), kernel, stride, se ? 0.25 : null, act === 'relu' ? relu : hardSwish, blockId);
  });

  const channels = x.shape[3];
  if (channels == null) throw new Error(`${who}: unknown channel count before Conv_1`);
  const lastConvCh = depth(channels * 6);
  const lastPoint = alpha > 1.0 ? depth(lastPointCh * alpha) : lastPointCh;
  x = call(conv2d(seed, { name: 'Conv_1', filters: lastConvCh, kernelSize: 1, padding: 'same', useBias: false }), x);
  x = call(mobileNetBN('Conv_1/BatchNorm'), x);
  x = hardSwish(ctx, x);
  x = call(globalAveragePooling2d({ keepdims: true, name: ctx.names.next('global_average_pooling2d') }), x);
  x = call(conv2d(seed, { name: 'Conv_2', filters: lastPoint, kernelSize: 1, padding: 'same', useBias: true }), x);
  x = hardSwish(ctx, x);
  return tf.model({ inputs: input, outputs: x, name: `MobilenetV3${modelType}` });
}

/**
 * MobileNetV3Large without its classifier (tf.keras 2.7): 269 layers, output 1 x 1 x 1280.
 * Input in 0-255: the model rescales to [-1, 1] itself.
 */
export function buildMobileNetV3Large(args?: MobileNetV3Args): tf.LayersModel {
  return buildMobileNetV3('MobileNetV3Large', LARGE, 1280, 'large', args);
}

/**
 * MobileNetV3Small without its classifier (tf.keras 2.7): 235 layers, output 1 x 1 x 1024.
 * Input in 0-255: the model rescales to [-1, 1] itself.
 */
export function buildMobileNetV3Small(args?: MobileNetV3Args): tf.LayersModel {
  return buildMobileNetV3('MobileNetV3Small', SMALL, 1024, 'small', args);
}
