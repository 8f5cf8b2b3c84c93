/**
 * Frozen-backbone feature extraction with compiled inference, in this thread or across worker
 * threads (one single-threaded wasm backend each). Batches are cut the same way in both, so the
 * features are identical.
 */
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { buildBackbone } from '../backbones';
import type { BackboneName } from '../backbones/registry';
import { loadBackboneWithWeights } from '../weights';
import { compileInference, type CompileInferenceOptions, type InferenceFn } from './compile';
import type { FeatureBatch, FeatureWorkerData, FeatureWorkerInfo } from './protocol';
import { TaskPool } from '../util/workers';

/** Where the batches come from: one NHWC array, or a function producing rows [start, start + count). */
export type FeatureInputs = Float32Array | ((start: number, count: number) => Float32Array | Promise<Float32Array>);

/** Arguments of {@link extractFeatures} and {@link extractFeaturesParallel}. */
export interface ExtractFeaturesArgs {
  /** Backbone name (lib/backbones registry). */
  backbone: string;
  /**
   * 'imagenet' | 'random' | a weights file, loaded with lib/weights loadBackboneWithWeights.
   * Default: none, i.e. buildBackbone's seeded initialisation.
   */
  weights?: string;
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
  compile?: CompileInferenceOptions | false;
  /** Force a backend in the workers (initBackend's `backend`). Default: the workspace's choice. */
  backend?: string;
  /** Called after each batch with the images done so far. */
  onProgress?: (done: number, count: number) => void;
}

/** Builds the backbone (with weights when asked) and compiles it. */
export async function buildCompiledBackbone(
  data: FeatureWorkerData,
): Promise<{ model: tf.LayersModel; fn: (x: tf.Tensor) => tf.Tensor; dispose(): void; inputSize: number }> {
  const model =
    data.weights === undefined
      ? buildBackbone(data.backbone, { inputSize: data.inputSize, seed: data.seed })
      : (await loadBackboneWithWeights(data.backbone as BackboneName, { weights: data.weights, inputSize: data.inputSize, seed: data.seed })).model;
  if (data.compile === false) {
    return { model, fn: (x) => model.predict(x, { batchSize: x.shape[0] }) as tf.Tensor, dispose: () => model.dispose(), inputSize: data.inputSize };
  }
  const fn: InferenceFn = compileInference(model, data.compile);
  return {
    model,
    fn,
    dispose: () => {
      fn.dispose();
      model.dispose();
    },
    inputSize: data.inputSize,
  };
}

interface Plan {
  data: FeatureWorkerData;
  batches: Array<{ start: number; count: number }>;
  pixels: number;
}

function plan(args: ExtractFeaturesArgs): Plan {
  const inputSize = args.inputSize ?? 80;
  const batchSize = args.batchSize ?? 32;
  if (!Number.isInteger(args.count) || args.count < 0) throw new Error(`extractFeatures: count must be a non-negative integer, got ${args.count}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`extractFeatures: batchSize must be a positive integer, got ${batchSize}`);
  const pixels = inputSize * inputSize * 3;
  if (args.inputs instanceof Float32Array && args.inputs.length !== args.count * pixels) {
    throw new Error(`extractFeatures: inputs has ${args.inputs.length} values, expected ${args.count} x ${inputSize} x ${inputSize} x 3`);
  }
  const batches: Array<{ start: number; count: number }> = [];
  for (let s = 0; s < args.count; s += batchSize) batches.push({ start: s, count: Math.min(batchSize, args.count - s) });
  return {
    data: { backbone: args.backbone, weights: args.weights, inputSize, seed: args.seed ?? 0, compile: args.compile ?? {}, backend: args.backend },
    batches,
    pixels,
  };
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
  const fn = built.fn;
  try {
    let out: Float32Array | null = null;
    let dim = 0;
    for (const b of p.batches) {
      const data = await batchInput(args, p, b);
      const y = tf.tidy(() => fn(tf.tensor4d(data, [b.count, p.data.inputSize, p.data.inputSize, 3])));
      const feats = y.dataSync() as Float32Array;
      y.dispose();
      if (!out) {
        dim = feats.length / b.count;
        out = new Float32Array(args.count * dim);
      }
      out.set(feats, b.start * dim);
      args.onProgress?.(b.start + b.count, args.count);
    }
    return out ?? new Float32Array(0);
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
    const data: FeatureWorkerData = {
      backbone: args.backbone,
      weights: args.weights,
      inputSize: args.inputSize ?? 80,
      seed: args.seed ?? 0,
      compile: args.compile ?? {},
      backend: args.backend,
    };
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
    let out: Float32Array | null = null;
    let dim = 0;
    let done = 0;
    let next = 0;
    // Batches are made (args.inputs may read them from disk) only as workers have room for them.
    const runNext = async (): Promise<void> => {
      while (next < p.batches.length) {
        const b = p.batches[next++];
        const data = await batchInput(args, p, b);
        const feats = await this.pool.run({ count: b.count, data }, { transfer: [data.buffer as ArrayBuffer] });
        if (!out) {
          dim = feats.length / b.count;
          out = new Float32Array(args.count * dim);
        }
        if (feats.length !== b.count * dim) throw new Error(`feature worker: batch at ${b.start} has ${feats.length} values, expected ${b.count * dim}`);
        out.set(feats, b.start * dim);
        done += b.count;
        args.onProgress?.(done, args.count);
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(2 * this.pool.size, p.batches.length) }, runNext));
    } finally {
      this.busy = false;
    }
    return out ?? new Float32Array(0);
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
  plan(args); // argument errors before any worker starts
  const batches = Math.ceil(args.count / (args.batchSize ?? 32));
  if (batches === 0) return new Float32Array(0);
  const pool = await FeatureWorkerPool.create({ ...args, workers: Math.min(args.workers ?? 2, batches) });
  try {
    return await pool.extract(args);
  } finally {
    await pool.close();
  }
}
