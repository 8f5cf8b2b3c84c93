/**
 * The partial regime's training step as one TensorFlow graph (native backend only): forward in
 * training mode, MSE, the backward pass written out op by op (TensorFlow's own gradient kernels:
 * Conv2DBackpropInput/Filter, FusedBatchNormGradV3, Relu6Grad, ...), the BN moving-average
 * updates and Keras Adam, all in one session call per batch. tfjs runs the same step as about 3,000
 * separate kernel calls (docs/performance.md), which is what this removes.
 *
 * Same arithmetic as the eager step of lib/train/suffix.ts (trainSuffix): batch statistics with
 * tfjs's moving-average update (moving -= (moving - batch) * (1 - momentum), biased batch variance),
 * tf.losses.meanSquaredError, and KerasAdam's update order; results agree to float32 rounding.
 * Layers outside the supported set make compileTrainStep throw GraphUnsupportedError, and the
 * caller trains eagerly.
 */
import * as tf from '@tensorflow/tfjs';
import { isBatchNormalization } from '../backbones/batch_norm';
import { modelNodes, type GraphNode } from '../train/graph';
import { cfgOf, FLOAT, INT, isChannelsLast, NHWC, pair, type GraphAttr } from './compile';
import { GraphUnsupportedError, loadGraph, newGraphBuilder } from './graph';

type Sym = tf.SymbolicTensor;
/** A layer weight (tfjs LayerVariable): read() gives the tf.Variable the model computes with. */
interface LayerVariableLike {
  read(): tf.Tensor;
  write(value: tf.Tensor): unknown;
  readonly trainable: boolean;
}

/** Keras Adam's constants (the learning-rate schedule is the caller's: lrt per step). */
export interface TrainStepAdam {
  beta1: number;
  beta2: number;
  epsilon: number;
}

/** A compiled training step of a model's trainable weights. */
export interface TrainStepGraph {
  /**
   * One step on a batch: the model's trainable weights and BN moving statistics are replaced by
   * their updated values, the Adam state advances. `lrt` is Keras's bias-corrected learning rate
   * of this step. Returns the batch's mean squared error.
   */
  step(xs: tf.Tensor[], labels: tf.Tensor, lrt: number): number;
  /** Graph nodes, for logs and tests. */
  readonly nodes: number;
  dispose(): void;
}

const dims = (t: Sym): number[] => (t.shape as Array<number | null>).slice(1).map((d) => d ?? NaN);

/** The forward pass, loss and backward pass of a model written into one builder. */
interface TrainingGraph {
  g: ReturnType<typeof newGraphBuilder>;
  inputs: string[];
  labels: string;
  loss: string;
  weightInputs: Array<{ lv: LayerVariableLike; tensor: string }>;
  /** Gradient of the loss for each trainable weight, in weightInputs order. */
  trainable: Array<{ lv: LayerVariableLike; tensor: string; grad: string }>;
  movingUpdates: Array<{ lv: LayerVariableLike; tensor: string }>;
}

/**
 * Writes the training step of `model` (a functional model with one output of shape [batch, k])
 * and loads it. Throws GraphUnsupportedError for a backend or layer it cannot express.
 */
