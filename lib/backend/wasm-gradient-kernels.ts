/**
 * Gradient kernels the tfjs 4.22 wasm backend lacks (so conv nets cannot train on it), composed
 * from kernels it has. Every kernel here is the adjoint of a forward convolution, rewritten as
 * another convolution (run by the indirect-GEMM Conv2D of wasm-igemm.ts, which is registered here
 * too, or by XNNPACK):
 *
 * - filter gradients: correlate the (padded) input with the output gradient used as a filter
 *   dilated by the stride, after swapping the batch and channel roles (TensorFlow's classic trick);
 * - input gradients: correlate the stride-dilated, padded output gradient with the spatially
 *   flipped filter.
 *
 * Only transposes, pads, slices, reshapes and one (depthwise) convolution per call: no im2col
 * buffers and no per-pixel JavaScript loops. NHWC only; dilations other than 1 are refused.
 */
import * as tf from '@tensorflow/tfjs';
import { composeKernel, KernelScope } from './kernel-scope';
import { fastTileConfig } from './wasm-tile';
import { igemmConvKernelConfigs } from './wasm-igemm';

const WASM = 'wasm';

/** Options of {@link registerWasmGradientKernels}. */
export interface RegisterWasmGradientKernelsArgs {
  /**
   * Also replace wasm's own Conv2DBackpropInput, a naive loop about 15x slower than the forward
   * convolution, by the composed one (same results to float rounding). Default true.
   */
  replaceConv2DBackpropInput?: boolean;
  /**
   * Also replace wasm's float32 Tile (a generic index loop that the BatchNormalization gradient
   * calls on full activations) by a broadcast multiply; other dtypes keep the original. Default true.
   */
  replaceTile?: boolean;
  /**
   * Also replace wasm's Conv2D and FusedConv2D (XNNPACK, which re-packs the weights of every new
   * filter tensor) by the indirect-GEMM kernel of lib/backend/wasm-igemm.ts where it applies;
   * the composed gradients above run on it too. Default true.
   */
  replaceConv2D?: boolean;
}

/** The kernel names this module registered on 'wasm' so far (for reports and tests). */
const registered = new Set<string>();

/**
 * Registers the composed gradient kernels for 'wasm' (and, by default, faster replacements of
 * wasm kernels that training hits: Conv2DBackpropInput, float32 Tile, Conv2D and FusedConv2D).
 * Idempotent; callable before or after the wasm backend initialises (kernel configs are looked up
 * at run time). Returns the kernel names now provided by this module.
 */
export function registerWasmGradientKernels(args: RegisterWasmGradientKernelsArgs = {}): string[] {
  const replaceConv2DBackpropInput = args.replaceConv2DBackpropInput ?? true;
  const replaceTile = args.replaceTile ?? true;
  const replaceConv2D = args.replaceConv2D ?? true;
  // The wasm package registers its kernels when first loaded; load it now so that a later first
  // load cannot register its own kernels over these.
  require('@tensorflow/tfjs-backend-wasm');
  const configs: tf.KernelConfig[] = [
    { kernelName: 'Conv2DBackpropFilter', backendName: WASM, kernelFunc: conv2DBackpropFilter as unknown as tf.KernelFunc },
    {
      kernelName: 'DepthwiseConv2dNativeBackpropInput',
      backendName: WASM,
      kernelFunc: depthwiseConv2dNativeBackpropInput as unknown as tf.KernelFunc,
    },
    {
      kernelName: 'DepthwiseConv2dNativeBackpropFilter',
      backendName: WASM,
      kernelFunc: depthwiseConv2dNativeBackpropFilter as unknown as tf.KernelFunc,
    },
  ];
  if (replaceConv2DBackpropInput) {
    configs.push({ kernelName: 'Conv2DBackpropInput', backendName: WASM, kernelFunc: conv2DBackpropInput as unknown as tf.KernelFunc });
  }
  if (replaceTile) {
    const original = tf.getKernel('Tile', WASM);
    if (original) configs.push(fastTileConfig(original));
  }
  if (replaceConv2D) {
    const conv = tf.getKernel('Conv2D', WASM);
    const fused = tf.getKernel('FusedConv2D', WASM);
    if (conv && fused) configs.push(...igemmConvKernelConfigs(conv, fused));
  }
  for (const config of configs) {
    // Already ours (a wrapper built above around our own kernel is dropped here).
    if (registered.has(config.kernelName)) continue;
    // Unregister first: registering over an existing kernel only warns and is order-dependent.
    if (tf.getKernel(config.kernelName, WASM)) tf.unregisterKernel(config.kernelName, WASM);
    tf.registerKernel(config);
    registered.add(config.kernelName);
  }
  return [...registered].sort();
}

