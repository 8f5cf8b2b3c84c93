/**
 * WebAssembly SIMD (f32x4) version of trainHead (lib/train/head.ts): the same data order, loss
 * scaling, Keras Adam and best-epoch rule, with one wasm call per epoch. Results agree with
 * trainHead to float32 precision (dot products and the kernel's Adam are f32 here; errors, losses
 * and the bias' Adam are f64 as in head.ts).
 *
 * The feature matrix is copied once into wasm memory (rows padded to a multiple of 4 floats), so it
 * must fit wasm32's 4 GiB together with the weights; HeadSimdTrainer reuses one copy for many runs.
 * Throws HeadSimdUnavailableError when wasm SIMD is missing or the matrix is too large; falling back
 * to trainHead is the caller's decision.
 */
import { Rng, deriveSeed } from '../util/rng';
import { DenseWeights, EpochKeeper, adamLearningRateAt, EpochLog, FeatureMatrix, HeadTrainArgs, TrainResult, checkHeadData, resolveTrainConfig, startHeadRun } from './head_common';
import { fastKernelVariant, kernelBytes } from '../backend/fast-kernels';

export class HeadSimdUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HeadSimdUnavailableError';
  }
}

interface HeadExports {
  mem: WebAssembly.Memory;
  setup(x: number, rb: number, lab: number, w: number, m: number, v: number, g: number, bias: number, mb: number, vb: number, rp: number, es: number, ed: number, dot: number): void;
  epoch(order: number, n: number, B: number, lrt: number, b1: number, b2: number, eps: number): number;
  sse(idx: number, n: number): number;
}

const PAGE = 65536;
const MAX_PAGES = 65536;
const cachedModules = new Map<string, WebAssembly.Module>();
const cachedErrors = new Map<string, Error>();

/** The head kernel in the build lib/backend/fast-kernels chooses (relaxed SIMD where available). */
function compileModule(): WebAssembly.Module {
  const variant = fastKernelVariant() === 'relaxed' ? 'relaxed' : 'simd';
  const cached = cachedModules.get(variant);
  if (cached) return cached;
  const failed = cachedErrors.get(variant);
  if (failed) throw failed;
  try {
    if (typeof WebAssembly === 'undefined') throw new Error('no WebAssembly in this runtime');
    const mod = new WebAssembly.Module(kernelBytes('head', variant));
    cachedModules.set(variant, mod);
    return mod;
  } catch (e) {
    const err = new HeadSimdUnavailableError(`head_simd: WebAssembly SIMD is unavailable (${(e as Error).message})`);
    cachedErrors.set(variant, err);
    throw err;
  }
}

/** True when the SIMD kernel compiles in this runtime. */
export function headSimdSupported(): boolean {
  try {
    compileModule();
    return true;
  } catch {
    return false;
  }
}

const align16 = (n: number) => Math.ceil(n / 16) * 16;
/** Where head.wat keeps feature d of output o: interleaved by 4 features (one pointer reaches all 3 outputs). */
const kernelSlot = (d: number, o: number) => (d >> 2) * 12 + o * 4 + (d & 3);

/** Holds one copy of a feature matrix + labels in wasm memory; train() may be called many times. */
export class HeadSimdTrainer {
  readonly rows: number;
  readonly dim: number;
  private readonly FP: number;
  private readonly ex: HeadExports;
  private readonly off: { W: number; M: number; V: number; G: number; bias: number; mb: number; vb: number; lab: number; X: number; free: number };

  constructor(features: FeatureMatrix, labels: Float32Array) {
    const { rows, dim: D, data } = features;
    checkHeadData(features, labels);
    this.rows = rows;
    this.dim = D;
    const FP = Math.ceil(D / 12) * 12; // padded row length: the gradient works on 12 features per pass
    this.FP = FP;
    const RB = FP * 4;
    let p = 64; // bias f32[3] at 0, mb f64[3] at 16, vb f64[3] at 40
    const W = p;
    p += 3 * RB;
    const M = p;
    p += 3 * RB;
    const V = p;
    p += 3 * RB;
    const G = p; // the last step's gradient, awaiting its Adam update
    p += 3 * RB;
    const lab = p;
    p = align16(p + rows * 12);
    const X = p;
    p += rows * RB;
    const free = p;
    // Per-run region: order + validation indices + lrt + scratch; reserve a generous estimate now.
    const need = free + align16(rows * 4) * 2 + 8 * rows + (1 << 20);
    if (need + 4 * PAGE > MAX_PAGES * PAGE) {
      throw new HeadSimdUnavailableError(`head_simd: ${rows} x ${D} features need ${(need / 2 ** 30).toFixed(2)} GiB, more than wasm32's 4 GiB`);
    }
    const mod = compileModule();
    const inst = new WebAssembly.Instance(mod, {});
    this.ex = inst.exports as unknown as HeadExports;
    this.off = { W, M, V, G, bias: 0, mb: 16, vb: 40, lab, X, free };
    this.ensure(free);
    const buf = this.ex.mem.buffer;
    new Float32Array(buf, lab, rows * 3).set(labels);
    if (FP === D) {
      new Float32Array(buf, X, rows * D).set(data);
    } else {
      const xs = new Float32Array(buf, X, rows * FP);
      for (let r = 0; r < rows; r++) xs.set(data.subarray(r * D, (r + 1) * D), r * FP);
    }
  }

