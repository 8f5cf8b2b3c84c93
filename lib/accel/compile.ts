/**
 * Inference compiler for frozen functional tfjs models: walks the layer graph once and turns it
 * into a list of direct tf op calls with precomputed weights.
 *
 * - Conv2D / DepthwiseConv2D / SeparableConv2D followed by a BatchNormalization that alone consumes
 *   the conv output: BN folded into kernel and bias (w' = w s, b' = (b - mean) s + beta,
 *   s = gamma / sqrt(var + eps)), exact in inference mode up to float32 rounding.
 * - A following relu / relu6 / linear (Activation or ReLU layer, or the conv's own activation) is
 *   fused into the convolution (a clamp inside the kernel).
 * - On wasm, Conv2D (and SeparableConv2D's pointwise half) runs the indirect-GEMM kernel of
 *   lib/backend/wasm-igemm.ts with its weights packed once, about 1.5x XNNPACK's throughput;
 *   depthwise convolutions stay with tf.fused.depthwiseConv2d (XNNPACK).
 * - A ZeroPadding2D consumed only by a 'valid' conv becomes the conv's explicit padding.
 * - A standalone BatchNormalization (DenseNet's and ResNetV2's pre-activations) becomes a 1x1
 *   depthwise conv with bias (XNNPACK's channel-wise multiply-add), with its relu/relu6 fused; on
 *   native TensorFlow, one FusedBatchNorm op with the folded scale and offset, then the activation.
 * - Pooling, padding, add/multiply/concatenate, the custom layers of lib/backbones/layers.ts and
 *   Rescaling map to single ops; anything else runs `layer.apply(x, { training: false })`.
 *
 * Intermediates are released as soon as their last consumer has run, so peak memory stays near
 * that of the widest point of the network.
 */
import * as tf from '@tensorflow/tfjs';
import { batchNormStats, foldedConvWeights, isChannelsLastBatchNorm, modelNodes, type GraphNode } from '../train/graph';
import { isBatchNormalization } from '../backbones/batch_norm';
import { IgemmConv2D, igemmUnavailableReason } from '../backend/wasm-igemm';

type Kwargs = Record<string, unknown>;
type Sym = tf.SymbolicTensor;
/** Activations the wasm backend fuses into conv (clamp in XNNPACK); others run as separate ops. */
type FusedActivation = 'linear' | 'relu' | 'relu6';

function activate(x: tf.Tensor, act: FusedActivation): tf.Tensor {
  return act === 'relu' ? tf.relu(x) : act === 'relu6' ? tf.relu6(x) : x;
}

/** Options of {@link compileInference}. */
export interface CompileInferenceOptions {
  /**
   * Run Conv2D layers (and SeparableConv2D's pointwise half) with the indirect-GEMM kernel of
   * lib/backend/wasm-igemm.ts instead of XNNPACK. Default: true when the backend is wasm and the kernel
   * compiles; ignored elsewhere.
   */
  igemm?: boolean;
}

/** What the compiler did, for logs and tests. */
export interface InferencePlanSummary {
  /** Graph nodes of the model (input layers excluded). */
  nodes: number;
  /** Op groups executed per call. */
  steps: number;
  /** BatchNormalizations folded into a convolution. */
  foldedBatchNorms: number;
  /** Activations fused into a convolution or BN. */
  fusedActivations: number;
  /** ZeroPadding2D layers folded into a convolution. */
  foldedPaddings: number;
  /** Standalone BNs turned into a multiply-add. */
  standaloneBatchNorms: number;
  /** Class names of layers run through layer.apply, with counts. */
  fallbacks: Record<string, number>;
  /** Convolutions run by the indirect-GEMM kernel with packed weights (lib/backend/wasm-igemm.ts). */
  igemmConvolutions: number;
  /** Nodes of the TensorFlow graph, when the model runs as one graph (lib/accel/graph). */
  graphNodes?: number;
}

/** A compiled model: call it on a batch (NHWC) to get the model's output. */
export interface InferenceFn {
  /** Output of a single-input, single-output model. The caller owns (disposes) the result. */
  (x: tf.Tensor): tf.Tensor;
  /** All outputs, in model.outputs order, for one tensor per model input. */
  runAll(inputs: tf.Tensor[]): tf.Tensor[];
  readonly summary: InferencePlanSummary;
  /** Releases the precomputed weights (the model's own weights are untouched). */
  dispose(): void;
}

