/**
 * Small layers that tf.keras 2.7 has and TensorFlow.js 4.22 lacks, plus Keras's automatic layer
 * naming, for the backbones of part B (InceptionV3, InceptionResNetV2, MobileNet V1/V2/V3).
 *
 * Each layer here is one entry of `model.layers`, as its Keras counterpart is, because the paper's
 * freezing rule counts layers and Keras .h5 weights are matched layer by layer. All are registered
 * with tf.serialization, so a model.json round trip restores them.
 *
 * - {@link TFOpLambda}: the `x + 3` and `x * (1/6)` of MobileNetV3's hard-sigmoid. tf.keras 2.7 turns
 *   a TF op called on a KerasTensor into a TFOpLambda layer named after the op's API symbol:
 *   'tf.__operators__.add', 'tf.math.multiply', then '_1', '_2', ... per symbol.
 * - {@link CustomScaleLayer}: InceptionResNetV2's residual scaling `inputs[0] + inputs[1] * scale`
 *   (a Lambda named '<block>' in tf.keras 2.7; Keras 3 calls the class CustomScaleLayer).
 * - {@link KerasGlobalAveragePooling2D}: GlobalAveragePooling2D with Keras's `keepdims`.
 *
 * TensorFlow.js already has Rescaling (tf.layers.rescaling) and ReLU(max_value=6)
 * (tf.layers.reLU({maxValue: 6})), so they are used as they are.
 */
import * as tf from '@tensorflow/tfjs';
import type { GlobalAveragePooling2D } from '@tensorflow/tfjs-layers/dist/layers/pooling';
import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology';
import { glorotUniform } from './init';

type Kwargs = { [key: string]: unknown };

function oneTensor(inputs: tf.Tensor | tf.Tensor[], who: string): tf.Tensor {
  if (Array.isArray(inputs)) {
    if (inputs.length !== 1) throw new Error(`${who}: expected one input tensor, got ${inputs.length}`);
    return inputs[0];
  }
  return inputs;
}

function oneShape(shape: tf.Shape | tf.Shape[], who: string): tf.Shape {
  if (Array.isArray(shape[0])) {
    const shapes = shape as tf.Shape[];
    if (shapes.length !== 1) throw new Error(`${who}: expected one input shape, got ${shapes.length}`);
    return shapes[0];
  }
  return shape as tf.Shape;
}

/**
 * Keras's automatic layer names within one fresh session: the first layer of a kind gets the bare
 * prefix ('conv2d'), the next ones '_1', '_2', ... (backend.unique_object_name, zero_based).
 * One instance per model, so names do not depend on what was built before (unlike tfjs's global
 * counters).
 */
export class KerasNames {
  private readonly counts = new Map<string, number>();

  /** The next automatic name for `prefix`, e.g. 'conv2d', 'conv2d_1', ... */
  next(prefix: string): string {
    const n = this.counts.get(prefix) ?? 0;
    this.counts.set(prefix, n + 1);
    return n === 0 ? prefix : `${prefix}_${n}`;
  }
}

/** State of a builder that names layers automatically: the model seed and the fresh-session name counters. */
export interface BuildContext {
  seed: number;
  names: KerasNames;
}

// ---------------------------------------------------------------------------------------------
// TFOpLambda
// ---------------------------------------------------------------------------------------------

/** The TF ops that tf.keras 2.7's MobileNetV3 applies to KerasTensors with a constant. */
export type TFOpKind = 'add' | 'multiply';

/** The Keras API symbol of each op: the layer name is 'tf.' + symbol (+ '_k'). */
export const TF_OP_SYMBOLS: Record<TFOpKind, string> = {
  // `x + 3.` dispatches through math_ops._add_dispatch, exported as tf.__operators__.add.
  add: '__operators__.add',
  // `x * c` reaches tf.math.multiply (canonical name of tf.multiply).
  multiply: 'math.multiply',
};

/** Arguments of {@link TFOpLambda}. */
export interface TFOpLambdaArgs extends LayerArgs {
  /** Which op. */
  op: TFOpKind;
  /** The constant second operand (Keras keeps it in the node's call arguments). */
  y: number;
}

/**
 * A TF op applied to one tensor and a constant, as one weightless layer (Keras's TFOpLambda).
 * Element-wise, so the output shape is the input shape.
 */