  private ensure(bytes: number): void {
    const have = this.ex.mem.buffer.byteLength;
    if (bytes <= have) return;
    const pages = Math.ceil((bytes - have) / PAGE);
    try {
      this.ex.mem.grow(pages);
    } catch (e) {
      throw new HeadSimdUnavailableError(`head_simd: cannot grow wasm memory to ${(bytes / 2 ** 20).toFixed(0)} MiB (${(e as Error).message})`);
    }
  }

  /** trainHead's contract (args.features/labels are ignored: the ones given to the constructor are used). */
  train(args: Omit<HeadTrainArgs, 'features' | 'labels'> & Partial<Pick<HeadTrainArgs, 'features' | 'labels'>>): TrainResult<DenseWeights> {
    const cfg = resolveTrainConfig(args.config);
    const D = this.dim;
    const FP = this.FP;
    const RB = FP * 4;
    const rows = this.rows;
    const t0 = performance.now();
    const init = startHeadRun(rows, D, args, cfg);
    const n = args.train.length;
    const nv = args.validation.length;
    const B = cfg.batchSize;
    const steps = Math.ceil(n / B);
    // Per-run layout after the fixed region.
    let p = this.off.free;
    const orderP = p;
    p = align16(p + n * 4);
    const valP = p;
    p = align16(p + nv * 4);
    const lrtP = p;
    p = align16(p + steps * 8);
    const rpP = p;
    p = align16(p + B * 4);
    const esP = p;
    p += B * 3 * 16;
    const edP = p;
    p = align16(p + B * 3 * 8);
    const dotP = p;
    p = align16(p + (B + 4) * 3 * 8); // adamFwd3 fills 3 rows, fwd4 whole groups of 4 after them
    this.ensure(p);
    const { W, M, V, G, bias: biasP, mb, vb, lab, X } = this.off;
    this.ex.setup(X, RB, lab, W, M, V, G, biasP, mb, vb, rpP, esP, edP, dotP);
    const buf = this.ex.mem.buffer;
    const w = new Float32Array(buf, W, 3 * FP);
    w.fill(0);
    for (let d = 0; d < D; d++) for (let o = 0; o < 3; o++) w[kernelSlot(d, o)] = init.kernel[d * 3 + o];
    new Float32Array(buf, M, 3 * FP).fill(0);
    new Float32Array(buf, V, 3 * FP).fill(0);
    const bias = new Float32Array(buf, biasP, 3);
    bias.set(init.bias);
    new Float64Array(buf, mb, 3).fill(0);
    new Float64Array(buf, vb, 3).fill(0);
    new Int32Array(buf, valP, nv).set(Array.from(args.validation, Number));
    const orderView = new Int32Array(buf, orderP, n);
    const lrtView = new Float64Array(buf, lrtP, steps);
    const { beta1: b1, beta2: b2, epsilon: eps } = cfg;
    const orderRng = new Rng(deriveSeed(cfg.seed, 'order'));
    const order = Array.from(args.train, Number);
    let step = 0;
    let bestW = Float32Array.from(w);
    let bestB = Float32Array.from(bias);
    const keeper = new EpochKeeper(cfg.patience);
    const history: EpochLog[] = [];
    for (let epoch = 1; epoch <= cfg.epochs; epoch++) {
      orderRng.shuffle(order);
      orderView.set(order);
      for (let s = 0; s < steps; s++) {
        const t = step + s + 1;
        lrtView[s] = adamLearningRateAt(cfg, t);
      }
      step += steps;
      const loss = this.ex.epoch(orderP, n, B, lrtP, b1, b2, eps) / (n * 3);
      const valLoss = this.ex.sse(valP, nv) / (nv * 3);
      const log = { epoch, loss, valLoss };
      history.push(log);
      if (keeper.observe(epoch, valLoss)) {
        bestW = Float32Array.from(w);
        bestB = Float32Array.from(bias);
      }
      if (keeper.shouldStop(args.onEpoch?.(log) === true)) break;
    }
    const { keptEpoch, minValLoss } = keeper.kept();
    const kernel = new Float32Array(D * 3);
    for (let d = 0; d < D; d++) for (let o = 0; o < 3; o++) kernel[d * 3 + o] = bestW[kernelSlot(d, o)];
    const best: DenseWeights = { kernel, bias: bestB, dim: D, outputs: 3 };
    return { best, keptEpoch, minValLoss, history, epochsRun: history.length, seconds: (performance.now() - t0) / 1000 };
  }
}

/**
 * The trainer holding each feature array's copy: a study trains many heads on one cached feature
 * matrix, and the copy into wasm memory is half of a short run's time. Keyed by the arrays
 * themselves, so a matrix must not be modified in place between runs (the study's caches are not).
 */
const trainers = new WeakMap<Float32Array, { labels: Float32Array; rows: number; dim: number; trainer: HeadSimdTrainer }>();

/** Drop-in for trainHead: copies the features into wasm memory (once per feature array), then trains with the SIMD kernel. */
export function trainHeadSimd(args: HeadTrainArgs): TrainResult<DenseWeights> {
  const t0 = performance.now();
  const { features, labels } = args;
  let held = trainers.get(features.data);
  if (!held || held.labels !== labels || held.rows !== features.rows || held.dim !== features.dim) {
    held = { labels, rows: features.rows, dim: features.dim, trainer: new HeadSimdTrainer(features, labels) };
    trainers.set(features.data, held);
  }
  const r = held.trainer.train(args);
  return { ...r, seconds: (performance.now() - t0) / 1000 };
}
