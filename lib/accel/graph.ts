/**
 * Whole-graph inference on native TensorFlow: the steps of lib/accel/compile (BN folded, activations
 * fused, the same weights) written as one TensorFlow GraphDef, saved as a variable-free SavedModel
 * and run by tfjs-node's loadSavedModel, one session call per batch. TensorFlow then plans the
 * graph itself (grappler's fusions, e.g. convolution + bias + relu) instead of tfjs dispatching op by
 * op, which is what keeps DenseNet's pre-activation blocks near Keras's speed.
 *
 * The protobuf classes are the ones tfjs-node reads SavedModels with (its dist/proto/api_pb), so
 * writer and reader share one schema.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { currentBackend } from '../backend/select';
import { compileInference, inferenceFn, planInference, type CompileInferenceOptions, type GraphAttr, type GraphSink, type InferenceFn } from './compile';

/** TensorFlow DataType enum values used here (tensorflow/core/framework/types.proto). */
const DT = { float32: 1, int32: 3 } as const;
/** The GraphDef producer version written (TensorFlow 2.x graphs; the ops used here are all older). */
const GRAPH_PRODUCER = 1205;

/** Raised when a model has a step that cannot be written as graph ops; callers fall back to eager. */
export class GraphUnsupportedError extends Error {}

// google-protobuf generated classes: setters, list adders and map getters are called by name.
type ProtoMessage = Record<string, (...args: unknown[]) => unknown>;

function protoModule(): { proto: Record<string, unknown>; loadSavedModel: (dir: string, tags: string[], sig: string) => Promise<SavedModelHandle> } {
  if (tf.getBackend() !== 'tensorflow') throw new GraphUnsupportedError(`graph inference needs the native TensorFlow backend (tfjs-node), not ${tf.getBackend()}`);
  // The package initBackend loaded; tests may switch backends with tf.setBackend directly.
  const dir = currentBackend()?.nativePackageDir ?? path.dirname(require.resolve('@tensorflow/tfjs-node/package.json'));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const proto = require(path.join(dir, 'dist', 'proto', 'api_pb')) as Record<string, unknown>; // the proto.tensorflow namespace
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const binding = require(dir) as { node: { loadSavedModel: (dir: string, tags: string[], sig: string) => Promise<SavedModelHandle> } };
  return { proto, loadSavedModel: binding.node.loadSavedModel };
}

/** What tfjs-node's loadSavedModel returns (the part used here). */
interface SavedModelHandle {
  predict(x: Record<string, tf.Tensor>): Record<string, tf.Tensor>;
  dispose(): void;
}

/** Builds one GraphDef from op calls; names are made unique and valid for TensorFlow. */
export class GraphDefBuilder implements GraphSink {
  private readonly graph: ProtoMessage;
  private readonly names = new Set<string>();
  private readonly msg: (name: string) => ProtoMessage;

  constructor(private readonly proto: Record<string, unknown>) {
    this.msg = (name) => {
      const parts = name.split('.');
      let c: unknown = proto;
      for (const p of parts) c = (c as Record<string, unknown>)[p];
      return new (c as new () => ProtoMessage)();
    };
    this.graph = this.msg('GraphDef');
    const versions = this.msg('VersionDef');
    versions.setProducer(GRAPH_PRODUCER);
    this.graph.setVersions(versions);
  }

  /** Nodes written so far. */
  get size(): number {
    return this.names.size;
  }

  private unique(hint: string): string {
    const base = hint.replace(/[^A-Za-z0-9_.\-/]/g, '_').replace(/^[^A-Za-z0-9.]+/, '') || 'node';
    let name = base;
    for (let k = 1; this.names.has(name); k++) name = `${base}_${k}`;
    this.names.add(name);
    return name;
  }

  private shapeOf(dims: Array<number | null>): ProtoMessage {
    const shape = this.msg('TensorShape');
    for (const d of dims) {
      const dim = this.msg('TensorShape.Dim');
      dim.setSize(d ?? -1);
      shape.addDim(dim);
    }
    return shape;
  }

