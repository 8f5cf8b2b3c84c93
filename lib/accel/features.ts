/**
 * Frozen-backbone feature extraction with compiled inference, in this thread or across worker
 * threads (one single-threaded wasm backend each). Batches are cut the same way in both, so the
 * features are identical.
 */
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { buildBackbone } from '../backbones';
import type { BackboneName } from '../backbones/registry';
import { loadBackboneWithWeights, type WeightsSource } from '../weights';
import type { InferenceFn } from './compile';
import { compileForBackend, type CompileForBackendOptions } from './graph';
import type { FeatureBatch, FeatureWorkerData, FeatureWorkerInfo } from './protocol';
import { TaskPool } from '../util/workers';

/** Where the batches come from: one NHWC array, or a function producing rows [start, start + count). */
export type FeatureInputs = Float32Array | ((start: number, count: number) => Float32Array | Promise<Float32Array>);

/** Arguments of {@link extractFeatures} and {@link extractFeaturesParallel}. */
export interface ExtractFeaturesArgs {
  /** Backbone name (lib/backbones registry). */
  backbone: BackboneName;
  /**
   * Where the weights come from, loaded with lib/weights loadBackboneWithWeights.
   * Default: none, i.e. buildBackbone's seeded initialisation.
   */
  weights?: WeightsSource;
  /** Preprocessed patches, NHWC float32 with 3 channels, `count` rows. */
  inputs: FeatureInputs;
  /** Number of images. */
  count: number;
  /** Square input size. Default 80. */
  inputSize?: number;
  /** Seed of the random initialisation. Default 0. */
  seed?: number;
  /** Images per forward pass. Default 32. */
  batchSize?: number;
  /** Worker threads (parallel only). Default 2. */
  workers?: number;
  /** Compiler options (default: all optimisations), or false for the stock model.predict (benchmarks). */
  compile?: CompileForBackendOptions | false;
  /** Force a backend in the workers (initBackend's `backend`). Default: the workspace's choice. */
  backend?: string;
  /** Called after each batch with the images done so far. */
  onProgress?: (done: number, count: number) => void;
}

/** A backbone built and compiled once, turning batches of images into flattened features. */
export interface CompiledBackbone {
  /** Features of one batch (count x feature size), in a fresh array the caller owns. */
  features(batch: FeatureBatch): Float32Array;
  dispose(): void;
}

/** Builds the backbone (with weights when asked) and compiles it. */
export async function buildCompiledBackbone(data: FeatureWorkerData): Promise<CompiledBackbone> {
  const model =
    data.weights === undefined
      ? buildBackbone(data.backbone, { inputSize: data.inputSize, seed: data.seed })
      : (await loadBackboneWithWeights(data.backbone, { weights: data.weights, inputSize: data.inputSize, seed: data.seed })).model;
  const compiled: InferenceFn | null = data.compile === false ? null : await compileForBackend(model, data.compile);
  const fn = compiled ?? ((x: tf.Tensor) => model.predict(x, { batchSize: x.shape[0] }) as tf.Tensor);
  const size = data.inputSize;
  return {
    features: ({ count, data: images }) => {
      const y = tf.tidy(() => fn(tf.tensor4d(images, [count, size, size, 3])));
      const feats = y.dataSync() as Float32Array;
      y.dispose();
      // dataSync may return a view of backend memory: hand out an array of its own.
      return feats.buffer.byteLength === feats.byteLength && feats.byteOffset === 0 ? feats : feats.slice();
    },
    dispose: () => {
      compiled?.dispose();
      model.dispose();
    },
  };
}

/** What every worker (and the single-thread path) builds: the arguments with their defaults. */
function workerDataOf(args: FeatureWorkerPoolArgs): FeatureWorkerData {
  return { backbone: args.backbone, weights: args.weights, inputSize: args.inputSize ?? 80, seed: args.seed ?? 0, compile: args.compile ?? {}, backend: args.backend };
}

/** Rows of features placed by batch into one count x dim array (dim learnt from the first batch). */
class FeatureRows {
  private out: Float32Array | null = null;
  private dim = 0;
  done = 0;
  constructor(private readonly count: number) {}
  add(start: number, rows: number, feats: Float32Array): void {
    if (!this.out) {
      this.dim = feats.length / rows;
      this.out = new Float32Array(this.count * this.dim);
    }
    if (feats.length !== rows * this.dim) throw new Error(`extractFeatures: the batch at row ${start} has ${feats.length} values, expected ${rows} x ${this.dim}`);
    this.out.set(feats, start * this.dim);
    this.done += rows;
  }
  result(): Float32Array {
    return this.out ?? new Float32Array(0);
  }
}

interface Plan {
  data: FeatureWorkerData;
  batches: Array<{ start: number; count: number }>;
  pixels: number;
}