export async function compileTrainStep(model: tf.LayersModel, adam: TrainStepAdam): Promise<TrainStepGraph> {
  const { g, inputs, labels, weightInputs, trainable, movingUpdates, loss } = writeTrainingGraph(model);
  const lrt = g.placeholder('lrt', []);
  const f32 = (v: number) => g.constant('c', Float32Array.of(v), []);
  // Keras Adam, as KerasAdam.apply: m = m b1 + g (1 - b1); v = v b2 + g^2 (1 - b2); w -= m lrt / (sqrt(v) + eps).
  const [b1, c1, b2, c2, eps] = [adam.beta1, 1 - adam.beta1, adam.beta2, 1 - adam.beta2, adam.epsilon].map(f32);
  const adamIo = trainable.map((w, i) => {
    const shape = w.lv.read().shape;
    const m = g.placeholder(`adam_m_${i}`, shape);
    const v = g.placeholder(`adam_v_${i}`, shape);
    const grad = w.grad;
    const mul = (a: string, b: string) => g.op('Mul', `adam_${i}/mul`, [a, b], { T: FLOAT });
    const add = (a: string, b: string) => g.op('AddV2', `adam_${i}/add`, [a, b], { T: FLOAT });
    const m2 = add(mul(m, b1), mul(grad, c1));
    const v2 = add(mul(v, b2), mul(g.op('Square', `adam_${i}/square`, [grad], { T: FLOAT }), c2));
    const step = g.op('RealDiv', `adam_${i}/div`, [mul(m2, lrt), add(g.op('Sqrt', `adam_${i}/sqrt`, [v2], { T: FLOAT }), eps)], { T: FLOAT });
    const w2 = g.op('Sub', `adam_${i}/w`, [w.tensor, step], { T: FLOAT });
    return { lv: w.lv, m, v, w2, m2, v2, shape };
  });

  const feeds = [...inputs, labels, lrt, ...weightInputs.map((w) => w.tensor), ...adamIo.flatMap((a) => [a.m, a.v])];
  const fetches = [loss, ...adamIo.flatMap((a) => [a.w2, a.m2, a.v2]), ...movingUpdates.map((u) => u.tensor)];
  const graph = await loadGraph({ builder: g, inputs: feeds.map((tensor) => ({ tensor })), outputs: fetches.map((tensor) => ({ tensor })) });
  let state = adamIo.map((a) => [tf.zeros(a.shape), tf.zeros(a.shape)]);
  return {
    nodes: graph.nodes,
    step: (xs, y, lrtValue) => {
      const lr = tf.scalar(lrtValue);
      const values = weightInputs.map((w) => w.lv.read());
      const out = graph.run([...xs, y, lr, ...values, ...state.flat()]);
      lr.dispose();
      const lossValue = out[0].dataSync()[0];
      out[0].dispose();
      const next: tf.Tensor[][] = [];
      adamIo.forEach((a, i) => {
        const [w2, m2, v2] = out.slice(1 + 3 * i, 4 + 3 * i);
        (a.lv.read() as tf.Variable).assign(w2);
        w2.dispose();
        next.push([m2, v2]);
      });
      tf.dispose(state.flat());
      state = next;
      movingUpdates.forEach((u, i) => {
        const t = out[1 + 3 * adamIo.length + i];
        (u.lv.read() as tf.Variable).assign(t);
        t.dispose();
      });
      return lossValue;
    },
    dispose: () => {
      tf.dispose(state.flat());
      state = [];
      graph.dispose();
    },
  };
}

/**
 * The loss and the gradients of a model's trainable weights (model.trainableWeights order) as one
 * TensorFlow graph, for checking the written backward pass against tf.variableGrads.
 */
export async function compileGradients(model: tf.LayersModel): Promise<{ run(xs: tf.Tensor[], labels: tf.Tensor): { loss: number; grads: tf.Tensor[] }; dispose(): void }> {
  const t = writeTrainingGraph(model);
  const order = (model.trainableWeights as unknown as LayerVariableLike[]).map((lv) => t.trainable.find((w) => w.lv === lv)!.grad);
  const graph = await loadGraph({
    builder: t.g,
    inputs: [...t.inputs, t.labels, ...t.weightInputs.map((w) => w.tensor)].map((tensor) => ({ tensor })),
    outputs: [t.loss, ...order].map((tensor) => ({ tensor })),
  });
  return {
    run: (xs, labels) => {
      const [loss, ...grads] = graph.run([...xs, labels, ...t.weightInputs.map((w) => w.lv.read())]);
      const value = loss.dataSync()[0];
      loss.dispose();
      return { loss: value, grads };
    },
    dispose: () => graph.dispose(),
  };
}