  private attrValue(a: GraphAttr): ProtoMessage {
    const v = this.msg('AttrValue');
    if ('type' in a) v.setType(DT[a.type]);
    else if ('s' in a) v.setS(new TextEncoder().encode(a.s));
    else if ('i' in a) v.setI(a.i);
    else if ('f' in a) v.setF(a.f);
    else if ('b' in a) v.setB(a.b);
    else {
      const list = this.msg('AttrValue.ListValue');
      list.setIList(a.ints);
      v.setList(list);
    }
    return v;
  }

  private node(type: string, hint: string, inputs: string[], attrs: Record<string, GraphAttr | ProtoMessage>): string {
    const n = this.msg('NodeDef');
    const name = this.unique(hint);
    n.setName(name);
    n.setOp(type);
    n.setInputList(inputs);
    const map = n.getAttrMap() as unknown as { set(k: string, v: unknown): void };
    for (const [k, a] of Object.entries(attrs)) map.set(k, typeof (a as ProtoMessage).serializeBinary === 'function' ? a : this.attrValue(a as GraphAttr));
    this.graph.addNode(n);
    return name;
  }

  /** A Placeholder of float32 with this shape (null: any size). */
  placeholder(hint: string, dims: Array<number | null>): string {
    const shape = this.msg('AttrValue');
    shape.setShape(this.shapeOf(dims));
    return this.node('Placeholder', hint, [], { dtype: { type: 'float32' }, shape });
  }