type Shape4 = [number, number, number, number];

interface KernelArgs<I, A> {
  inputs: I;
  backend: tf.KernelBackend;
  attrs: A;
}

/** Geometry of the forward convolution whose gradient is wanted. */
interface ForwardGeometry {
  strideH: number;
  strideW: number;
  padTop: number;
  padLeft: number;
  inH: number;
  inW: number;
  outH: number;
  outW: number;
  filterH: number;
  filterW: number;
}

function forwardGeometry(
  owner: string,
  xShape: Shape4,
  filterShape: Shape4,
  strides: [number, number] | number,
  pad: tf.Conv2DBackpropFilterAttrs['pad'],
  dimRoundingMode: 'floor' | 'round' | 'ceil' | undefined,
  depthwise: boolean,
  dilations: [number, number] | number = 1,
  dataFormat: 'NHWC' | 'NCHW' = 'NHWC',
): ForwardGeometry {
  if (dataFormat !== 'NHWC') {
    throw new Error(`${owner} (wasm): dataFormat '${dataFormat}' is not supported; use 'NHWC' (channels last)`);
  }
  const [dH, dW] = typeof dilations === 'number' ? [dilations, dilations] : dilations;
  if (dH !== 1 || dW !== 1) {
    throw new Error(`${owner} (wasm): dilations [${dH}, ${dW}] are not supported; only dilation 1 has a gradient kernel`);
  }
  const info = tf.backend_util.computeConv2DInfo(xShape, filterShape, strides, 1, pad, dimRoundingMode, depthwise, 'channelsLast');
  return {
    strideH: info.strideHeight,
    strideW: info.strideWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
    inH: info.inHeight,
    inW: info.inWidth,
    outH: info.outHeight,
    outW: info.outWidth,
    filterH: info.filterHeight,
    filterW: info.filterWidth,
  };
}

function assertFloat32(owner: string, named: Record<string, tf.TensorInfo>): void {
  for (const [name, t] of Object.entries(named)) {
    if (t.dtype !== 'float32') throw new Error(`${owner} (wasm): input '${name}' must be float32, got ${t.dtype}`);
  }
}

function assertShape(owner: string, name: string, got: readonly number[], want: readonly number[]): void {
  if (got.length !== want.length || got.some((d, i) => d !== want[i])) {
    throw new Error(`${owner} (wasm): '${name}' has shape [${got}], expected [${want}]`);
  }
}

/**
 * Padding (negative = cropping) of the input so that correlating it with the output gradient,
 * dilated by the stride, yields exactly `filter` taps: total length filter + (out - 1) * stride.
 */
function filterGradPadding(g: ForwardGeometry): { top: number; bottom: number; left: number; right: number } {
  return {
    top: g.padTop,
    bottom: g.filterH + (g.outH - 1) * g.strideH - g.padTop - g.inH,
    left: g.padLeft,
    right: g.filterW + (g.outW - 1) * g.strideW - g.padLeft - g.inW,
  };
}

/** Splits padding amounts into the non-negative part (left to the convolution) and crops (done by slicing). */
function splitPads(p: { top: number; bottom: number; left: number; right: number }): {
  crop: Array<[number, number]>;
  convPad: [[number, number], [number, number], [number, number], [number, number]];
} {
  return {
    crop: [
      [0, 0],
      [Math.min(0, p.top), Math.min(0, p.bottom)],
      [Math.min(0, p.left), Math.min(0, p.right)],
      [0, 0],
    ],
    convPad: [
      [0, 0],
      [Math.max(0, p.top), Math.max(0, p.bottom)],
      [Math.max(0, p.left), Math.max(0, p.right)],
      [0, 0],
    ],
  };
}

/**
 * Output gradient [n, oh, ow, c] spread onto the stride grid with zeros in between, plus the
 * padding that makes a stride-1 valid correlation with the flipped filter give the input gradient.
 */
