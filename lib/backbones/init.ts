/**
 * Seeded Keras-default layers shared by the backbone builders of part A (DenseNet, ResNet, VGG,
 * Xception). Keras initialises kernels with glorot_uniform and biases with zeros; here every kernel
 * initialiser gets its own seed, derived from the model seed and the layer name, so a random-init
 * model is reproducible and one layer's draw does not depend on the others.
 */
import * as tf from '@tensorflow/tfjs';
import { deriveSeed } from '../util/rng';
import { DEFAULT_BACKBONE_ARGS, type BackboneArgs } from './common';

/** Keras's default kernel initialiser (glorot_uniform), seeded by model seed + layer name (+ part). */
export function glorotUniform(seed: number, layerName: string, part = 'kernel'): ReturnType<typeof tf.initializers.glorotUniform> {
  return tf.initializers.glorotUniform({ seed: deriveSeed(seed, layerName, part) });
}

/** Builder arguments with defaults applied and checked; `who` names the builder in errors. */
export function resolveBackboneArgs(args: BackboneArgs | undefined, who: string, minSize: number): Required<BackboneArgs> {
  // An explicit `undefined` means "default", as for Keras keyword arguments.
  const out = {
    inputSize: args?.inputSize ?? DEFAULT_BACKBONE_ARGS.inputSize,
    seed: args?.seed ?? DEFAULT_BACKBONE_ARGS.seed,
  };
  if (!Number.isInteger(out.inputSize) || out.inputSize < minSize) {
    throw new Error(`${who}: inputSize must be an integer >= ${minSize} (as in Keras), got ${out.inputSize}`);
  }
  if (!Number.isFinite(out.seed)) throw new Error(`${who}: seed must be a finite number, got ${out.seed}`);
  return out;
}

/** The image input as tf.keras 2.7 names it in a fresh session: 'input_1', H x W x 3. */
export function imageInput(inputSize: number): tf.SymbolicTensor {
  return tf.input({ shape: [inputSize, inputSize, 3], name: 'input_1' });
}

/** Arguments of {@link conv2d}: Keras Conv2D arguments used by the applications. */
export interface Conv2DArgs {
  name: string;
  filters: number;
  kernelSize: number | [number, number];
  /** Default 1. */
  strides?: number | [number, number];
  /** Default 'valid'. */
  padding?: 'valid' | 'same';
  /** Default true. */
  useBias?: boolean;
  /** Default 'linear'. */
  activation?: 'linear' | 'relu';
}

/** Keras Conv2D with a seeded glorot_uniform kernel and zero bias. */
export function conv2d(seed: number, args: Conv2DArgs): tf.layers.Layer {
  return tf.layers.conv2d({
    name: args.name,
    filters: args.filters,
    kernelSize: args.kernelSize,
    strides: args.strides ?? 1,
    padding: args.padding ?? 'valid',
    useBias: args.useBias ?? true,
    activation: args.activation ?? 'linear',
    kernelInitializer: glorotUniform(seed, args.name),
    biasInitializer: 'zeros',
  });
}

/** Arguments of {@link separableConv2d}. */
export interface SeparableConv2DArgs {
  name: string;
  filters: number;
  kernelSize: number | [number, number];
  /** Default 'valid'. */
  padding?: 'valid' | 'same';
  /** Default true. */
  useBias?: boolean;
}

/** Keras SeparableConv2D (depth multiplier 1) with seeded glorot_uniform depthwise and pointwise kernels. */
export function separableConv2d(seed: number, args: SeparableConv2DArgs): tf.layers.Layer {
  return tf.layers.separableConv2d({
    name: args.name,
    filters: args.filters,
    kernelSize: args.kernelSize,
    padding: args.padding ?? 'valid',
    useBias: args.useBias ?? true,
    depthMultiplier: 1,
    depthwiseInitializer: glorotUniform(seed, args.name, 'depthwise_kernel'),
    pointwiseInitializer: glorotUniform(seed, args.name, 'pointwise_kernel'),
    biasInitializer: 'zeros',
  });
}

/** Keras `Activation('relu', name=name)`. */
export function relu(name: string): tf.layers.Layer {
  return tf.layers.activation({ activation: 'relu', name });
}

/** Applies a layer to one symbolic tensor (or a list, for merge layers) and returns one symbolic tensor. */
export function call(layer: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]): tf.SymbolicTensor {
  return layer.apply(x) as tf.SymbolicTensor;
}