  constant(hint: string, values: Float32Array | Int32Array, shape: number[]): string {
    const n = shape.reduce((a, b) => a * b, 1);
    if (n !== values.length) throw new Error(`GraphDefBuilder.constant ${hint}: ${values.length} values for shape [${shape}]`);
    const t = this.msg('Tensor');
    const dtype = values instanceof Int32Array ? 'int32' : 'float32';
    t.setDtype(DT[dtype]);
    t.setTensorShape(this.shapeOf(shape));
    t.setTensorContent(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
    const value = this.msg('AttrValue');
    value.setTensor(t);
    return this.node('Const', hint, [], { dtype: { type: dtype }, value });
  }

  op(type: string, hint: string, inputs: string[], attrs: Record<string, GraphAttr> = {}): string {
    return this.node(type, hint, inputs, attrs);
  }

  /** The SavedModel bytes: one MetaGraph tagged 'serve' with signature 'serving_default'. */
  savedModel(inputs: Record<string, GraphTensor>, outputs: Record<string, GraphTensor>): Uint8Array {
    const sig = this.msg('SignatureDef');
    sig.setMethodName('tensorflow/serving/predict');
    const put = (map: unknown, entries: typeof inputs) => {
      for (const [key, e] of Object.entries(entries)) {
        const info = this.msg('TensorInfo');
        info.setName(e.tensor.includes(':') ? e.tensor : `${e.tensor}:0`);
        info.setDtype(DT.float32);
        // tfjs-node reads every signature shape; an unknown one is written as unknown rank.
        const shape = this.shapeOf(e.dims ?? []);
        if (!e.dims) shape.setUnknownRank(true);
        info.setTensorShape(shape);
        (map as { set(k: string, v: unknown): void }).set(key, info);
      }
    };
    put(sig.getInputsMap(), inputs);
    put(sig.getOutputsMap(), outputs);
    const meta = this.msg('MetaGraphDef');
    const info = this.msg('MetaGraphDef.MetaInfoDef');
    info.addTags('serve');
    meta.setMetaInfoDef(info);
    meta.setGraphDef(this.graph);
    (meta.getSignatureDefMap() as unknown as { set(k: string, v: unknown): void }).set('serving_default', sig);
    const saved = this.msg('SavedModel');
    saved.setSavedModelSchemaVersion(1);
    saved.addMetaGraphs(meta);
    return saved.serializeBinary() as Uint8Array;
  }
}

/** A tensor of a graph's signature: its name, and its shape when known (null: any size). */
export interface GraphTensor {
  tensor: string;
  dims?: Array<number | null>;
}

/** A graph ready to write: the builder, and the model's input and output tensors in it. */
export interface GraphSpec {
  builder: GraphDefBuilder;
  inputs: GraphTensor[];
  outputs: GraphTensor[];
}

/** A builder over tfjs-node's protobuf classes (native backend only). */
export function newGraphBuilder(): GraphDefBuilder {
  return new GraphDefBuilder(protoModule().proto);
}

/** A loaded graph: run(inputs) gives every output. */
export interface LoadedGraph {
  run(inputs: tf.Tensor[]): tf.Tensor[];
  dispose(): void;
  /** Nodes in the graph, for summaries. */
  nodes: number;
}

/**
 * Writes the graph as a SavedModel into a fresh temporary folder, loads it into a TensorFlow
 * session and removes the folder (the session keeps the graph).
 */
export async function loadGraph(spec: GraphSpec): Promise<LoadedGraph> {
  const { loadSavedModel } = protoModule();
  const key = (i: number, kind: string) => `${kind}_${i}`;
  const bytes = spec.builder.savedModel(
    Object.fromEntries(spec.inputs.map((e, i) => [key(i, 'input'), e])),
    Object.fromEntries(spec.outputs.map((e, i) => [key(i, 'output'), e])),
  );
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pet-iqa-graph-'));
  let model: SavedModelHandle;
  try {
    fs.writeFileSync(path.join(dir, 'saved_model.pb'), bytes);
    model = await loadSavedModel(dir, ['serve'], 'serving_default');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return {
    nodes: spec.builder.size,
    run: (inputs) => {
      if (inputs.length !== spec.inputs.length) throw new Error(`graph inference: ${spec.inputs.length} inputs expected, got ${inputs.length}`);
      const y = model.predict(Object.fromEntries(inputs.map((t, i) => [key(i, 'input'), t])));
      return spec.outputs.map((_, i) => y[key(i, 'output')]);
    },
    dispose: () => model.dispose(),
  };
}

/**
 * compileInference's steps as one TensorFlow graph (native backend only): same weights, same
 * folding, run whole by TensorFlow. Throws GraphUnsupportedError when the backend is not native or
 * a layer runs through the eager fallback; callers then use compileInference.
 */
export async function compileInferenceGraph(model: tf.LayersModel): Promise<InferenceFn> {
  const builder = newGraphBuilder();
  const plan = planInference(model, { igemm: false });
  let spec: GraphSpec;
  try {
    const missing = plan.steps.filter((s) => !s.emit).map((s) => s.name);
    if (missing.length > 0) throw new GraphUnsupportedError(`graph inference: no graph ops for ${missing.join(', ')}`);
    const names = new Map<number, string>();
    const dims = (t: tf.SymbolicTensor) => t.shape as Array<number | null>;
    const inputs = model.inputs.map((t, i) => {
      const tensor = builder.placeholder(`input_${i}`, dims(t));
      names.set(t.id, tensor);
      return { tensor, dims: dims(t) };
    });
    for (const s of plan.steps) {
      const ys = s.emit!(builder, s.inputs.map((id) => names.get(id)!));
      s.outputs.forEach((id, k) => names.set(id, ys[k]));
    }
    spec = { builder, inputs, outputs: model.outputs.map((t) => ({ tensor: names.get(t.id)!, dims: dims(t) })) };
  } finally {
    plan.dispose();
  }
  const graph = await loadGraph(spec);
  return inferenceFn('compileInferenceGraph', spec.outputs.length, (xs) => graph.run(xs), { ...plan.summary, graphNodes: graph.nodes }, () => graph.dispose());
}

/** Options of {@link compileForBackend}. */
export interface CompileForBackendOptions extends CompileInferenceOptions {
  /**
   * On native TensorFlow, run the model as one graph (compileInferenceGraph) rather than op by op.
   * Default true; models with a layer the graph cannot express fall back to compileInference.
   */
  graph?: boolean;
}

/** The fastest inference this backend offers: one TensorFlow graph on native, compileInference elsewhere. */
export async function compileForBackend(model: tf.LayersModel, opts: CompileForBackendOptions = {}): Promise<InferenceFn> {
  const { graph = true, ...eager } = opts;
  if (graph && tf.getBackend() === 'tensorflow') {
    try {
      return await compileInferenceGraph(model);
    } catch (err) {
      if (!(err instanceof GraphUnsupportedError)) throw err;
    }
  }
  return compileInference(model, eager);
}