function dilatedOutputGradient(
  scope: KernelScope,
  dy: tf.TensorInfo,
  g: ForwardGeometry,
): { dyd: tf.TensorInfo; pads: { top: number; bottom: number; left: number; right: number } } {
  const [n, oh, ow, c] = dy.shape as Shape4;
  let dyd = dy;
  if (g.strideH > 1 || g.strideW > 1) {
    // [n, oh, 1, ow, 1, c] padded to [n, oh, sh, ow, sw, c]: each value followed by s - 1 zeros.
    const six = scope.reshape(dy, [n, oh, 1, ow, 1, c]);
    const spread = scope.padOrCrop(six, [
      [0, 0],
      [0, 0],
      [0, g.strideH - 1],
      [0, 0],
      [0, g.strideW - 1],
      [0, 0],
    ]);
    dyd = scope.reshape(spread, [n, oh * g.strideH, ow * g.strideW, c]);
  }
  const lenH = oh * g.strideH;
  const lenW = ow * g.strideW;
  const pads = {
    top: g.filterH - 1 - g.padTop,
    left: g.filterW - 1 - g.padLeft,
    bottom: 0,
    right: 0,
  };
  pads.bottom = g.inH + g.filterH - 1 - pads.top - lenH;
  pads.right = g.inW + g.filterW - 1 - pads.left - lenW;
  return { dyd, pads };
}

/** dW of conv2d: x [n, h, w, ci], dy [n, oh, ow, co] -> [kh, kw, ci, co]. */
function conv2DBackpropFilter(
  args: KernelArgs<{ x: tf.TensorInfo; dy: tf.TensorInfo }, tf.Conv2DBackpropFilterAttrs>,
): tf.TensorInfo {
  const owner = 'Conv2DBackpropFilter';
  const { x, dy } = args.inputs;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = args.attrs;
  assertFloat32(owner, { x, dy });
  const g = forwardGeometry(owner, x.shape as Shape4, filterShape, strides, pad, dimRoundingMode, false, 1, dataFormat);
  const [n, , , ci] = x.shape as Shape4;
  assertShape(owner, 'dy', dy.shape, [n, g.outH, g.outW, filterShape[3]]);
  return composeKernel(args.backend, WASM, owner, (scope) => {
    if (g.filterH === 1 && g.filterW === 1 && g.strideH === 1 && g.strideW === 1 && g.padTop === 0 && g.padLeft === 0) {
      // 1x1, stride 1: dW = x^T dy over all pixels, one convolution of a 1 x 1 "image" per input
      // channel whose channels are the pixels (a single GEMM, no per-tap loop).
      const pixels = n * g.inH * g.inW;
      const xt = scope.reshape(scope.transpose(x, [3, 0, 1, 2]), [ci, 1, 1, pixels]);
      const grad = scope.run('Conv2D', { x: xt, filter: scope.reshape(dy, [1, 1, pixels, filterShape[3]]) }, { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1] });
      return scope.reshape(grad, [1, 1, ci, filterShape[3]]);
    }
    const { crop, convPad } = splitPads(filterGradPadding(g));
    // Batch and channels swap roles: the input channels become the batch, the images the channels.
    const xt = scope.transpose(scope.padOrCrop(x, crop), [3, 1, 2, 0]); // [ci, h', w', n]
    const dyAsFilter = scope.transpose(dy, [1, 2, 0, 3]); // [oh, ow, n, co]
    const grad = scope.run(
      'Conv2D',
      { x: xt, filter: dyAsFilter },
      { strides: [1, 1], pad: convPad, dataFormat: 'NHWC', dilations: [g.strideH, g.strideW] },
    ); // [ci, kh, kw, co]
    assertShape(owner, 'computed gradient', grad.shape, [ci, filterShape[0], filterShape[1], filterShape[3]]);
    return scope.transpose(grad, [1, 2, 0, 3]);
  });
}

/** dX of conv2d: dy [n, oh, ow, co], filter [kh, kw, ci, co] -> [n, h, w, ci]. */
function conv2DBackpropInput(
  args: KernelArgs<{ dy: tf.TensorInfo; filter: tf.TensorInfo }, tf.Conv2DBackpropInputAttrs>,
): tf.TensorInfo {
  const owner = 'Conv2DBackpropInput';
  const { dy, filter } = args.inputs;
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = args.attrs;
  assertFloat32(owner, { dy, filter });
  const g = forwardGeometry(owner, inputShape, filter.shape as Shape4, strides, pad, dimRoundingMode, false, 1, dataFormat);
  assertShape(owner, 'dy', dy.shape, [inputShape[0], g.outH, g.outW, filter.shape[3]]);
  return composeKernel(args.backend, WASM, owner, (scope) => {
    const { dyd, pads } = dilatedOutputGradient(scope, dy, g);
    const { crop, convPad } = splitPads(pads);
    // Flip kh, kw and swap in/out channels: [kh, kw, co, ci].
    const flipped = scope.transpose(scope.flipSpatial(filter), [0, 1, 3, 2]);
    const dx = scope.run(
      'Conv2D',
      { x: scope.padOrCrop(dyd, crop), filter: flipped },
      { strides: [1, 1], pad: convPad, dataFormat: 'NHWC', dilations: [1, 1] },
    );
    assertShape(owner, 'computed gradient', dx.shape, inputShape);
    return dx;
  });
}