function plan(args: ExtractFeaturesArgs): Plan {
  const data = workerDataOf(args);
  const batchSize = args.batchSize ?? 32;
  if (!Number.isInteger(args.count) || args.count < 0) throw new Error(`extractFeatures: count must be a non-negative integer, got ${args.count}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`extractFeatures: batchSize must be a positive integer, got ${batchSize}`);
  const pixels = data.inputSize * data.inputSize * 3;
  if (args.inputs instanceof Float32Array && args.inputs.length !== args.count * pixels) {
    throw new Error(`extractFeatures: inputs has ${args.inputs.length} values, expected ${args.count} x ${data.inputSize} x ${data.inputSize} x 3`);
  }
  const batches: Array<{ start: number; count: number }> = [];
  for (let s = 0; s < args.count; s += batchSize) batches.push({ start: s, count: Math.min(batchSize, args.count - s) });
  return { data, batches, pixels };
}

async function batchInput(args: Pick<ExtractFeaturesArgs, 'inputs'>, p: Plan, b: { start: number; count: number }): Promise<Float32Array> {
  if (args.inputs instanceof Float32Array) return args.inputs.slice(b.start * p.pixels, (b.start + b.count) * p.pixels);
  const x = await args.inputs(b.start, b.count);
  if (x.length !== b.count * p.pixels) throw new Error(`extractFeatures: inputs(${b.start}, ${b.count}) gave ${x.length} values, expected ${b.count * p.pixels}`);
  return x;
}

/** Single-thread reference: same batches, same compiled model, in this thread's backend. */
export async function extractFeatures(args: ExtractFeaturesArgs): Promise<Float32Array> {
  const p = plan(args);
  const built = await buildCompiledBackbone(p.data);
  try {
    const rows = new FeatureRows(args.count);
    for (const b of p.batches) {
      rows.add(b.start, b.count, built.features({ count: b.count, data: await batchInput(args, p, b) }));
      args.onProgress?.(b.start + b.count, args.count);
    }
    return rows.result();
  } finally {
    built.dispose();
  }
}

/** Arguments of {@link FeatureWorkerPool.create}. */
export type FeatureWorkerPoolArgs = Pick<ExtractFeaturesArgs, 'backbone' | 'weights' | 'inputSize' | 'seed' | 'workers' | 'compile' | 'backend'>;

/**
 * Worker threads, each holding the backbone compiled once, that extract features for any number of
 * calls (so a benchmark can warm up and measure without rebuilding). Close it when done.
 */
export class FeatureWorkerPool {
  private busy = false;

  private constructor(
    readonly data: FeatureWorkerData,
    private readonly pool: TaskPool<FeatureBatch, Float32Array, never, FeatureWorkerInfo>,
  ) {}

  get size(): number {
    return this.pool.size;
  }

  /** Starts the workers and waits until each has built and compiled its backbone. */
  static async create(args: FeatureWorkerPoolArgs): Promise<FeatureWorkerPool> {
    const data = workerDataOf(args);
    // Two batches in flight per worker: the next one arrives while the current one runs.
    const pool = new TaskPool<FeatureBatch, Float32Array, never, FeatureWorkerInfo>(path.join(__dirname, 'worker.ts'), {
      workers: Math.max(1, Math.floor(args.workers ?? 2)),
      workerData: data,
      tasksPerWorker: 2,
      label: 'feature worker',
    });
    try {
      await pool.ready();
    } catch (err) {
      await pool.close();
      throw err;
    }
    return new FeatureWorkerPool(data, pool);
  }

  /**
   * Features of `count` images (row-major, count x feature size). Batches are handed out on
   * demand, two in flight per worker, so a slower worker takes fewer; cut as extractFeatures cuts them.
   */
  async extract(args: Pick<ExtractFeaturesArgs, 'inputs' | 'count' | 'batchSize' | 'onProgress'>): Promise<Float32Array> {
    if (this.busy) throw new Error('FeatureWorkerPool.extract: one call at a time');
    const p = plan({ ...args, backbone: this.data.backbone, inputSize: this.data.inputSize });
    if (p.batches.length === 0) return new Float32Array(0);
    this.busy = true;
    const rows = new FeatureRows(args.count);
    let next = 0;
    // Batches are made (args.inputs may read them from disk) only as workers have room for them.
    const runNext = async (): Promise<void> => {
      while (next < p.batches.length) {
        const b = p.batches[next++];
        const data = await batchInput(args, p, b);
        rows.add(b.start, b.count, await this.pool.run({ count: b.count, data }, { transfer: [data.buffer as ArrayBuffer] }));
        args.onProgress?.(rows.done, args.count);
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(2 * this.pool.size, p.batches.length) }, runNext));
    } finally {
      this.busy = false;
    }
    return rows.result();
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    await this.pool.close();
  }
}

/**
 * Features of `count` images across `workers` worker threads (default 2), each with its own
 * backbone and compiled model. The result (row-major, count x feature size) equals
 * extractFeatures' for the same arguments.
 */
export async function extractFeaturesParallel(args: ExtractFeaturesArgs): Promise<Float32Array> {
  const batches = plan(args).batches.length; // argument errors before any worker starts
  if (batches === 0) return new Float32Array(0);
  const pool = await FeatureWorkerPool.create({ ...args, workers: Math.min(args.workers ?? 2, batches) });
  try {
    return await pool.extract(args);
  } finally {
    await pool.close();
  }
}
