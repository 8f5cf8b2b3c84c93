/**
 * Graph surgery on functional tfjs models: walking a model's nodes in order, splitting it at the
 * frozen/trainable cut (partial regime) and folding BatchNormalization into convolutions.
 */
import * as tf from '@tensorflow/tfjs';
import { isBatchNormalization } from '../backbones/batch_norm';

type Sym = tf.SymbolicTensor;
type Kwargs = Record<string, unknown>;

/** One call of a layer inside a model. */
export interface GraphNode {
  layer: tf.layers.Layer;
  /** Index of the layer in model.layers (the order Keras' freezing rule counts). */
  layerIndex: number;
  inputs: Sym[];
  outputs: Sym[];
  callArgs: Kwargs;
}

interface RawNode {
  inboundLayers: tf.layers.Layer[];
  inputTensors: Sym[];
  outputTensors: Sym[];
  callArgs?: Kwargs;
}

/** The nodes of a functional model in topological order, input layers excluded. */
export function modelNodes(model: tf.LayersModel): GraphNode[] {
  const keys = (model as unknown as { containerNodes: Set<string> }).containerNodes;
  const out: GraphNode[] = [];
  model.layers.forEach((layer, layerIndex) => {
    const nodes = (layer as unknown as { inboundNodes: RawNode[] }).inboundNodes;
    nodes.forEach((node, i) => {
      if (!keys.has(`${layer.name}_ib-${i}`)) return;
      if (node.inboundLayers.length === 0) return; // InputLayer
      out.push({ layer, layerIndex, inputs: node.inputTensors, outputs: node.outputTensors, callArgs: node.callArgs ?? {} });
    });
  });
  return out;
}

function applyNode(node: GraphNode, inputs: Sym[]): Sym[] {
  const y = node.layer.apply(inputs.length === 1 ? inputs[0] : inputs, node.callArgs) as Sym | Sym[];
  return Array.isArray(y) ? y : [y];
}

function mapped(map: Map<number, Sym>, t: Sym, what: string): Sym {
  const m = map.get(t.id);
  if (!m) throw new Error(`graph: tensor ${t.name} needed by ${what} was not computed (model not topologically ordered?)`);
  return m;
}

/** A model cut at the frozen/trainable boundary. */
export interface SplitModel {
  /** Frozen part: model inputs -> every frozen tensor a trainable layer (or the output) consumes. */
  prefix: tf.LayersModel;
  /** Names and shapes (without batch) of the cut tensors, in prefix output order. */
  cut: Array<{ name: string; shape: number[]; size: number }>;
  /** Trainable part: one input per cut tensor -> the model's outputs. Shares layers (weights) with the original. */
  suffix: tf.LayersModel;
}

/**
 * Splits a model into a frozen prefix and a trainable suffix. A DenseNet cut crosses with several
 * tensors (the concatenations reuse earlier outputs), so the suffix takes one input per frozen
 * tensor that any trainable layer consumes. `isFrozen` defaults to `!layer.trainable`.
 */
export function splitModel(
  model: tf.LayersModel,
  isFrozen: (layer: tf.layers.Layer, index: number) => boolean = (l) => !l.trainable,
): SplitModel {
  const nodes = modelNodes(model);
  const frozenLayer = new Set<tf.layers.Layer>();
  model.layers.forEach((l, i) => {
    if (isFrozen(l, i)) frozenLayer.add(l);
  });
  const inputLayers = new Set(model.inputs.map((t) => t.sourceLayer));
  const isFrozenTensor = (t: Sym) => frozenLayer.has(t.sourceLayer) || inputLayers.has(t.sourceLayer);
  const cutTensors: Sym[] = [];
  const seen = new Set<number>();
  const addCut = (t: Sym) => {
    if (!seen.has(t.id)) {
      seen.add(t.id);
      cutTensors.push(t);
    }
  };
  for (const n of nodes) {
    if (frozenLayer.has(n.layer)) continue;
    for (const t of n.inputs) if (isFrozenTensor(t)) addCut(t);
  }
  for (const t of model.outputs) if (isFrozenTensor(t)) addCut(t);
  if (cutTensors.length === 0) throw new Error('splitModel: no tensor crosses the cut (nothing trainable consumes frozen output)');
  for (const n of nodes) {
    if (!frozenLayer.has(n.layer)) continue;
    for (const t of n.inputs) {
      if (!isFrozenTensor(t)) {
        throw new Error(`splitModel: frozen layer ${n.layer.name} consumes the output of trainable layer ${t.sourceLayer.name}; the cut is not a prefix`);
      }
    }
  }
  const prefix = tf.model({ inputs: model.inputs, outputs: cutTensors, name: `${model.name}_prefix` });
  const map = new Map<number, Sym>();
  const suffixInputs = cutTensors.map((t, i) => {
    const inp = tf.input({ shape: t.shape.slice(1) as number[], name: `cut_${i}_${t.sourceLayer.name}` });
    map.set(t.id, inp);
    return inp;
  });
  for (const n of nodes) {
    if (frozenLayer.has(n.layer)) continue;
    const outs = applyNode(n, n.inputs.map((t) => mapped(map, t, n.layer.name)));
    n.outputs.forEach((t, i) => map.set(t.id, outs[i]));
  }
  const suffix = tf.model({
    inputs: suffixInputs,
    outputs: model.outputs.map((t) => mapped(map, t, 'the model output')),
    name: `${model.name}_suffix`,
  });
  return {
    prefix,
    suffix,
    cut: cutTensors.map((t) => {
      const shape = t.shape.slice(1) as number[];
      return { name: t.sourceLayer.name, shape, size: shape.reduce((a, b) => a * b, 1) };
    }),
  };
}