export class TFOpLambda extends tf.layers.Layer {
  static className = 'TFOpLambda';
  readonly op: TFOpKind;
  readonly y: number;

  constructor(args: TFOpLambdaArgs) {
    super(args);
    if (!(args.op in TF_OP_SYMBOLS)) {
      throw new Error(`TFOpLambda: op must be one of ${Object.keys(TF_OP_SYMBOLS).join(', ')}, got '${args.op}'`);
    }
    if (typeof args.y !== 'number' || !Number.isFinite(args.y)) {
      throw new Error(`TFOpLambda: y must be a finite number, got ${args.y}`);
    }
    this.op = args.op;
    this.y = args.y;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return oneShape(inputShape, `TFOpLambda '${this.name}'`);
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = oneTensor(inputs, `TFOpLambda '${this.name}'`);
      return this.op === 'add' ? tf.add(x, this.y) : tf.mul(x, this.y);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    // 'op' values have no capitals or underscores: tfjs case-converts string config values.
    return { ...super.getConfig(), op: this.op, y: this.y };
  }
}
tf.serialization.registerClass(TFOpLambda);

/** `x + y` as tf.keras 2.7's TFOpLambda; `names` supplies 'tf.__operators__.add', '..._1', ... */
export function tfOpAdd(y: number, names: KerasNames): TFOpLambda {
  return new TFOpLambda({ op: 'add', y, name: names.next(`tf.${TF_OP_SYMBOLS.add}`) });
}

/** `x * y` as tf.keras 2.7's TFOpLambda; `names` supplies 'tf.math.multiply', '..._1', ... */
export function tfOpMultiply(y: number, names: KerasNames): TFOpLambda {
  return new TFOpLambda({ op: 'multiply', y, name: names.next(`tf.${TF_OP_SYMBOLS.multiply}`) });
}

// ---------------------------------------------------------------------------------------------
// CustomScaleLayer (InceptionResNetV2 residual scaling)
// ---------------------------------------------------------------------------------------------

/** Arguments of {@link CustomScaleLayer}. */
export interface CustomScaleLayerArgs extends LayerArgs {
  /** Residual scale: 0.17 (block35), 0.1 (block17), 0.2 (block8), 1 (block8_10). */
  scale: number;
}

/** `inputs[0] + inputs[1] * scale`: the shortcut plus the scaled residual of an Inception-ResNet block. */
export class CustomScaleLayer extends tf.layers.Layer {
  static className = 'CustomScaleLayer';
  readonly scale: number;

  constructor(args: CustomScaleLayerArgs) {
    super(args);
    if (typeof args.scale !== 'number' || !Number.isFinite(args.scale)) {
      throw new Error(`CustomScaleLayer: scale must be a finite number, got ${args.scale}`);
    }
    this.scale = args.scale;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    if (!Array.isArray(inputShape[0]) || inputShape.length !== 2) {
      throw new Error(`CustomScaleLayer '${this.name}': expects two inputs [shortcut, residual]`);
    }
    const [a, b] = inputShape as tf.Shape[];
    if (a.length !== b.length || a.some((d, i) => d != null && b[i] != null && d !== b[i])) {
      throw new Error(`CustomScaleLayer '${this.name}': input shapes differ: [${a}] vs [${b}]`);
    }
    return a;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      if (!Array.isArray(inputs) || inputs.length !== 2) {
        throw new Error(`CustomScaleLayer '${this.name}': expects two inputs [shortcut, residual]`);
      }
      return tf.add(inputs[0], tf.mul(inputs[1], this.scale));
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), scale: this.scale };
  }
}
tf.serialization.registerClass(CustomScaleLayer);

// ---------------------------------------------------------------------------------------------
// GlobalAveragePooling2D with keepdims
// ---------------------------------------------------------------------------------------------

/**
 * The GlobalAveragePooling2D class of the tfjs-layers instance that '@tensorflow/tfjs' loaded
 * (taken from an instance: a deep import would load a second copy with another Layer base class).
 */
const TfjsGlobalAveragePooling2D = (tf.layers.globalAveragePooling2d({}) as unknown as {
  constructor: typeof GlobalAveragePooling2D;
}).constructor;

/** Arguments of {@link globalAveragePooling2d}. */
export interface GlobalAveragePooling2DArgs {
  /** Keras layer name. */
  name?: string;
  /** Keep the pooled axes as size 1 (output [b, 1, 1, c]). Default false, as in Keras. */
  keepdims?: boolean;
}

