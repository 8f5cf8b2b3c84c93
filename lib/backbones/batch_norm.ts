/**
 * Public API (backbones-A owns this file; every builder, A and B, uses it):
 *
 *   export function batchNormalization(args?: BatchNormArgs): tf.layers.Layer;
 *   export interface BatchNormArgs { name?: string; axis?: number; momentum?: number; epsilon?: number;
 *                                    center?: boolean; scale?: boolean; trainable?: boolean }
 *   export class KerasBatchNormalization   (className 'BatchNormalization')
 *
 * Why: tf.keras 2.x runs a BatchNormalization layer whose `trainable` is false in inference mode
 * (moving statistics, no moving-average updates), even inside `fit`. TensorFlow.js uses batch
 * statistics and updates the moving averages whenever training=true, trainable or not. The paper's
 * frozen layers must behave as in Keras, so every backbone uses this subclass, which forces
 * training=false while the layer is frozen.
 */
import * as tf from '@tensorflow/tfjs';
import type { BatchNormalization, BatchNormalizationLayerArgs } from '@tensorflow/tfjs-layers/dist/layers/normalization';

type Kwargs = { [key: string]: unknown };

/**
 * The BatchNormalization class of the tfjs-layers instance that '@tensorflow/tfjs' loaded.
 * Taken from an instance instead of a deep import, because the deep path is a separate ESM build
 * whose Layer base class would not be the one the models use.
 */
const TfjsBatchNormalization = (tf.layers.batchNormalization({}) as unknown as { constructor: typeof BatchNormalization })
  .constructor;

/**
 * BatchNormalization with tf.keras 2.x semantics for `trainable = false`: inference mode
 * (moving mean and variance, no updates) whatever `training` says. Trainable layers behave exactly
 * as the TensorFlow.js layer (batch statistics in training, moving averages updated).
 */
export class KerasBatchNormalization extends TfjsBatchNormalization {
  /**
   * Same class name as the TensorFlow.js layer, so saved model.json files stay Keras-compatible;
   * registering it replaces the stock class in the deserialisation map, so a reloaded model keeps
   * the Keras semantics.
   */
  static override className = 'BatchNormalization';

  /**
   * Frozen when the layer is non-trainable, or when its gamma/beta were frozen from outside (the
   * tfjs container `trainable` setter flips the weights' flags but not the layers').
   */
  get frozen(): boolean {
    return !this.trainable || (this._trainableWeights.length > 0 && this.trainableWeights.length === 0);
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    return super.call(inputs, this.frozen ? { ...kwargs, training: false } : kwargs);
  }
}
tf.serialization.registerClass(KerasBatchNormalization);

/** Arguments of {@link batchNormalization}; the defaults are those of Keras's BatchNormalization. */
export interface BatchNormArgs {
  /** Keras layer name. */
  name?: string;
  /** Feature axis. Default -1 (channels last). */
  axis?: number;
  /** Moving-average momentum. Default 0.99. */
  momentum?: number;
  /** Added to the variance. Default 1e-3 (ResNet and DenseNet use 1.001e-5). */
  epsilon?: number;
  /** Add beta. Default true. */
  center?: boolean;
  /** Multiply by gamma. Default true. */
  scale?: boolean;
  /** Default true. */
  trainable?: boolean;
}

/** A Keras-semantics BatchNormalization layer (see {@link KerasBatchNormalization}). */
export function batchNormalization(args: BatchNormArgs = {}): tf.layers.Layer {
  return new KerasBatchNormalization(args as BatchNormalizationLayerArgs);
}

/** True when a layer is a BatchNormalization (stock or Keras-semantics). */
export function isBatchNormalization(layer: tf.layers.Layer): boolean {
  return layer.getClassName() === 'BatchNormalization';
}
