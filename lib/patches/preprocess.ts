import * as tf from '@tensorflow/tfjs';
import type { PreprocessingMode } from '../types';

/** ImageNet statistics used by Keras's preprocess_input (imagenet_utils). */
export const CAFFE_BGR_MEAN = [103.939, 116.779, 123.68] as const;
export const TORCH_RGB_MEAN = [0.485, 0.456, 0.406] as const;
export const TORCH_RGB_STD = [0.229, 0.224, 0.225] as const;

/**
 * The three channel values a backbone sees for one grey pixel in [0, 1]: the pixel is scaled to
 * 0-255, repeated on R, G, B (our decision; the paper does not say), then Keras's preprocessing:
 * - caffe: RGB -> BGR and subtract the BGR means (no scaling);
 * - tf: x / 127.5 - 1;
 * - torch: x / 255, minus the RGB means, divided by the RGB stds;
 * - none: 0-255 unchanged (MobileNetV3 rescales inside the model).
 * Returned in the model's channel order.
 */
export function preprocessPixel(value01: number, mode: PreprocessingMode): [number, number, number] {
  const x = value01 * 255;
  switch (mode) {
    case 'caffe':
      // Channel order after the flip is B, G, R; the grey value is the same in each.
      return [x - CAFFE_BGR_MEAN[0], x - CAFFE_BGR_MEAN[1], x - CAFFE_BGR_MEAN[2]];
    case 'tf':
      return [x / 127.5 - 1, x / 127.5 - 1, x / 127.5 - 1];
    case 'torch':
      return [0, 1, 2].map((c) => (x / 255 - TORCH_RGB_MEAN[c]) / TORCH_RGB_STD[c]) as [number, number, number];
    case 'none':
      return [x, x, x];
    default:
      throw new Error(`Unknown preprocessing mode '${mode as string}' (valid: caffe, tf, torch, none)`);
  }
}

/**
 * Per-channel affine form of each mode, y_c = scale_c * x01 + offset_c, so a whole batch is one
 * multiply-add (exact rewrite of preprocessPixel).
 */
export function preprocessAffine(mode: PreprocessingMode): { scale: [number, number, number]; offset: [number, number, number] } {
  const at0 = preprocessPixel(0, mode);
  const at1 = preprocessPixel(1, mode);
  return {
    scale: [at1[0] - at0[0], at1[1] - at0[1], at1[2] - at0[2]],
    offset: at0,
  };
}

/**
 * Preprocesses `count` grey patches (size x size, values in [0, 1], one channel, patch after patch)
 * into an NHWC float32 array with 3 channels, ready for a backbone.
 */
export function preprocessPatches(patches: Float32Array, count: number, size: number, mode: PreprocessingMode): Float32Array {
  const area = size * size;
  if (patches.length < count * area) {
    throw new Error(`preprocessPatches: ${patches.length} values cannot hold ${count} patches of ${size}x${size}`);
  }
  const { scale, offset } = preprocessAffine(mode);
  const out = new Float32Array(count * area * 3);
  for (let p = 0, n = count * area; p < n; p++) {
    const v = patches[p];
    const o = p * 3;
    out[o] = scale[0] * v + offset[0];
    out[o + 1] = scale[1] * v + offset[1];
    out[o + 2] = scale[2] * v + offset[2];
  }
  return out;
}

/** As preprocessPatches, as a [count, size, size, 3] tensor. */
export function patchesToTensor(patches: Float32Array, count: number, size: number, mode: PreprocessingMode): tf.Tensor4D {
  return tf.tensor4d(preprocessPatches(patches, count, size, mode), [count, size, size, 3]);
}