/** An attribute of a TensorFlow NodeDef: a dtype, string, int, float, bool or int list. */
export type GraphAttr = { type: 'float32' | 'int32' } | { s: string } | { i: number } | { f: number } | { b: boolean } | { ints: number[] };

/** Where steps write themselves as TensorFlow graph ops (lib/accel/graph). Returns tensor names. */
export interface GraphSink {
  /** A float32 or int32 constant. */
  constant(hint: string, values: Float32Array | Int32Array, shape: number[]): string;
  /** An op node with these inputs and attributes; returns the name of its first output. */
  op(type: string, hint: string, inputs: string[], attrs?: Record<string, GraphAttr>): string;
}

/** The attributes every graph writer here uses: float32 and int32 dtypes, channels-last layout. */
export const FLOAT: GraphAttr = { type: 'float32' };
export const INT: GraphAttr = { type: 'int32' };
export const NHWC: GraphAttr = { s: 'NHWC' };

/** One op group: runs eagerly, and writes the same ops into a graph (absent for layer.apply fallbacks). */
export interface Step {
  name: string;
  inputs: number[];
  outputs: number[];
  run(xs: tf.Tensor[]): tf.Tensor[];
  emit?(g: GraphSink, xs: string[]): string[];
}

/** A fused activation as graph ops. */
function emitActivation(g: GraphSink, x: string, act: FusedActivation, hint: string): string {
  return act === 'relu' ? g.op('Relu', hint, [x], { T: FLOAT }) : act === 'relu6' ? g.op('Relu6', hint, [x], { T: FLOAT }) : x;
}

/** The steps of a model and what compileInference needs to run them. */
export interface InferencePlan {
  steps: Step[];
  summary: InferencePlanSummary;
  /** Model input and output tensor ids, in model order. */
  inputIds: number[];
  outputIds: number[];
  /** Releases the precomputed weights the steps hold. */
  dispose(): void;
}

const CONV_CLASSES = new Set(['Conv2D', 'DepthwiseConv2D', 'SeparableConv2D']);
/** Other Keras activations of a conv layer and their single TensorFlow op. */
const GRAPH_ACTIVATIONS: Record<string, string | undefined> = { sigmoid: 'Sigmoid', tanh: 'Tanh', elu: 'Elu', selu: 'Selu', softplus: 'Softplus' };
const PAD_FOLDABLE = new Set(['Conv2D', 'DepthwiseConv2D']);

/** A layer's Keras config as a plain record. */
export function cfgOf(layer: tf.layers.Layer): Kwargs {
  return layer.getConfig() as Kwargs;
}

/** True when a layer config says channels-last (the default). */
export function isChannelsLast(cfg: Kwargs): boolean {
  return cfg.dataFormat == null || cfg.dataFormat === 'channelsLast';
}

/** A Keras size/stride/dilation argument (n, [n] or [h, w]) as [h, w]. */
export function pair(v: unknown, what: string): [number, number] {
  if (typeof v === 'number') return [v, v];
  if (Array.isArray(v) && v.length === 2) return [v[0] as number, v[1] as number];
  if (Array.isArray(v) && v.length === 1) return [v[0] as number, v[0] as number];
  throw new Error(`compileInference: cannot read ${what} ${JSON.stringify(v)}`);
}

/** The fused activation equivalent to an activation-only layer, or null when it is something else. */
function activationOf(layer: tf.layers.Layer): FusedActivation | null {
  const cls = layer.getClassName();
  const cfg = cfgOf(layer);
  if (cls === 'Activation') {
    const a = cfg.activation;
    return a === 'relu' || a === 'relu6' || a === 'linear' ? a : null;
  }
  if (cls === 'ReLU') {
    // tfjs's ReLU layer has only maxValue (no negative slope or threshold).
    const m = cfg.maxValue;
    if (m == null) return 'relu';
    if (m === 6) return 'relu6';
  }
  return null;
}