/**
 * Appends Flatten + Dense(units) to a model (the paper's head), reusing given layers when passed so
 * several models can share one head.
 */
export function attachHead(
  base: tf.LayersModel,
  head: { flatten?: tf.layers.Layer; dense: tf.layers.Layer },
  name = `${base.name}_transfer`,
): tf.LayersModel {
  if (base.outputs.length !== 1) throw new Error(`attachHead: base has ${base.outputs.length} outputs, expected 1`);
  const flat = (head.flatten ?? tf.layers.flatten({ name: 'flatten' })).apply(base.outputs[0]) as Sym;
  const y = head.dense.apply(flat) as Sym;
  return tf.model({ inputs: base.inputs, outputs: y, name });
}

const FOLDABLE = new Set(['Conv2D', 'DepthwiseConv2D', 'SeparableConv2D']);

/** Whether a BatchNormalization normalises the last axis of its rank-`rank` input (channels last). */
export function isChannelsLastBatchNorm(bn: tf.layers.Layer, rank = 4): boolean {
  const axis = (bn.getConfig() as Kwargs).axis as number | number[];
  const ax = Array.isArray(axis) ? axis : [axis];
  return ax.length === 1 && (ax[0] === -1 || ax[0] === rank - 1);
}

/** A BatchNormalization's inference-mode statistics: scale = gamma / sqrt(var + eps), its mean and beta. */
export function batchNormStats(bn: tf.layers.Layer): { scale: Float64Array; mean: Float32Array; beta: Float32Array | null } {
  const cfg = bn.getConfig() as Kwargs;
  const w = bn.getWeights().map((t) => t.dataSync() as Float32Array);
  let i = 0;
  const gamma = cfg.scale === false ? null : w[i++];
  const beta = cfg.center === false ? null : w[i++];
  const mean = w[i++];
  const variance = w[i++];
  const eps = cfg.epsilon as number;
  const scale = new Float64Array(mean.length);
  for (let c = 0; c < mean.length; c++) scale[c] = (gamma ? gamma[c] : 1) / Math.sqrt(variance[c] + eps);
  return { scale, mean, beta };
}

/**
 * A convolution's kernel and bias with the following BatchNormalization folded in:
 * w' = w scale, b' = (b - mean) scale + beta. For SeparableConv2D the pointwise kernel is folded.
 * `owner` names the caller in errors.
 */
export function foldedConvWeights(conv: tf.layers.Layer, bn: tf.layers.Layer, owner: string): { kernel: Float32Array; kernelShape: number[]; bias: Float32Array } {
  const cls = conv.getClassName();
  const { scale, mean, beta } = batchNormStats(bn);
  const C = mean.length;
  const convW = conv.getWeights();
  const kernelIdx = cls === 'SeparableConv2D' ? 1 : 0; // the pointwise kernel carries the output channels
  const kernelT = convW[kernelIdx];
  const kernel = Float32Array.from(kernelT.dataSync() as Float32Array);
  const kshape = kernelT.shape;
  const outC = cls === 'DepthwiseConv2D' ? kshape[2]! * kshape[3]! : kshape[3]!;
  if (outC !== C) throw new Error(`${owner}: ${conv.name} has ${outC} output channels, ${bn.name} normalises ${C}`);
  // Channels-last kernels: the output channel is the fastest axis for Conv2D/pointwise ([.., in, out]) and for
  // depthwise ([kh, kw, in, mult] -> channel in*mult + m), so channel = flat index mod C in every case.
  for (let j = 0; j < kernel.length; j++) kernel[j] *= scale[j % C];
  const hasBias = (conv.getConfig() as Kwargs).useBias !== false;
  const oldBias = hasBias ? (convW[convW.length - 1].dataSync() as Float32Array) : null;
  const bias = new Float32Array(C);
  for (let c = 0; c < C; c++) bias[c] = ((oldBias ? oldBias[c] : 0) - mean[c]) * scale[c] + (beta ? beta[c] : 0);
  return { kernel, kernelShape: kshape, bias };
}