/** dX of depthwiseConv2d: dy [n, oh, ow, c*m], filter [kh, kw, c, m] -> [n, h, w, c]. */
function depthwiseConv2dNativeBackpropInput(
  args: KernelArgs<{ dy: tf.TensorInfo; filter: tf.TensorInfo }, tf.DepthwiseConv2dNativeBackpropInputAttrs>,
): tf.TensorInfo {
  const owner = 'DepthwiseConv2dNativeBackpropInput';
  const { dy, filter } = args.inputs;
  const { strides, pad, dilations, dimRoundingMode, inputShape } = args.attrs;
  assertFloat32(owner, { dy, filter });
  const [kh, kw, c, m] = filter.shape as Shape4;
  const g = forwardGeometry(owner, inputShape, filter.shape as Shape4, strides, pad, dimRoundingMode, true, dilations);
  assertShape(owner, 'dy', dy.shape, [inputShape[0], g.outH, g.outW, c * m]);
  return composeKernel(args.backend, WASM, owner, (scope) => {
    const { dyd, pads } = dilatedOutputGradient(scope, dy, g);
    const { crop, convPad } = splitPads(pads);
    // Each of the c*m output channels is correlated with its own flipped tap set (multiplier 1)...
    const flipped = scope.reshape(scope.flipSpatial(filter), [kh, kw, c * m, 1]);
    const perOutputChannel = scope.run(
      'DepthwiseConv2dNative',
      { x: scope.padOrCrop(dyd, crop), filter: flipped },
      { strides: [1, 1], pad: convPad, dilations: [1, 1] },
    ); // [n, h, w, c*m]
    assertShape(owner, 'computed gradient', perOutputChannel.shape, [inputShape[0], inputShape[1], inputShape[2], c * m]);
    if (m === 1) return perOutputChannel;
    // ... and the m outputs fed by one input channel add up.
    const split = scope.reshape(perOutputChannel, [inputShape[0], inputShape[1], inputShape[2], c, m]);
    return scope.run('Sum', { x: split }, { axis: [4], keepDims: false });
  });
}

/** dW of depthwiseConv2d: x [n, h, w, c], dy [n, oh, ow, c*m] -> [kh, kw, c, m]. */
function depthwiseConv2dNativeBackpropFilter(
  args: KernelArgs<{ x: tf.TensorInfo; dy: tf.TensorInfo }, tf.DepthwiseConv2dNativeBackpropFilterAttrs>,
): tf.TensorInfo {
  const owner = 'DepthwiseConv2dNativeBackpropFilter';
  const { x, dy } = args.inputs;
  const { strides, pad, dilations, dimRoundingMode, filterShape } = args.attrs;
  assertFloat32(owner, { x, dy });
  const [kh, kw, c, m] = filterShape;
  const [n, , , cx] = x.shape as Shape4;
  if (cx !== c) throw new Error(`${owner} (wasm): x has ${cx} channels but filterShape [${filterShape}] expects ${c}`);
  const g = forwardGeometry(owner, x.shape as Shape4, filterShape, strides, pad, dimRoundingMode, true, dilations);
  assertShape(owner, 'dy', dy.shape, [n, g.outH, g.outW, c * m]);
  return composeKernel(args.backend, WASM, owner, (scope) => {
    const { crop, convPad } = splitPads(filterGradPadding(g));
    const cropped = scope.padOrCrop(x, crop);
    const [, hc, wc] = cropped.shape;
    // One image whose channels are the (image, channel) pairs; the output gradient of each pair
    // is that pair's filter, dilated by the stride.
    const xt = scope.reshape(scope.transpose(cropped, [1, 2, 0, 3]), [1, hc, wc, n * c]);
    const dyAsFilter = scope.reshape(scope.transpose(dy, [1, 2, 0, 3]), [g.outH, g.outW, n * c, m]);
    const perImage = scope.run(
      'DepthwiseConv2dNative',
      { x: xt, filter: dyAsFilter },
      { strides: [1, 1], pad: convPad, dilations: [g.strideH, g.strideW] },
    ); // [1, kh, kw, n*c*m]
    assertShape(owner, 'computed gradient', perImage.shape, [1, kh, kw, n * c * m]);
    if (n === 1) return scope.reshape(perImage, [kh, kw, c, m]);
    const summed = scope.run('Sum', { x: scope.reshape(perImage, [kh, kw, n, c * m]) }, { axis: [2], keepDims: false });
    return scope.reshape(summed, [kh, kw, c, m]);
  });
}
