/**
 * Partial regime: trains the trainable suffix (layers after the cut + head) on cached cut
 * activations, with MSE and Keras Adam written in tf ops (tfjs' own Adam puts epsilon inside the
 * bias correction; Keras does not).
 */
import * as tf from '@tensorflow/tfjs';
import { GraphUnsupportedError } from '../accel/graph';
import { compileTrainStep, type TrainStepGraph } from '../accel/train_graph';
import { Rng, deriveSeed } from '../util/rng';
import { EpochKeeper, adamLearningRateAt, mseOf, resolveTrainConfig, type EpochLog, type FeatureMatrix, type TrainConfig, type TrainResult } from './head';

/** Keras optimizer_v2 Adam over a list of variables. */
export class KerasAdam {
  private m: tf.Variable[];
  private v: tf.Variable[];
  private t = 0;
  constructor(
    private vars: tf.Variable[],
    private cfg: { learningRate: number; beta1: number; beta2: number; epsilon: number },
  ) {
    this.m = vars.map((x) => tf.variable(tf.zerosLike(x), false));
    this.v = vars.map((x) => tf.variable(tf.zerosLike(x), false));
  }

  /** One update with the given gradients (same order as the variables). */
  apply(grads: tf.Tensor[]): void {
    this.t++;
    const { beta1: b1, beta2: b2, epsilon: eps } = this.cfg;
    const lrt = adamLearningRateAt(this.cfg, this.t);
    tf.tidy(() => {
      this.vars.forEach((x, i) => {
        const g = grads[i];
        const m = this.m[i].mul(b1).add(g.mul(1 - b1));
        const v = this.v[i].mul(b2).add(g.square().mul(1 - b2));
        this.m[i].assign(m);
        this.v[i].assign(v);
        x.assign(x.sub(m.mul(lrt).div(v.sqrt().add(eps))));
      });
    });
  }

  dispose(): void {
    tf.dispose([...this.m, ...this.v]);
  }
}

/** Gathers rows of each activation array into batch tensors shaped like the model's inputs. */
export function gatherInputs(model: tf.LayersModel, acts: FeatureMatrix[], indices: ArrayLike<number>): tf.Tensor[] {
  if (acts.length !== model.inputs.length) throw new Error(`gatherInputs: ${acts.length} activation arrays for ${model.inputs.length} inputs`);
  return acts.map((a, k) => {
    const shape = model.inputs[k].shape.slice(1) as number[];
    const dim = shape.reduce((x, y) => x * y, 1);
    if (dim !== a.dim) throw new Error(`gatherInputs: input ${k} wants ${dim} values per row, cache has ${a.dim}`);
    const out = new Float32Array(indices.length * dim);
    for (let i = 0; i < indices.length; i++) out.set(a.data.subarray(indices[i] * dim, (indices[i] + 1) * dim), i * dim);
    return tf.tensor(out, [indices.length, ...shape]);
  });
}

/** Predictions (inference mode) for the given rows, rows x outputs. */
export function predictRows(model: tf.LayersModel, acts: FeatureMatrix[], indices: ArrayLike<number>, batchSize = 64): Float32Array {
  const outDim = (model.outputs[0].shape[1] as number) ?? 3;
  const out = new Float32Array(indices.length * outDim);
  for (let s = 0; s < indices.length; s += batchSize) {
    const idx = Array.prototype.slice.call(indices, s, Math.min(s + batchSize, indices.length)) as number[];
    const y = tf.tidy(() => {
      const xs = gatherInputs(model, acts, idx);
      return model.predict(xs.length === 1 ? xs[0] : xs) as tf.Tensor;
    });
    out.set(y.dataSync() as Float32Array, s * outDim);
    y.dispose();
  }
  return out;
}

export interface SuffixTrainArgs {
  /** Trainable suffix (inputs = cut tensors). Its trainable weights train; BN layers in it use batch statistics. */
  model: tf.LayersModel;
  activations: FeatureMatrix[];
  labels: Float32Array;
  train: ArrayLike<number>;
  validation: ArrayLike<number>;
  config?: TrainConfig;
  onEpoch?: (log: EpochLog) => void | boolean;
  /**
   * On native TensorFlow, run each step as one TensorFlow graph (lib/accel/train_graph) instead of
   * op by op. Default true; a suffix with a layer the graph cannot express trains op by op.
   */
  graph?: boolean;
}