/**
 * GlobalAveragePooling2D with Keras's `keepdims` (channels last). With keepdims false it is the
 * stock layer; it takes the stock class name, so saved models stay Keras-named and a reloaded model
 * keeps `keepdims`.
 */
export class KerasGlobalAveragePooling2D extends TfjsGlobalAveragePooling2D {
  static override className = 'GlobalAveragePooling2D';
  readonly keepdims: boolean;

  constructor(args: GlobalAveragePooling2DArgs & { dataFormat?: 'channelsLast' | 'channelsFirst' } = {}) {
    const { keepdims, ...rest } = args;
    if (rest.dataFormat === 'channelsFirst') {
      throw new Error('GlobalAveragePooling2D: only channelsLast is supported');
    }
    super(rest);
    this.keepdims = keepdims ?? false;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const s = oneShape(inputShape, `GlobalAveragePooling2D '${this.name}'`);
    return this.keepdims ? [s[0], 1, 1, s[3]] : [s[0], s[3]];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => tf.mean(oneTensor(inputs, `GlobalAveragePooling2D '${this.name}'`), [1, 2], this.keepdims));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), keepdims: this.keepdims };
  }
}
tf.serialization.registerClass(KerasGlobalAveragePooling2D);

/** A Keras GlobalAveragePooling2D (optionally keepdims). */
export function globalAveragePooling2d(args: GlobalAveragePooling2DArgs = {}): KerasGlobalAveragePooling2D {
  return new KerasGlobalAveragePooling2D(args);
}

// ---------------------------------------------------------------------------------------------
// Seeded DepthwiseConv2D (init.ts of part A covers Conv2D and SeparableConv2D)
// ---------------------------------------------------------------------------------------------

/** Arguments of {@link depthwiseConv2d}: the Keras DepthwiseConv2D arguments the MobileNets use. */
export interface DepthwiseConv2DArgs {
  name: string;
  kernelSize: number;
  /** Default 1. */
  strides?: number;
  /** Default 'valid'. */
  padding?: 'valid' | 'same';
  /** Default 1. */
  depthMultiplier?: number;
  /** Default true (Keras); every MobileNet passes false. */
  useBias?: boolean;
}

/** Keras DepthwiseConv2D with a seeded glorot_uniform depthwise kernel (Keras's default) and zero bias. */
export function depthwiseConv2d(seed: number, args: DepthwiseConv2DArgs): tf.layers.Layer {
  return tf.layers.depthwiseConv2d({
    name: args.name,
    kernelSize: args.kernelSize,
    strides: args.strides ?? 1,
    padding: args.padding ?? 'valid',
    depthMultiplier: args.depthMultiplier ?? 1,
    useBias: args.useBias ?? true,
    depthwiseInitializer: glorotUniform(seed, args.name, 'depthwise_kernel'),
    biasInitializer: 'zeros',
  });
}

/**
 * Keras's imagenet_utils.correct_pad for channels-last input of spatial size `size`: the
 * ((top, bottom), (left, right)) zero padding before a 'valid' stride-2 conv that reproduces TF's
 * 'same' alignment.
 */
export function correctPad(size: [number | null, number | null], kernelSize: number): [[number, number], [number, number]] {
  const adjust = size[0] == null || size[1] == null ? [1, 1] : [1 - (size[0] % 2), 1 - (size[1] % 2)];
  const correct = Math.floor(kernelSize / 2);
  return [
    [correct - adjust[0], correct],
    [correct - adjust[1], correct],
  ];
}

/**
 * One line per entry of `model.layers`: '<layer name>\t<weight shapes>' (shapes 'a x b' joined by ';',
 * in weight order). Two models with equal signatures have the same layer list and load the same
 * Keras .h5 weights by position; the tests compare its digest with the one from Keras.
 */
export function layerSignature(model: tf.LayersModel): string[] {
  return model.layers.map((l) => `${l.name}\t${l.weights.map((w) => w.shape.join('x')).join(';')}`);
}

/** Keras's ReLU(6.) layer (MobileNet, MobileNetV2, MobileNetV3's hard-sigmoid). */
export function relu6(name: string): tf.layers.Layer {
  return tf.layers.reLU({ maxValue: 6, name });
}