function writeTrainingGraph(model: tf.LayersModel): TrainingGraph {
  if (tf.getBackend() !== 'tensorflow') throw new GraphUnsupportedError(`training graph needs the native TensorFlow backend, not ${tf.getBackend()}`);
  if (model.outputs.length !== 1 || model.outputs[0].shape.length !== 2) throw new GraphUnsupportedError('training graph: one rank-2 output expected');
  const g = newGraphBuilder();
  const nodes = modelNodes(model);
  const names = new Map<number, string>();
  const name = (t: Sym) => {
    const n = names.get(t.id);
    if (!n) throw new GraphUnsupportedError(`training graph: tensor ${t.name} is not computed`);
    return n;
  };
  const f32 = (v: number) => g.constant('c', Float32Array.of(v), []);
  const i32 = (hint: string, v: number[]) => g.constant(hint, Int32Array.from(v), [v.length]);

  // Every weight of the model is a graph input; trainable ones also get Adam state and outputs.
  const weightInputs: Array<{ lv: LayerVariableLike; tensor: string }> = [];
  const weightTensor = new Map<LayerVariableLike, string>();
  const weight = (lv: LayerVariableLike | null | undefined): string | null => {
    if (!lv) return null;
    let t = weightTensor.get(lv);
    if (!t) {
      const v = lv.read();
      t = g.placeholder(`weight_${weightInputs.length}`, v.shape);
      weightTensor.set(lv, t);
      weightInputs.push({ lv, tensor: t });
    }
    return t;
  };
  const grads = new Map<LayerVariableLike, string>();
  /** Output tensor ids whose gradient is needed (they depend on a trainable weight). */
  const needsGrad = new Set<number>();
  const inputs = model.inputs.map((t, i) => {
    const p = g.placeholder(`input_${i}`, [null, ...dims(t)]);
    names.set(t.id, p);
    return p;
  });
  const labels = g.placeholder('labels', [null, model.outputs[0].shape[1] as number]);
  const movingUpdates: Array<{ lv: LayerVariableLike; tensor: string }> = [];
  type Backward = (dy: string) => Array<string | null>;
  const backward: Array<{ node: GraphNode; back: Backward }> = [];

  for (const node of nodes) {
    const { layer } = node;
    const cls = layer.getClassName();
    const cfg = cfgOf(layer);
    const hint = layer.name;
    const xs = node.inputs.map(name);
    if (node.outputs.length !== 1) throw new GraphUnsupportedError(`training graph: ${hint} has ${node.outputs.length} outputs`);
    const own = layer.trainableWeights as unknown as LayerVariableLike[];
    if (own.length > 0 || node.inputs.some((t) => needsGrad.has(t.id))) needsGrad.add(node.outputs[0].id);
    let y: string;
    let back: Backward;
    const act = (z: string, a: unknown): { y: string; grad: (dy: string) => string } => {
      if (a === undefined || a === null || a === 'linear') return { y: z, grad: (dy) => dy };
      if (a === 'relu') {
        const r = g.op('Relu', `${hint}/relu`, [z], { T: FLOAT });
        return { y: r, grad: (dy) => g.op('ReluGrad', `${hint}/relu_grad`, [dy, r], { T: FLOAT }) };
      }
      if (a === 'relu6') return { y: g.op('Relu6', `${hint}/relu6`, [z], { T: FLOAT }), grad: (dy) => g.op('Relu6Grad', `${hint}/relu6_grad`, [dy, z], { T: FLOAT }) };
      throw new GraphUnsupportedError(`training graph: activation ${String(a)} of ${hint}`);
    };
    /** The layer's own bias and activation after z; back(dy) records the bias gradient and returns dz. */
    const biasAndActivation = (z: string, biasLv: LayerVariableLike | null | undefined): { y: string; back: (dy: string) => string } => {
      const b = cfg.useBias === false ? null : weight(biasLv);
      const a = act(b ? g.op('BiasAdd', `${hint}/bias`, [z, b], { T: FLOAT, data_format: NHWC }) : z, cfg.activation);
      return {
        y: a.y,
        back: (dy) => {
          const dz = a.grad(dy);
          if (b && biasLv!.trainable) grads.set(biasLv!, g.op('BiasAddGrad', `${hint}/bias_grad`, [dz], { T: FLOAT, data_format: NHWC }));
          return dz;
        },
      };
    };
    if ((cls === 'Conv2D' || cls === 'DepthwiseConv2D') && node.inputs.length === 1 && isChannelsLast(cfg)) {
      const depthwise = cls === 'DepthwiseConv2D';
      const lvs = layer as unknown as { kernel?: LayerVariableLike; depthwiseKernel?: LayerVariableLike; bias?: LayerVariableLike | null };
      const kernelLv = depthwise ? lvs.depthwiseKernel! : lvs.kernel!;
      const k = weight(kernelLv)!;
      const kshape = kernelLv.read().shape;
      const s = pair(cfg.strides, 'strides');
      const d = pair(cfg.dilationRate ?? 1, 'dilationRate');
      const attrs: Record<string, GraphAttr> = { T: FLOAT, strides: { ints: [1, s[0], s[1], 1] }, dilations: { ints: [1, d[0], d[1], 1] }, padding: { s: String(cfg.padding).toUpperCase() }, data_format: NHWC };
      const op = depthwise ? 'DepthwiseConv2dNative' : 'Conv2D';
      const tail = biasAndActivation(g.op(op, hint, [xs[0], k], attrs), lvs.bias);
      y = tail.y;
      const x = xs[0];
      const xNeeds = needsGrad.has(node.inputs[0].id);
      back = (dy) => {
        const dz = tail.back(dy);
        if (kernelLv.trainable) grads.set(kernelLv, g.op(`${op}BackpropFilter`, `${hint}/kernel_grad`, [x, i32(`${hint}/kshape`, kshape), dz], attrs));
        if (!xNeeds) return [null];
        return [g.op(`${op}BackpropInput`, `${hint}/input_grad`, [g.op('Shape', `${hint}/xshape`, [x], { T: FLOAT, out_type: INT }), k, dz], attrs)];
      };
    } else if (cls === 'SeparableConv2D' && node.inputs.length === 1 && isChannelsLast(cfg) && (cfg.depthMultiplier ?? 1) === 1) {
      // Depthwise (strides, padding, dilation) then a 1 x 1 pointwise convolution with the bias.
      const lvs = layer as unknown as { depthwiseKernel: LayerVariableLike; pointwiseKernel: LayerVariableLike; bias?: LayerVariableLike | null };
      const dk = weight(lvs.depthwiseKernel)!;
      const pk = weight(lvs.pointwiseKernel)!;
      const s = pair(cfg.strides, 'strides');
      const d = pair(cfg.dilationRate ?? 1, 'dilationRate');
      const dwAttrs: Record<string, GraphAttr> = { T: FLOAT, strides: { ints: [1, s[0], s[1], 1] }, dilations: { ints: [1, d[0], d[1], 1] }, padding: { s: String(cfg.padding).toUpperCase() }, data_format: NHWC };
      const pwAttrs: Record<string, GraphAttr> = { T: FLOAT, strides: { ints: [1, 1, 1, 1] }, dilations: { ints: [1, 1, 1, 1] }, padding: { s: 'VALID' }, data_format: NHWC };
      const x = xs[0];
      const mid = g.op('DepthwiseConv2dNative', `${hint}/depthwise`, [x, dk], dwAttrs);
      const tail = biasAndActivation(g.op('Conv2D', `${hint}/pointwise`, [mid, pk], pwAttrs), lvs.bias);
      y = tail.y;
      const xNeeds = needsGrad.has(node.inputs[0].id);
      back = (dy) => {
        const dz = tail.back(dy);
        if (lvs.pointwiseKernel.trainable) grads.set(lvs.pointwiseKernel, g.op('Conv2DBackpropFilter', `${hint}/pointwise_grad`, [mid, i32(`${hint}/pshape`, lvs.pointwiseKernel.read().shape), dz], pwAttrs));
        const dMid = g.op('Conv2DBackpropInput', `${hint}/mid_grad`, [g.op('Shape', `${hint}/midshape`, [mid], { T: FLOAT, out_type: INT }), pk, dz], pwAttrs);
        if (lvs.depthwiseKernel.trainable) grads.set(lvs.depthwiseKernel, g.op('DepthwiseConv2dNativeBackpropFilter', `${hint}/depthwise_grad`, [x, i32(`${hint}/dshape`, lvs.depthwiseKernel.read().shape), dMid], dwAttrs));
        if (!xNeeds) return [null];
        return [g.op('DepthwiseConv2dNativeBackpropInput', `${hint}/input_grad`, [g.op('Shape', `${hint}/xshape`, [x], { T: FLOAT, out_type: INT }), dk, dMid], dwAttrs)];
      };
    } else if (isBatchNormalization(layer) && node.inputs.length === 1 && node.inputs[0].rank === 4) {
      const bn = layer as unknown as { frozen?: boolean; axis: number; momentum: number; epsilon: number; gamma?: LayerVariableLike; beta?: LayerVariableLike; movingMean: LayerVariableLike; movingVariance: LayerVariableLike };
      if (bn.frozen || !(bn.axis === -1 || bn.axis === 3)) throw new GraphUnsupportedError(`training graph: BatchNormalization ${hint} is frozen or not channels-last`);
      const C = node.inputs[0].shape[3] as number;
      const gamma = weight(bn.gamma) ?? g.constant(`${hint}/ones`, new Float32Array(C).fill(1), [C]);
      const beta = weight(bn.beta) ?? g.constant(`${hint}/zeros`, new Float32Array(C), [C]);
      const empty = g.constant(`${hint}/empty`, new Float32Array(0), [0]);
      const x = xs[0];
      const bnAttrs: Record<string, GraphAttr> = { T: FLOAT, U: FLOAT, epsilon: { f: bn.epsilon }, data_format: NHWC, is_training: { b: true } };
      const fused = g.op('FusedBatchNormV3', hint, [x, gamma, beta, empty, empty], bnAttrs);
      y = fused;
      // tfjs's moving averages: the batch's mean and biased variance (tf.moments), moving -= (moving - batch) * (1 - momentum).
      const axes = i32(`${hint}/axes`, [0, 1, 2]);
      const mean = g.op('Mean', `${hint}/mean`, [x, axes], { T: FLOAT, Tidx: INT, keep_dims: { b: false } });
      const variance = g.op('Mean', `${hint}/variance`, [g.op('SquaredDifference', `${hint}/sq`, [x, mean], { T: FLOAT }), axes], { T: FLOAT, Tidx: INT, keep_dims: { b: false } });
      const decay = f32(1 - bn.momentum);
      for (const [lv, batch] of [[bn.movingMean, mean], [bn.movingVariance, variance]] as const) {
        const old = weight(lv)!;
        movingUpdates.push({ lv, tensor: g.op('Sub', `${hint}/moving`, [old, g.op('Mul', `${hint}/delta`, [g.op('Sub', `${hint}/diff`, [old, batch], { T: FLOAT }), decay], { T: FLOAT })], { T: FLOAT }) });
      }
      const xNeeds = needsGrad.has(node.inputs[0].id);
      back = (dy) => {
        const gradOp = g.op('FusedBatchNormGradV3', `${hint}/grad`, [dy, x, gamma, `${fused}:3`, `${fused}:4`, `${fused}:5`], bnAttrs);
        if (bn.gamma?.trainable) grads.set(bn.gamma, `${gradOp}:1`);
        if (bn.beta?.trainable) grads.set(bn.beta, `${gradOp}:2`);
        return [xNeeds ? gradOp : null];
      };
    } else if ((cls === 'ReLU' || cls === 'Activation') && node.inputs.length === 1) {
      const a = cls === 'ReLU' ? (cfg.maxValue == null ? 'relu' : cfg.maxValue === 6 ? 'relu6' : 'other') : cfg.activation;
      const r = act(xs[0], a);
      y = a === 'linear' ? g.op('Identity', hint, [xs[0]], { T: FLOAT }) : r.y;
      back = (dy) => [r.grad(dy)];
    } else if (cls === 'Add') {
      y = xs.length === 2 ? g.op('AddV2', hint, xs, { T: FLOAT }) : g.op('AddN', hint, xs, { T: FLOAT, N: { i: xs.length } });
      back = (dy) => xs.map(() => dy);
    } else if (cls === 'TFOpLambda') {
      // lib/backbones/layers: x + y or x * y with a constant y.
      const l = layer as unknown as { op: string; y: number };
      const c = f32(l.y);
      y = g.op(l.op === 'add' ? 'AddV2' : 'Mul', hint, [xs[0], c], { T: FLOAT });
      back = (dy) => [l.op === 'add' ? dy : g.op('Mul', `${hint}/grad`, [dy, c], { T: FLOAT })];
    } else if (cls === 'CustomScaleLayer') {
      // InceptionResNetV2's residual: a + b * scale.
      const c = f32((layer as unknown as { scale: number }).scale);
      y = g.op('AddV2', hint, [xs[0], g.op('Mul', `${hint}/scale`, [xs[1], c], { T: FLOAT })], { T: FLOAT });
      back = (dy) => [dy, g.op('Mul', `${hint}/grad`, [dy, c], { T: FLOAT })];
    } else if (cls === 'Multiply' && node.inputs.length === 2) {
      // Broadcasting product (squeeze-excite: [b, h, w, c] x [b, 1, 1, c]): each factor's gradient
      // is summed over the axes it was broadcast along.
      const [x0, x1] = xs;
      y = g.op('Mul', hint, [x0, x1], { T: FLOAT });
      const shapes = node.inputs.map((t) => t.shape as Array<number | null>);
      const reduced = (k: number, d: string): string => {
        const axes = shapes[k].map((n, a) => (a > 0 && n === 1 && shapes[1 - k][a] !== 1 ? a : -1)).filter((a) => a >= 0);
        if (axes.length === 0) return d;
        return g.op('Sum', `${hint}/grad_sum_${k}`, [d, i32(`${hint}/axes_${k}`, axes)], { T: FLOAT, Tidx: INT, keep_dims: { b: true } });
      };
      if (shapes[0].length !== shapes[1].length) throw new GraphUnsupportedError(`training graph: ${hint} multiplies tensors of different ranks`);
      back = (dy) => [reduced(0, g.op('Mul', `${hint}/grad_0`, [dy, x1], { T: FLOAT })), reduced(1, g.op('Mul', `${hint}/grad_1`, [dy, x0], { T: FLOAT }))];
    } else if (cls === 'GlobalAveragePooling2D' && isChannelsLast(cfg) && node.inputs[0].rank === 4) {
      const keepdims = (layer as unknown as { keepdims?: boolean }).keepdims === true;
      const [H, W, C] = dims(node.inputs[0]);
      const x = xs[0];
      y = g.op('Mean', hint, [x, i32(`${hint}/axes`, [1, 2])], { T: FLOAT, Tidx: INT, keep_dims: { b: keepdims } });
      // Each position gets dy / (H W).
      back = (dy) => {
        const d4 = keepdims ? dy : g.op('Reshape', `${hint}/grad_shape`, [dy, i32(`${hint}/shape4`, [-1, 1, 1, C])], { T: FLOAT, Tshape: INT });
        const scaled = g.op('RealDiv', `${hint}/grad_scale`, [d4, f32(H * W)], { T: FLOAT });
        return [g.op('BroadcastTo', `${hint}/grad`, [scaled, g.op('Shape', `${hint}/xshape`, [x], { T: FLOAT, out_type: INT })], { T: FLOAT, Tidx: INT })];
      };
    } else if (cls === 'ZeroPadding2D' && node.inputs.length === 1) {
      const p = cfg.padding as [unknown, unknown];
      const [t, bt] = pair(p[0], 'padding');
      const [l, r] = pair(p[1], 'padding');
      y = g.op('Pad', hint, [xs[0], g.constant(`${hint}/paddings`, Int32Array.from([0, 0, t, bt, l, r, 0, 0]), [4, 2])], { T: FLOAT, Tpaddings: INT });
      const [H, W] = dims(node.inputs[0]);
      back = (dy) => [g.op('Slice', `${hint}/grad`, [dy, i32(`${hint}/begin`, [0, t, l, 0]), i32(`${hint}/size`, [-1, H, W, -1])], { T: FLOAT, Index: INT })];
    } else if (cls === 'Flatten') {
      const inner = dims(node.inputs[0]);
      y = g.op('Reshape', hint, [xs[0], i32(`${hint}/shape`, [-1, inner.reduce((a, b) => a * b, 1)])], { T: FLOAT, Tshape: INT });
      back = (dy) => [g.op('Reshape', `${hint}/grad`, [dy, i32(`${hint}/inshape`, [-1, ...inner])], { T: FLOAT, Tshape: INT })];
    } else if (cls === 'Dense' && node.inputs[0].rank === 2) {
      const lvs = layer as unknown as { kernel: LayerVariableLike; bias?: LayerVariableLike | null };
      const k = weight(lvs.kernel)!;
      const tail = biasAndActivation(g.op('MatMul', hint, [xs[0], k], { T: FLOAT, transpose_a: { b: false }, transpose_b: { b: false } }), lvs.bias);
      y = tail.y;
      const x = xs[0];
      const xNeeds = needsGrad.has(node.inputs[0].id);
      back = (dy) => {
        const dz = tail.back(dy);
        if (lvs.kernel.trainable) grads.set(lvs.kernel, g.op('MatMul', `${hint}/kernel_grad`, [x, dz], { T: FLOAT, transpose_a: { b: true }, transpose_b: { b: false } }));
        return [xNeeds ? g.op('MatMul', `${hint}/input_grad`, [dz, k], { T: FLOAT, transpose_a: { b: false }, transpose_b: { b: true } }) : null];
      };
    } else if (cls === 'Concatenate' && (cfg.axis === -1 || cfg.axis === node.inputs[0].rank - 1)) {
      const rank = node.inputs[0].rank;
      y = g.op('ConcatV2', hint, [...xs, g.constant(`${hint}/axis`, Int32Array.of(rank - 1), [])], { T: FLOAT, N: { i: xs.length }, Tidx: INT });
      const widths = node.inputs.map((t) => t.shape[rank - 1] as number);
      back = (dy) => {
        let offset = 0;
        return widths.map((w, i) => {
          const begin = [...Array(rank - 1).fill(0), offset];
          offset += w;
          return g.op('Slice', `${hint}/grad_${i}`, [dy, i32(`${hint}/begin`, begin), i32(`${hint}/size`, [...Array(rank - 1).fill(-1), w])], { T: FLOAT, Index: INT });
        });
      };
    } else if ((cls === 'MaxPooling2D' || cls === 'AveragePooling2D') && isChannelsLast(cfg)) {
      const size = pair(cfg.poolSize, 'poolSize');
      const s = pair(cfg.strides ?? cfg.poolSize, 'strides');
      const attrs: Record<string, GraphAttr> = { T: FLOAT, ksize: { ints: [1, size[0], size[1], 1] }, strides: { ints: [1, s[0], s[1], 1] }, padding: { s: String(cfg.padding).toUpperCase() }, data_format: NHWC };
      const x = xs[0];
      y = g.op(cls === 'MaxPooling2D' ? 'MaxPool' : 'AvgPool', hint, [x], attrs);
      const out = y;
      back = (dy) =>
        cls === 'MaxPooling2D'
          ? [g.op('MaxPoolGrad', `${hint}/grad`, [x, out, dy], attrs)]
          : [g.op('AvgPoolGrad', `${hint}/grad`, [g.op('Shape', `${hint}/xshape`, [x], { T: FLOAT, out_type: INT }), dy], attrs)];
    } else {
      throw new GraphUnsupportedError(`training graph: no gradient for layer ${hint} (${cls})`);
    }
    names.set(node.outputs[0].id, y);
    backward.push({ node, back });
  }

  // Loss: tf.losses.meanSquaredError (mean over batch and outputs); its gradient 2 (p - y) / size.
  const pred = name(model.outputs[0]);
  const diff = g.op('Sub', 'loss/diff', [pred, labels], { T: FLOAT });
  const all = i32('loss/axes', [0, 1]);
  const loss = g.op('Mean', 'loss', [g.op('Square', 'loss/square', [diff], { T: FLOAT }), all], { T: FLOAT, Tidx: INT, keep_dims: { b: false } });
  const size = g.op('Cast', 'loss/size', [g.op('Size', 'loss/count', [diff], { T: FLOAT, out_type: INT })], { SrcT: INT, DstT: FLOAT, Truncate: { b: false } });
  const dPred = g.op('RealDiv', 'loss/grad', [g.op('Mul', 'loss/twice', [diff, f32(2)], { T: FLOAT }), size], { T: FLOAT });

  // Backward, last node first; gradients of a tensor with several consumers are summed.
  const pending = new Map<number, string[]>([[model.outputs[0].id, [dPred]]]);
  for (let i = backward.length - 1; i >= 0; i--) {
    const { node, back } = backward[i];
    const parts = pending.get(node.outputs[0].id);
    if (!parts || !needsGrad.has(node.outputs[0].id)) continue;
    const dy = parts.length === 1 ? parts[0] : g.op('AddN', `${node.layer.name}/grad_sum`, parts, { T: FLOAT, N: { i: parts.length } });
    back(dy).forEach((d, k) => {
      if (d === null) return;
      const id = node.inputs[k].id;
      pending.set(id, [...(pending.get(id) ?? []), d]);
    });
  }

  const trainable = weightInputs.filter((w) => w.lv.trainable);
  const missing = trainable.filter((w) => !grads.has(w.lv));
  if (missing.length > 0) throw new GraphUnsupportedError(`training graph: no gradient reaches ${missing.length} trainable weight(s)`);
  return { g, inputs, labels, loss, weightInputs, trainable: trainable.map((w) => ({ ...w, grad: grads.get(w.lv)! })), movingUpdates };
}
