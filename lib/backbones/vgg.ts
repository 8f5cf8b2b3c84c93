/**
 * VGG16 and VGG19 as tf.keras 2.7 builds them (keras/applications/vgg16.py, vgg19.py) with
 * include_top=False: 3x3 'same' ReLU convolutions with bias, 2x2 max pooling after each block.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackboneArgs } from './common';
import { call, conv2d, imageInput, resolveBackboneArgs } from './init';

/** Convolutions per block and their filters. */
const VGG16_BLOCKS: ReadonlyArray<readonly [number, number]> = [[2, 64], [2, 128], [3, 256], [3, 512], [3, 512]];
const VGG19_BLOCKS: ReadonlyArray<readonly [number, number]> = [[2, 64], [2, 128], [4, 256], [4, 512], [4, 512]];

function buildVGG(blocks: ReadonlyArray<readonly [number, number]>, modelName: string, args?: BackboneArgs): tf.LayersModel {
  // Five 2x2 poolings: Keras asks for at least 32 px.
  const { inputSize, seed } = resolveBackboneArgs(args, modelName, 32);
  const input = imageInput(inputSize);
  let x = input;
  blocks.forEach(([convs, filters], b) => {
    for (let c = 1; c <= convs; c++) {
      const name = `block${b + 1}_conv${c}`;
      x = call(conv2d(seed, { name, filters, kernelSize: 3, padding: 'same', activation: 'relu' }), x);
    }
    x = call(tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: `block${b + 1}_pool` }), x);
  });
  return tf.model({ inputs: input, outputs: x, name: modelName });
}

/** VGG16 without its top (19 layers; 2 x 2 x 512 at 80 x 80). */
export function buildVGG16(args?: BackboneArgs): tf.LayersModel {
  return buildVGG(VGG16_BLOCKS, 'vgg16', args);
}

/** VGG19 without its top (22 layers; 2 x 2 x 512 at 80 x 80). */
export function buildVGG19(args?: BackboneArgs): tf.LayersModel {
  return buildVGG(VGG19_BLOCKS, 'vgg19', args);
}
