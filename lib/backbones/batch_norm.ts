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
    const training = !this.frozen && kwargs['training'] === true;
    const own = this as unknown as BNState;
    if (own.gamma == null || own.beta == null) {
      // tfjs 4.22 fails for scale=false (InceptionV3, InceptionResNetV2) or center=false: its
      // training path reads gamma and beta unconditionally, and under a gradient tape (fit) the
      // batchNorm kernel tries to save the absent scale even in inference mode.
      return this.normalizeWithoutAffine(Array.isArray(inputs) ? inputs[0] : inputs, own, training);
    }
    return super.call(inputs, { ...kwargs, training });
  }

  /**
   * Batch normalization with ones/zeros standing in for an absent gamma/beta: batch statistics and
   * tfjs's moving-average update when training, moving statistics otherwise.
   */
  private normalizeWithoutAffine(x: tf.Tensor, own: BNState, training: boolean): tf.Tensor {
    return tf.tidy(() => {
      const ndim = x.rank;
      const axis = own.axis >= 0 ? own.axis : own.axis + ndim;
      const shape = Array<number>(ndim).fill(1);
      shape[axis] = x.shape[axis];
      // Channels-last statistics broadcast as they are (and tfjs's batchNorm gradient needs them 1-D).
      const b = (v: tf.Tensor): tf.Tensor => (axis === ndim - 1 ? v : v.reshape(shape));
      let mean: tf.Tensor;
      let variance: tf.Tensor;
      if (training) {
        ({ mean, variance } = tf.moments(x, [...Array(ndim).keys()].filter((a) => a !== axis)));
        // The update tfjs makes: moving -= (moving - batch) * (1 - momentum); variable writes are not taped.
        const decay = 1 - own.momentum;
        for (const [variable, value] of [[own.movingMean, mean], [own.movingVariance, variance]] as const) {
          tf.tidy(() => {
            const old = variable.read();
            variable.write(tf.sub(old, tf.mul(tf.sub(old, value), decay)));
          });
        }
      } else {
        mean = own.movingMean.read();
        variance = own.movingVariance.read();
      }
      return tf.batchNorm(
        x,
        b(mean),
        b(variance),
        b(own.beta ? own.beta.read() : tf.zerosLike(mean)),
        b(own.gamma ? own.gamma.read() : tf.onesLike(mean)),
        own.epsilon,
      );
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