/**
 * A copy of an inference model in which every BatchNormalization that directly follows a
 * convolution (Conv2D, DepthwiseConv2D, SeparableConv2D, linear activation, channels last) whose
 * output nothing else consumes is folded into that convolution's kernel and bias:
 * w' = w gamma / sqrt(var + eps), b' = (b - mean) gamma / sqrt(var + eps) + beta.
 * Exact in inference mode; other layers are shared with the original (do not train the result).
 */
export function foldBatchNorm(model: tf.LayersModel): { model: tf.LayersModel; folded: number } {
  const nodes = modelNodes(model);
  const consumers = new Map<number, number>();
  for (const n of nodes) for (const t of n.inputs) consumers.set(t.id, (consumers.get(t.id) ?? 0) + 1);
  for (const t of model.outputs) consumers.set(t.id, (consumers.get(t.id) ?? 0) + 1);
  const nodeCount = new Map<tf.layers.Layer, number>();
  for (const n of nodes) nodeCount.set(n.layer, (nodeCount.get(n.layer) ?? 0) + 1);
  // conv node -> bn node that absorbs it
  const foldInto = new Map<GraphNode, GraphNode>();
  const producer = new Map<number, GraphNode>();
  for (const n of nodes) for (const t of n.outputs) producer.set(t.id, n);
  for (const n of nodes) {
    if (!isBatchNormalization(n.layer) || n.inputs.length !== 1) continue;
    const conv = producer.get(n.inputs[0].id);
    if (!conv || !FOLDABLE.has(conv.layer.getClassName())) continue;
    const cfg = conv.layer.getConfig() as Kwargs;
    if (!isChannelsLastBatchNorm(n.layer)) continue;
    if (cfg.dataFormat && cfg.dataFormat !== 'channelsLast') continue;
    if (cfg.activation && cfg.activation !== 'linear') continue;
    if ((consumers.get(n.inputs[0].id) ?? 0) !== 1) continue;
    if (nodeCount.get(conv.layer) !== 1 || nodeCount.get(n.layer) !== 1) continue;
    foldInto.set(conv, n);
  }
  const bnFrom = new Map<GraphNode, GraphNode>();
  for (const [c, b] of foldInto) bnFrom.set(b, c);
  const map = new Map<number, Sym>();
  model.inputs.forEach((t) => map.set(t.id, t));
  const pending: Array<{ layer: tf.layers.Layer; weights: tf.Tensor[] }> = [];
  for (const n of nodes) {
    if (foldInto.has(n)) continue; // built when its BN is reached
    const conv = bnFrom.get(n);
    if (conv) {
      const { layer, weights } = foldedConv(conv.layer, n.layer);
      const y = layer.apply(mapped(map, conv.inputs[0], conv.layer.name), conv.callArgs) as Sym;
      map.set(n.outputs[0].id, y);
      pending.push({ layer, weights });
      continue;
    }
    const outs = applyNode(n, n.inputs.map((t) => mapped(map, t, n.layer.name)));
    n.outputs.forEach((t, i) => map.set(t.id, outs[i]));
  }
  const folded = tf.model({ inputs: model.inputs, outputs: model.outputs.map((t) => mapped(map, t, 'the output')), name: `${model.name}_folded` });
  for (const p of pending) {
    p.layer.setWeights(p.weights);
    tf.dispose(p.weights);
  }
  return { model: folded, folded: pending.length };
}

function foldedConv(conv: tf.layers.Layer, bn: tf.layers.Layer): { layer: tf.layers.Layer; weights: tf.Tensor[] } {
  const cls = conv.getClassName();
  const cfg = { ...(conv.getConfig() as Kwargs), useBias: true, biasInitializer: { className: 'Zeros', config: {} } };
  const { kernel, kernelShape, bias } = foldedConvWeights(conv, bn, 'foldBatchNorm');
  const ctor = tf.serialization.SerializationMap.getMap().classNameMap[cls]?.[0] as unknown as
    | (new (cfg: Kwargs) => tf.layers.Layer)
    | undefined;
  const Layer = ctor ?? (conv.constructor as new (cfg: Kwargs) => tf.layers.Layer);
  const layer = new Layer(cfg);
  const weights: tf.Tensor[] = [];
  if (cls === 'SeparableConv2D') weights.push(tf.clone(conv.getWeights()[0]));
  weights.push(tf.tensor(kernel, kernelShape));
  weights.push(tf.tensor1d(bias));
  return { layer, weights };
}
