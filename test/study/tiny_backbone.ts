/** Test double of lib/backbones' buildBackbone: the same tiny conv net for every name. */
import type * as tf from '@tensorflow/tfjs';
import { tinyBackbone } from '../train/helpers';

export function buildBackbone(_name: string, args: { inputSize?: number; seed?: number } = {}): tf.LayersModel {
  return tinyBackbone(args.inputSize ?? 16, 1 + (args.seed ?? 0));
}