/** What trained a suffix: one TensorFlow graph per step, or tfjs op by op (and why). */
export interface SuffixStepMode {
  graph: boolean;
  reason?: string;
}

/**
 * Trains the suffix; at the end the model holds the weights (moving statistics included) of the
 * epoch with the lowest validation loss, also returned as arrays in model.weights order.
 */
export async function trainSuffix(args: SuffixTrainArgs): Promise<TrainResult<Float32Array[]> & { stepMode: SuffixStepMode }> {
  const cfg = resolveTrainConfig(args.config);
  const { model, activations: acts, labels } = args;
  if (args.train.length === 0 || args.validation.length === 0) throw new Error('trainSuffix: empty training or validation set');
  const rows = acts[0]?.rows ?? 0;
  if (labels.length !== rows * 3) throw new Error(`trainSuffix: ${labels.length / 3} label rows for ${rows} activation rows`);
  const t0 = performance.now();
  let graph: TrainStepGraph | null = null;
  let stepMode: SuffixStepMode = { graph: false, reason: 'not asked' };
  if (args.graph !== false && tf.getBackend() === 'tensorflow') {
    try {
      graph = await compileTrainStep(model, cfg);
      stepMode = { graph: true };
    } catch (err) {
      if (!(err instanceof GraphUnsupportedError)) throw err;
      stepMode = { graph: false, reason: err.message };
    }
  } else if (args.graph !== false) {
    stepMode = { graph: false, reason: `backend ${tf.getBackend()}` };
  }
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const opt = graph ? null : new KerasAdam(vars, cfg);
  let updates = 0;
  const orderRng = new Rng(deriveSeed(cfg.seed, 'order'));
  const order = Array.from(args.train, Number);
  const snapshot = () => model.weights.map((w) => Float32Array.from(w.read().dataSync() as Float32Array));
  let best = snapshot();
  const keeper = new EpochKeeper(cfg.patience, 'trainSuffix');
  const history: EpochLog[] = [];
  try {
    for (let epoch = 1; epoch <= cfg.epochs; epoch++) {
      orderRng.shuffle(order);
      let lossSum = 0;
      for (let s = 0; s < order.length; s += cfg.batchSize) {
        const idx = order.slice(s, s + cfg.batchSize);
        const y = new Float32Array(idx.length * 3);
        idx.forEach((r, i) => y.set(labels.subarray(r * 3, r * 3 + 3), i * 3));
        const xs = gatherInputs(model, acts, idx);
        const yt = tf.tensor2d(y, [idx.length, 3]);
        if (graph) {
          lossSum += graph.step(xs, yt, adamLearningRateAt(cfg, ++updates)) * idx.length;
        } else {
          const { value, grads } = tf.variableGrads(() => {
            const p = model.apply(xs.length === 1 ? xs[0] : xs, { training: true }) as tf.Tensor;
            return tf.losses.meanSquaredError(yt, p) as tf.Scalar;
          }, vars);
          opt!.apply(vars.map((v) => grads[v.name]));
          lossSum += (value.dataSync()[0] as number) * idx.length;
          tf.dispose([value, ...Object.values(grads)]);
        }
        tf.dispose([...xs, yt]);
      }
      const loss = lossSum / order.length;
      const valLoss = mseOf(predictRows(model, acts, args.validation), labels, args.validation);
      const log = { epoch, loss, valLoss };
      history.push(log);
      if (keeper.observe(epoch, valLoss)) best = snapshot();
      if (keeper.shouldStop(args.onEpoch?.(log) === true)) break;
    }
  } finally {
    opt?.dispose();
    graph?.dispose();
  }
  const { keptEpoch, minValLoss } = keeper.kept();
  const ts = best.map((b, i) => tf.tensor(b, model.weights[i].shape as number[]));
  model.setWeights(ts);
  tf.dispose(ts);
  return { best, keptEpoch, minValLoss, history, epochsRun: history.length, seconds: (performance.now() - t0) / 1000, stepMode };
}