/** BN statistics as a per-channel scale and offset: y = x * scale + offset. */
function bnScaleOffset(bn: tf.layers.Layer): { scale: Float64Array; offset: Float64Array } {
  const { scale, mean, beta } = batchNormStats(bn);
  const offset = new Float64Array(scale.length);
  for (let c = 0; c < scale.length; c++) offset[c] = (beta ? beta[c] : 0) - mean[c] * scale[c];
  return { scale, offset };
}

/**
 * Compiles a functional model for inference. Weights are read (and folded) now: later changes to
 * the model's weights are not seen; compile again after loading weights.
 */
export function compileInference(model: tf.LayersModel, opts: CompileInferenceOptions = {}): InferenceFn {
  return runPlan(planInference(model, opts));
}

/** Walks the model once into steps (weights folded and uploaded now). */
export function planInference(model: tf.LayersModel, opts: CompileInferenceOptions = {}): InferencePlan {
  const o: Required<CompileInferenceOptions> = {
    igemm: (opts.igemm ?? true) && igemmUnavailableReason() === null,
  };
  const nodes = modelNodes(model);
  const consumers = new Map<number, GraphNode[]>();
  for (const n of nodes) for (const t of n.inputs) consumers.set(t.id, [...(consumers.get(t.id) ?? []), n]);
  const modelOutputs = new Set(model.outputs.map((t) => t.id));
  /** The single node consuming `t`, when nothing else (model output included) does. */
  const soleConsumer = (t: Sym): GraphNode | null => {
    const c = consumers.get(t.id) ?? [];
    return c.length === 1 && !modelOutputs.has(t.id) ? c[0] : null;
  };
  const producer = new Map<number, GraphNode>();
  for (const n of nodes) for (const t of n.outputs) producer.set(t.id, n);

  const owned: tf.Tensor[] = [];
  const gemms: IgemmConv2D[] = [];
  const keep = <T extends tf.Tensor>(t: T): T => {
    owned.push(t);
    return t;
  };
  const summary: InferencePlanSummary = {
    nodes: nodes.length,
    steps: 0,
    foldedBatchNorms: 0,
    fusedActivations: 0,
    foldedPaddings: 0,
    standaloneBatchNorms: 0,
    fallbacks: {},
    igemmConvolutions: 0,
  };
  const absorbed = new Set<GraphNode>();
  const steps: Step[] = [];

  /** The activation node following `t` that can be fused, if any. */
  const fusableActivation = (t: Sym): { node: GraphNode; act: FusedActivation } | null => {
    const next = soleConsumer(t);
    if (!next || next.inputs.length !== 1) return null;
    const act = activationOf(next.layer);
    return act ? { node: next, act } : null;
  };

  for (const n of nodes) {
    if (absorbed.has(n)) continue;
    const cls = n.layer.getClassName();
    const cfg = cfgOf(n.layer);

    // ZeroPadding2D feeding only a 'valid' conv: handled by the conv.
    if (cls === 'ZeroPadding2D' && isChannelsLast(cfg)) {
      const next = soleConsumer(n.outputs[0]);
      const ncfg = next ? cfgOf(next.layer) : {};
      // Not SeparableConv2D: tf.depthwiseConv2d (unfused) takes no explicit padding.
      if (next && PAD_FOLDABLE.has(next.layer.getClassName()) && ncfg.padding === 'valid' && isChannelsLast(ncfg) && next.inputs.length === 1) {
        absorbed.add(n);
        summary.foldedPaddings++;
        continue;
      }
    }

    if (CONV_CLASSES.has(cls) && isChannelsLast(cfg) && n.inputs.length === 1) {
      steps.push(convStep(n));
      continue;
    }
    if (isBatchNormalization(n.layer) && n.inputs.length === 1 && isChannelsLastBatchNorm(n.layer, n.inputs[0].rank)) {
      steps.push(batchNormStep(n));
      continue;
    }
    steps.push(simpleStep(n, cls, cfg));
  }

  function convStep(conv: GraphNode): Step {
    const cls = conv.layer.getClassName();
    const cfg = cfgOf(conv.layer);
    let input = conv.inputs[0];
    // Explicit padding from an absorbed ZeroPadding2D.
    let pad: 'valid' | 'same' | [[number, number], [number, number], [number, number], [number, number]] = cfg.padding as 'valid' | 'same';
    const prev = producer.get(input.id);
    if (prev && absorbed.has(prev) && prev.layer.getClassName() === 'ZeroPadding2D') {
      const p = cfgOf(prev.layer).padding as [[number, number], [number, number]];
      pad = [[0, 0], pair(p[0], 'padding'), pair(p[1], 'padding'), [0, 0]];
      input = prev.inputs[0];
    }
    const strides = pair(cfg.strides, 'strides');
    const dilations = pair(cfg.dilationRate ?? 1, 'dilationRate');
    const weights = conv.layer.getWeights();
    const useBias = cfg.useBias !== false;
    const kernel = weights[cls === 'SeparableConv2D' ? 1 : 0]; // the pointwise kernel carries the output channels
    let kdata = kernel.dataSync() as Float32Array;
    const kshape = kernel.shape as [number, number, number, number];
    let bias: Float32Array | null = useBias ? (weights[weights.length - 1].dataSync() as Float32Array) : null;
    let out = conv.outputs[0];
    let act: FusedActivation | null = null;
    const ownAct = cfg.activation ?? 'linear';
    if (ownAct === 'relu' || ownAct === 'relu6' || ownAct === 'linear') act = ownAct;
    let name = conv.layer.name;

    // Fold a following BN (only when the conv itself is linear: BN after a nonlinearity does not fold).
    const bnNode = ownAct === 'linear' ? soleConsumer(out) : null;
    if (bnNode && isBatchNormalization(bnNode.layer) && bnNode.inputs.length === 1 && isChannelsLastBatchNorm(bnNode.layer)) {
      ({ kernel: kdata, bias } = foldedConvWeights(conv.layer, bnNode.layer, 'compileInference'));
      absorbed.add(bnNode);
      summary.foldedBatchNorms++;
      out = bnNode.outputs[0];
      name += `+${bnNode.layer.name}`;
    }
    if (act === 'linear') {
      const f = fusableActivation(out);
      if (f) {
        act = f.act;
        absorbed.add(f.node);
        summary.fusedActivations++;
        out = f.node.outputs[0];
        name += `+${f.node.layer.name}`;
      }
    }
    const fusedAct = act ?? 'linear';
    const depthwise = cls === 'SeparableConv2D' ? keep(tf.clone(weights[0] as tf.Tensor4D)) : null;
    const plainStrides = cls === 'SeparableConv2D' ? ([1, 1] as [number, number]) : strides;
    const gemm =
      o.igemm && cls !== 'DepthwiseConv2D' && dilations[0] === 1 && dilations[1] === 1
        ? new IgemmConv2D({ filter: kdata, filterShape: kshape, bias, strides: plainStrides, pad: cls === 'SeparableConv2D' ? 'valid' : pad, activation: fusedAct })
        : null;
    if (gemm) {
      gemms.push(gemm);
      summary.igemmConvolutions++;
    }
    const filter = gemm ? null : keep(tf.tensor4d(kdata, kshape));
    const biasT = bias && !gemm ? keep(tf.tensor1d(bias)) : undefined;
    // Activations XNNPACK does not clamp run after the conv, as the layer would.
    const post = act === null ? (cfg.activation as string) : null;
    const postLayer = post ? conv.layer : null;
    return {
      name,
      inputs: [input.id],
      outputs: [out.id],
      run: ([x]) => {
        let y: tf.Tensor4D;
        if (cls === 'Conv2D') {
          y = gemm ? gemm.apply(x as tf.Tensor4D) : tf.fused.conv2d({ x: x as tf.Tensor4D, filter: filter!, strides, pad, dilations, bias: biasT, activation: fusedAct });
        } else if (cls === 'DepthwiseConv2D') {
          // The op's typing omits explicit padding; its shape logic (computeConv2DInfo) and the wasm kernel take it.
          y = tf.fused.depthwiseConv2d({ x: x as tf.Tensor4D, filter: filter!, strides, pad: pad as 'valid', dilations, bias: biasT, activation: fusedAct });
        } else {
          const d = tf.depthwiseConv2d(x as tf.Tensor4D, depthwise!, strides, pad as 'valid' | 'same', 'NHWC', dilations);
          y = gemm ? gemm.apply(d) : tf.fused.conv2d({ x: d, filter: filter!, strides: 1, pad: 'valid', bias: biasT, activation: fusedAct });
          d.dispose();
        }
        if (postLayer) {
          const act = (postLayer as unknown as { activation: { apply(t: tf.Tensor): tf.Tensor } }).activation;
          const z = act.apply(y);
          y.dispose();
          return [z];
        }
        return [y];
      },
      emit: post && !GRAPH_ACTIVATIONS[post] ? undefined : (g, [x]) => {
        const stride4 = [1, strides[0], strides[1], 1];
        const dil4 = [1, dilations[0], dilations[1], 1];
        const explicit = Array.isArray(pad) ? pad.flat() : null;
        let h = x;
        if (cls === 'Conv2D') {
          const w = g.constant(`${name}/kernel`, kdata, kshape);
          const padding: Record<string, GraphAttr> = explicit ? { padding: { s: 'EXPLICIT' }, explicit_paddings: { ints: explicit } } : { padding: { s: (pad as string).toUpperCase() } };
          h = g.op('Conv2D', name, [h, w], { T: FLOAT, strides: { ints: stride4 }, dilations: { ints: dil4 }, data_format: NHWC, ...padding });
        } else {
          if (explicit) h = g.op('Pad', `${name}/pad`, [h, g.constant(`${name}/paddings`, Int32Array.from(explicit), [4, 2])], { T: FLOAT, Tpaddings: INT });
          const dw = cls === 'DepthwiseConv2D' ? g.constant(`${name}/kernel`, kdata, kshape) : g.constant(`${name}/depthwise`, depthwise!.dataSync() as Float32Array, depthwise!.shape);
          const padding = explicit ? 'VALID' : (pad as string).toUpperCase();
          h = g.op('DepthwiseConv2dNative', name, [h, dw], { T: FLOAT, strides: { ints: stride4 }, dilations: { ints: dil4 }, data_format: NHWC, padding: { s: padding } });
          if (cls === 'SeparableConv2D') {
            const w = g.constant(`${name}/pointwise`, kdata, kshape);
            h = g.op('Conv2D', `${name}/pointwise`, [h, w], { T: FLOAT, strides: { ints: [1, 1, 1, 1] }, data_format: NHWC, padding: { s: 'VALID' } });
          }
        }
        if (bias) h = g.op('BiasAdd', `${name}/bias`, [h, g.constant(`${name}/bias`, bias, [bias.length])], { T: FLOAT, data_format: NHWC });
        h = emitActivation(g, h, fusedAct, `${name}/act`);
        if (post) h = g.op(GRAPH_ACTIVATIONS[post]!, `${name}/${post}`, [h], { T: FLOAT });
        return [h];
      },
    };
  }

  function batchNormStep(bn: GraphNode): Step {
    const { scale, offset } = bnScaleOffset(bn.layer);
    const C = scale.length;
    let out = bn.outputs[0];
    let act: FusedActivation = 'linear';
    let name = bn.layer.name;
    const f = fusableActivation(out);
    const rank4 = bn.inputs[0].rank === 4;
    if (f && rank4) {
      act = f.act;
      absorbed.add(f.node);
      summary.fusedActivations++;
      out = f.node.outputs[0];
      name += `+${f.node.layer.name}`;
    }
    summary.standaloneBatchNorms++;
    const scaleT = keep(tf.tensor1d(Float32Array.from(scale)));
    const offsetT = keep(tf.tensor1d(Float32Array.from(offset)));
    // Rank 4 on native TensorFlow: its FusedBatchNorm (inference) with mean 0, variance 1, epsilon 0 is
    // x * scale + offset in one op. Rank 4 elsewhere: a 1 x 1 depthwise conv with bias (XNNPACK's
    // channel-wise multiply-add). Other ranks: multiply and add.
    const mode = !rank4 ? 'affine' : tf.getBackend() === 'tensorflow' ? 'fusedBatchNorm' : 'depthwise';
    const filterT = mode === 'depthwise' ? keep(tf.reshape(scaleT, [1, 1, C, 1])) : undefined;
    const [zerosT, onesT] = mode === 'fusedBatchNorm' ? [keep(tf.zeros([C])), keep(tf.ones([C]))] : [];
    return {
      name,
      inputs: [bn.inputs[0].id],
      outputs: [out.id],
      run: ([x]) => {
        if (mode === 'fusedBatchNorm') return [tf.tidy(() => activate(tf.batchNorm(x as tf.Tensor4D, zerosT!, onesT!, offsetT, scaleT, 0), act))];
        if (mode === 'depthwise') return [tf.fused.depthwiseConv2d({ x: x as tf.Tensor4D, filter: filterT as tf.Tensor4D, strides: 1, pad: 'valid', bias: offsetT, activation: act })];
        return [tf.tidy(() => tf.add(tf.mul(x, scaleT), offsetT))];
      },
      emit: (g, [x]) => {
        const s = g.constant(`${name}/scale`, Float32Array.from(scale), [C]);
        const b = g.constant(`${name}/offset`, Float32Array.from(offset), [C]);
        if (!rank4) return [g.op('AddV2', `${name}/add`, [g.op('Mul', `${name}/mul`, [x, s], { T: FLOAT }), b], { T: FLOAT })];
        const zeros = g.constant(`${name}/mean`, new Float32Array(C), [C]);
        const ones = g.constant(`${name}/variance`, new Float32Array(C).fill(1), [C]);
        const y = g.op('FusedBatchNormV3', name, [x, s, b, zeros, ones], { T: FLOAT, U: FLOAT, epsilon: { f: 0 }, data_format: NHWC, is_training: { b: false } });
        return [emitActivation(g, y, act, `${name}/act`)];
      },
    };
  }

  function simpleStep(n: GraphNode, cls: string, cfg: Kwargs): Step {
    const ids = { inputs: n.inputs.map((t) => t.id), outputs: n.outputs.map((t) => t.id) };
    const name = n.layer.name;
    const one = (fn: (xs: tf.Tensor[]) => tf.Tensor, emit: (g: GraphSink, xs: string[]) => string): Step => ({
      name,
      ...ids,
      run: (xs) => [fn(xs)],
      emit: (g, xs) => [emit(g, xs)],
    });
    const binary = (op: string) => (g: GraphSink, xs: string[]) => xs.slice(1).reduce((a, b, k) => g.op(op, `${name}/${k}`, [a, b], { T: FLOAT }), xs[0]);
    const scalar = (g: GraphSink, v: number, what: string) => g.constant(`${name}/${what}`, Float32Array.of(v), []);
    const act = activationOf(n.layer);
    // linear: a copy, so that freeing the input after its last consumer leaves the output alive
    if (act) return one(([x]) => (act === 'linear' ? x.clone() : activate(x, act)), (g, [x]) => (act === 'linear' ? g.op('Identity', name, [x], { T: FLOAT }) : emitActivation(g, x, act, name)));
    const lastAxis = (axis: unknown) => (axis == null || axis === -1 ? -1 : (axis as number));
    switch (cls) {
      case 'Add':
        return one((xs) => (xs.length === 2 ? tf.add(xs[0], xs[1]) : tf.addN(xs)), (g, xs) => (xs.length === 2 ? g.op('AddV2', name, xs, { T: FLOAT }) : g.op('AddN', name, xs, { T: FLOAT, N: { i: xs.length } })));
      case 'Multiply':
        return one((xs) => xs.slice(1).reduce((a, b) => tf.tidy(() => tf.mul(a, b)), xs[0]), binary('Mul'));
      case 'Concatenate': {
        const axis = lastAxis(cfg.axis);
        return one(
          (xs) => tf.concat(xs, axis),
          (g, xs) => g.op('ConcatV2', name, [...xs, g.constant(`${name}/axis`, Int32Array.of(axis), [])], { T: FLOAT, N: { i: xs.length }, Tidx: INT }),
        );
      }
      case 'TFOpLambda': {
        const l = n.layer as unknown as { op: string; y: number };
        return one(([x]) => (l.op === 'add' ? tf.add(x, l.y) : tf.mul(x, l.y)), (g, [x]) => g.op(l.op === 'add' ? 'AddV2' : 'Mul', name, [x, scalar(g, l.y, 'y')], { T: FLOAT }));
      }
      case 'CustomScaleLayer': {
        const s = (n.layer as unknown as { scale: number }).scale;
        return one(
          ([a, b]) => tf.tidy(() => tf.add(a, tf.mul(b, s))),
          (g, [a, b]) => g.op('AddV2', name, [a, g.op('Mul', `${name}/scale`, [b, scalar(g, s, 'scale')], { T: FLOAT })], { T: FLOAT }),
        );
      }
      case 'Rescaling': {
        const scale = cfg.scale as number;
        const offset = (cfg.offset as number) ?? 0;
        return one(
          ([x]) => tf.tidy(() => tf.add(tf.mul(x, scale), offset)),
          (g, [x]) => g.op('AddV2', name, [g.op('Mul', `${name}/mul`, [x, scalar(g, scale, 'scale')], { T: FLOAT }), scalar(g, offset, 'offset')], { T: FLOAT }),
        );
      }
      case 'GlobalAveragePooling2D':
      case 'GlobalMaxPooling2D': {
        if (!isChannelsLast(cfg)) break;
        if (cls === 'GlobalMaxPooling2D' && cfg.keepdims) break;
        const keepdims = cls === 'GlobalAveragePooling2D' && (n.layer as unknown as { keepdims?: boolean }).keepdims === true;
        const reduce = cls === 'GlobalAveragePooling2D' ? tf.mean : tf.max;
        return one(
          ([x]) => reduce(x, [1, 2], keepdims),
          (g, [x]) => g.op(cls === 'GlobalAveragePooling2D' ? 'Mean' : 'Max', name, [x, g.constant(`${name}/axes`, Int32Array.of(1, 2), [2])], { T: FLOAT, Tidx: INT, keep_dims: { b: keepdims } }),
        );
      }
      case 'MaxPooling2D':
      case 'AveragePooling2D': {
        // The same tf op the tfjs layer calls (so 'same' average pooling counts as the layer does).
        if (!isChannelsLast(cfg)) break;
        const size = pair(cfg.poolSize, 'poolSize');
        const strides = pair(cfg.strides ?? cfg.poolSize, 'strides');
        const padding = cfg.padding as 'valid' | 'same';
        return one(
          ([x]) => (cls === 'MaxPooling2D' ? tf.maxPool(x as tf.Tensor4D, size, strides, padding) : tf.avgPool(x as tf.Tensor4D, size, strides, padding)),
          (g, [x]) =>
            g.op(cls === 'MaxPooling2D' ? 'MaxPool' : 'AvgPool', name, [x], {
              T: FLOAT,
              ksize: { ints: [1, size[0], size[1], 1] },
              strides: { ints: [1, strides[0], strides[1], 1] },
              padding: { s: padding.toUpperCase() },
              data_format: NHWC,
            }),
        );
      }
      case 'ZeroPadding2D':
        if (isChannelsLast(cfg)) {
          const p = cfg.padding as [[number, number], [number, number]];
          const pads: Array<[number, number]> = [[0, 0], pair(p[0], 'padding'), pair(p[1], 'padding'), [0, 0]];
          return one(
            ([x]) => tf.pad(x, pads),
            (g, [x]) => g.op('Pad', name, [x, g.constant(`${name}/paddings`, Int32Array.from(pads.flat()), [4, 2])], { T: FLOAT, Tpaddings: INT }),
          );
        }
        break;
      case 'Flatten': {
        const dim = (n.outputs[0].shape as Array<number | null>).slice(1).reduce<number>((a, b) => a * (b ?? NaN), 1);
        return one(
          ([x]) => tf.reshape(x, [x.shape[0], -1]),
          (g, [x]) => {
            if (!Number.isFinite(dim)) throw new Error(`compileInference: ${name} has an unknown flattened size`);
            return g.op('Reshape', name, [x, g.constant(`${name}/shape`, Int32Array.of(-1, dim), [2])], { T: FLOAT, Tshape: INT });
          },
        );
      }
      case 'Dropout':
      case 'SpatialDropout2D':
        return one(([x]) => x.clone(), (g, [x]) => g.op('Identity', name, [x], { T: FLOAT }));
    }
    summary.fallbacks[cls] = (summary.fallbacks[cls] ?? 0) + 1;
    const kwargs = { ...n.callArgs, training: false };
    return {
      name,
      ...ids,
      run: (xs) => {
        const y = n.layer.apply(xs.length === 1 ? xs[0] : xs, kwargs) as tf.Tensor | tf.Tensor[];
        return Array.isArray(y) ? y : [y];
      },
    };
  }

  summary.steps = steps.length;
  const inputIds = model.inputs.map((t) => t.id);
  const outputIds = model.outputs.map((t) => t.id);
  for (const id of outputIds) {
    if (!inputIds.includes(id) && !steps.some((s) => s.outputs.includes(id))) {
      throw new Error(`compileInference: model output ${id} is produced by no step`);
    }
  }
  return {
    steps,
    summary,
    inputIds,
    outputIds,
    dispose: () => {
      tf.dispose(owned.splice(0));
      for (const g of gemms.splice(0)) g.dispose();
    },
  };
}

