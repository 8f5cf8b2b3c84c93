/**
 * What the frozen regime's Dense(3) head trainers share (plain JS in head.ts, wasm SIMD in
 * head_simd.ts): the training settings, the feature matrix and weight types, Glorot init,
 * prediction, the kept-epoch rule and the input checks. Split out of head.ts so that neither
 * trainer imports the other (no import cycle).
 */
import { Rng, deriveSeed } from '../util/rng';

/** Keras (optimizer_v2) Adam settings. */
export interface AdamConfig {
  /** Default 1e-4 (the paper). */
  learningRate?: number;
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Default 1e-7 (Keras). */
  epsilon?: number;
}

export const DEFAULT_ADAM: Required<AdamConfig> = { learningRate: 1e-4, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };

/** Keras Adam's bias-corrected learning rate of update t (1-based): lr sqrt(1 - b2^t) / (1 - b1^t). */
export function adamLearningRateAt(cfg: { learningRate: number; beta1: number; beta2: number }, t: number): number {
  return (cfg.learningRate * Math.sqrt(1 - Math.pow(cfg.beta2, t))) / (1 - Math.pow(cfg.beta1, t));
}

/** Settings of one training run (head or suffix). */
export interface TrainConfig extends AdamConfig {
  /** Maximum epochs. Default 1000 (the paper). */
  epochs?: number;
  /** Default 10 (the paper). */
  batchSize?: number;
  /** Stop when validation loss has not improved for this many epochs; 0 = off (the paper). Default 0. */
  patience?: number;
  /** Seed of the initialisation and of the per-epoch data order. Default 0. */
  seed?: number;
}

export const DEFAULT_TRAIN: Required<TrainConfig> = { ...DEFAULT_ADAM, epochs: 1000, batchSize: 10, patience: 0, seed: 0 };

/** Resolves defaults and rejects nonsense. */
export function resolveTrainConfig(cfg: TrainConfig = {}): Required<TrainConfig> {
  const c = { ...DEFAULT_TRAIN, ...stripUndefined(cfg) };
  const check = (ok: boolean, what: string) => {
    if (!ok) throw new Error(`TrainConfig: ${what} (got ${JSON.stringify(cfg)})`);
  };
  check(Number.isInteger(c.epochs) && c.epochs >= 1, 'epochs must be an integer >= 1');
  check(Number.isInteger(c.batchSize) && c.batchSize >= 1, 'batchSize must be an integer >= 1');
  check(Number.isInteger(c.patience) && c.patience >= 0, 'patience must be an integer >= 0');
  check(c.learningRate > 0, 'learningRate must be > 0');
  check(c.beta1 >= 0 && c.beta1 < 1 && c.beta2 >= 0 && c.beta2 < 1, 'beta1 and beta2 must be in [0, 1)');
  check(c.epsilon > 0, 'epsilon must be > 0');
  check(Number.isFinite(c.seed), 'seed must be finite');
  return c;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

/** Row-major feature matrix of a whole patch set plus its labels. */
export interface FeatureMatrix {
  /** rows x dim */
  data: Float32Array;
  rows: number;
  dim: number;
}

/** Weights of a Dense(outputs) layer in Keras layout: kernel [dim, outputs] row-major, bias [outputs]. */
export interface DenseWeights {
  kernel: Float32Array;
  bias: Float32Array;
  dim: number;
  outputs: number;
}

/** One epoch of the history, 1-based like Keras' logs. */
export interface EpochLog {
  epoch: number;
  loss: number;
  valLoss: number;
}

export interface TrainResult<W> {
  /** Weights at the epoch of lowest validation loss. */
  best: W;
  /** 1-based epoch of the kept weights. */
  keptEpoch: number;
  minValLoss: number;
  history: EpochLog[];
  /** Epochs actually run (less than configured with early stopping). */
  epochsRun: number;
  seconds: number;
}

/** Keras glorot_uniform for a Dense kernel (limit sqrt(6 / (fanIn + fanOut))) and a zero bias, seeded. */
export function glorotDense(dim: number, outputs: number, seed: number): DenseWeights {
  const rng = new Rng(seed);
  const limit = Math.sqrt(6 / (dim + outputs));
  const kernel = new Float32Array(dim * outputs);
  for (let i = 0; i < kernel.length; i++) kernel[i] = rng.uniform(-limit, limit);
  return { kernel, bias: new Float32Array(outputs), dim, outputs };
}

/** Predictions [indices.length x 3] of a Dense(3) head for the given rows. */
export function predictHead(w: DenseWeights, X: FeatureMatrix, indices: ArrayLike<number>): Float32Array {
  if (w.outputs !== 3) throw new Error(`predictHead: only 3 outputs are supported, got ${w.outputs}`);
  if (w.dim !== X.dim) throw new Error(`predictHead: head expects ${w.dim} features, matrix has ${X.dim}`);
  const D = X.dim;
  const x = X.data;
  const k = w.kernel;
  const out = new Float32Array(indices.length * 3);
  for (let i = 0; i < indices.length; i++) {
    const r = indices[i];
    if (!(r >= 0 && r < X.rows)) throw new Error(`predictHead: row ${r} outside 0..${X.rows - 1}`);
    const base = r * D;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    for (let d = 0, j = 0; d < D; d++, j += 3) {
      const v = x[base + d];
      s0 += v * k[j];
      s1 += v * k[j + 1];
      s2 += v * k[j + 2];
    }
    out[i * 3] = s0 + w.bias[0];
    out[i * 3 + 1] = s1 + w.bias[1];
    out[i * 3 + 2] = s2 + w.bias[2];
  }
  return out;
}

/** Keras MSE over a set: mean over rows and the 3 outputs. */
export function mseOf(pred: Float32Array, labels: Float32Array, indices: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < indices.length; i++) {
    const r = indices[i] * 3;
    for (let m = 0; m < 3; m++) {
      const e = pred[i * 3 + m] - labels[r + m];
      s += e * e;
    }
  }
  return s / (indices.length * 3);
}

