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

interface LayerVariableLike {
  read(): tf.Tensor;
  write(value: tf.Tensor): unknown;
}

/** Private fields of the tfjs BatchNormalization that the fallback training step needs. */
interface BNState {
  axis: number;
  momentum: number;
  epsilon: number;
  gamma?: LayerVariableLike;
  beta?: LayerVariableLike;
  movingMean: LayerVariableLike;
  movingVariance: LayerVariableLike;
}

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
    if (this.frozen) return super.call(inputs, { ...kwargs, training: false });
    const own = this as unknown as BNState;
    if (kwargs['training'] === true && (own.gamma == null || own.beta == null)) {
      // tfjs 4.22 reads gamma and beta unconditionally in training mode and throws for
      // scale=false (InceptionV3, InceptionResNetV2) or center=false.
      return this.trainingStep(Array.isArray(inputs) ? inputs[0] : inputs, own);
    }
    return super.call(inputs, kwargs);
  }

  /** Training-mode batch normalization without gamma and/or beta, with tfjs's moving-average update. */
  private trainingStep(x: tf.Tensor, own: BNState): tf.Tensor {
    return tf.tidy(() => {
      const ndim = x.rank;
      const axis = own.axis >= 0 ? own.axis : own.axis + ndim;
      const reduction = [...Array(ndim).keys()].filter((a) => a !== axis);
      const shape = Array<number>(ndim).fill(1);
      shape[axis] = x.shape[axis];
      const { mean, variance } = tf.moments(x, reduction);
      const b = (v: tf.Tensor): tf.Tensor => v.reshape(shape);
      const out = tf.batchNorm(
        x,
        b(mean),
        b(variance),
        own.beta ? b(own.beta.read()) : undefined,
        own.gamma ? b(own.gamma.read()) : undefined,
        own.epsilon,
      );
      // Same update as tfjs (moving -= (moving - batch) * (1 - momentum)), outside the gradient tape.
      const decay = 1 - own.momentum;
      for (const [variable, value] of [[own.movingMean, mean], [own.movingVariance, variance]] as const) {
        tf.tidy(() => {
          const old = variable.read();
          variable.write(tf.sub(old, tf.mul(tf.sub(old, value), decay)));
        });
      }
      return out;
    });
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