/** The eager runner of a plan: steps in order, each intermediate released after its last use. */
function runPlan(plan: InferencePlan): InferenceFn {
  const { steps, inputIds, outputIds: outIds } = plan;
  // Liveness: after step i, release tensors whose last consumer is step i.
  const lastUse = new Map<number, number>();
  steps.forEach((s, i) => s.inputs.forEach((id) => lastUse.set(id, i)));
  const protectedIds = new Set([...inputIds, ...outIds]);
  const releaseAfter: number[][] = steps.map(() => []);
  steps.forEach((s, i) => {
    for (const id of s.outputs) if (!lastUse.has(id) && !protectedIds.has(id)) releaseAfter[i].push(id);
  });
  for (const [id, i] of lastUse) if (!protectedIds.has(id)) releaseAfter[i].push(id);

  const runAll = (inputs: tf.Tensor[]): tf.Tensor[] => {
    if (inputs.length !== inputIds.length) throw new Error(`compileInference: model has ${inputIds.length} inputs, got ${inputs.length}`);
    return tf.tidy(() => {
      const values = new Map<number, tf.Tensor>();
      inputIds.forEach((id, i) => values.set(id, inputs[i]));
      // Tensor objects reachable from several ids (an identity fallback may return its input) are
      // released only when no id holds them and they are not caller inputs.
      const holders = new Map<tf.Tensor, number>();
      const hold = (t: tf.Tensor) => holders.set(t, (holders.get(t) ?? 0) + 1);
      const inputSet = new Set(inputs);
      for (const t of inputs) hold(t);
      for (let i = 0; i < steps.length; i++) {
        const s = steps[i];
        const xs = s.inputs.map((id) => {
          const v = values.get(id);
          if (!v) throw new Error(`compileInference: step ${s.name} needs a tensor that was not computed`);
          return v;
        });
        const ys = s.run(xs);
        s.outputs.forEach((id, k) => {
          values.set(id, ys[k]);
          hold(ys[k]);
        });
        for (const id of releaseAfter[i]) {
          const t = values.get(id);
          if (!t) continue;
          values.delete(id);
          const h = (holders.get(t) ?? 1) - 1;
          holders.set(t, h);
          if (h === 0 && !inputSet.has(t)) t.dispose();
        }
      }
      return outIds.map((id) => values.get(id)!);
    });
  };

  return inferenceFn('compileInference', outIds.length, runAll, plan.summary, plan.dispose);
}

/** An InferenceFn over runAll: called on one tensor it gives the single output (who names the compiler in errors). */
export function inferenceFn(who: string, outputs: number, runAll: (xs: tf.Tensor[]) => tf.Tensor[], summary: InferencePlanSummary, dispose: () => void): InferenceFn {
  const fn = ((x: tf.Tensor): tf.Tensor => {
    if (outputs !== 1) throw new Error(`${who}: model has ${outputs} outputs; use runAll`);
    return runAll([x])[0];
  }) as InferenceFn;
  Object.defineProperty(fn, 'runAll', { value: runAll });
  Object.defineProperty(fn, 'summary', { value: summary });
  Object.defineProperty(fn, 'dispose', { value: dispose });
  return fn;
}