export interface HeadTrainArgs {
  features: FeatureMatrix;
  /** rows x 3 labels (GQR, PR, DC), the same row order as the features. */
  labels: Float32Array;
  train: ArrayLike<number>;
  validation: ArrayLike<number>;
  config?: TrainConfig;
  /** Initial weights; default glorot from deriveSeed(seed, 'init'). */
  init?: DenseWeights;
  /** Called after each epoch; return true to stop early (e.g. a time budget). */
  onEpoch?: (log: EpochLog) => void | boolean;
}

/**
 * The kept-epoch rule of the paper: remembers the epoch of lowest validation loss (the first one on
 * ties) and counts epochs since, for the optional early-stopping patience (0 = off).
 */
export class EpochKeeper {
  bestLoss = Infinity;
  keptEpoch = 0;
  private sinceBest = 0;
  constructor(
    private readonly patience: number,
    /** Names the trainer in errors. */
    private readonly owner = 'trainHead',
  ) {}
  /** Records an epoch; true when it is the new best (the caller then saves its weights). */
  observe(epoch: number, valLoss: number): boolean {
    if (valLoss < this.bestLoss) {
      this.bestLoss = valLoss;
      this.keptEpoch = epoch;
      this.sinceBest = 0;
      return true;
    }
    this.sinceBest++;
    return false;
  }
  /** Whether training stops after this epoch (asked to, or out of patience). */
  shouldStop(stopRequested: boolean): boolean {
    return stopRequested || (this.patience > 0 && this.sinceBest >= this.patience);
  }
  /** The kept epoch, with a clear error when no epoch had a finite validation loss. */
  kept(): { keptEpoch: number; minValLoss: number } {
    if (this.keptEpoch === 0) throw new Error(`${this.owner}: validation loss was never finite (diverged or NaN features)`);
    return { keptEpoch: this.keptEpoch, minValLoss: this.bestLoss };
  }
}

/** trainHead's checks of a feature matrix and its labels (shared by the JS and SIMD trainers). */
export function checkHeadData(features: FeatureMatrix, labels: Float32Array): void {
  const { rows, dim, data } = features;
  if (data.length !== rows * dim) throw new Error(`trainHead: feature data has ${data.length} values, expected ${rows} x ${dim}`);
  if (labels.length !== rows * 3) throw new Error(`trainHead: labels have ${labels.length} values, expected ${rows} x 3`);
}

/**
 * trainHead's checks of a run's row sets, and its initial weights (a copy of args.init, or Glorot
 * from deriveSeed(seed, 'init')), shared by the JS and SIMD trainers.
 */
export function startHeadRun(
  rows: number,
  dim: number,
  args: Pick<HeadTrainArgs, 'train' | 'validation' | 'init'>,
  cfg: Required<TrainConfig>,
): DenseWeights {
  if (args.train.length === 0) throw new Error('trainHead: empty training set');
  if (args.validation.length === 0) throw new Error('trainHead: empty validation set');
  for (const set of [args.train, args.validation]) {
    for (let i = 0; i < set.length; i++) {
      if (!(set[i] >= 0 && set[i] < rows && Number.isInteger(set[i]))) throw new Error(`trainHead: index ${set[i]} outside 0..${rows - 1}`);
    }
  }
  const w = args.init
    ? { kernel: Float32Array.from(args.init.kernel), bias: Float32Array.from(args.init.bias), dim: args.init.dim, outputs: args.init.outputs }
    : glorotDense(dim, 3, deriveSeed(cfg.seed, 'init'));
  if (w.dim !== dim || w.outputs !== 3) throw new Error(`trainHead: init weights are ${w.dim} x ${w.outputs}, expected ${dim} x 3`);
  return w;
}
