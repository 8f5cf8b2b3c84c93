/**
 * Frozen work done once: backbone features (frozen regime) and cut activations (partial regime)
 * for every patch, cached on disk by everything that determines them.
 */
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { BackboneName } from '../backbones/registry';
import type { PreprocessingMode, WeightsProvenance } from '../types';
import { hasCacheEntry, readCacheEntry, writeCacheEntry } from '../util/cache';
import { cacheDir as resultsCacheDir } from '../records';
import { stableHash } from '../util/files';
import type { FeatureMatrix } from './head';

/** Bumped when what is cached changes (it is part of every key); the file layout is lib/util/cache's. */
const CACHE_FORMAT = 1;

/** What determines a cached array; its hash is the file name. */
export interface FeatureCacheKeyArgs {
  backbone: BackboneName;
  /** ImageNet file sha256, or 'random init' + seed. */
  weights: WeightsProvenance;
  /** PatchDataset.key */
  patchSetHash: string;
  backend: string;
  inputSize: number;
  preprocessing: PreprocessingMode;
  /** 'features' (flattened base output) or 'cut<k>' (activations at a cut after k frozen layers): lib/study's extractTargetTag. */
  kind: string;
}

export function featureCacheKey(args: FeatureCacheKeyArgs): string {
  const w = args.weights.kind === 'imagenet' ? { kind: 'imagenet', sha256: args.weights.sha256 } : args.weights;
  return `${args.backbone}__${args.kind}__${stableHash({ format: CACHE_FORMAT, ...args, weights: w }).slice(0, 20)}`;
}

/** Default cache folder: `<project>/results/cache/features`. */
export function defaultFeatureCacheDir(): string {
  return resultsCacheDir('features');
}

/** The feature cache's sidecar metadata (lib/util/cache checks it on every read). */
const featureCacheMeta = z.object({
  format: z.literal(CACHE_FORMAT),
  key: z.string(),
  rows: z.number().int().nonnegative(),
  /** Per array: the shape of one row (without the batch axis). */
  shapes: z.array(z.array(z.number().int().positive())),
  args: z.record(z.unknown()),
  createdAt: z.string(),
  seconds: z.number().optional(),
});

/**
 * The cached arrays of a key, or null when absent (or of an older layout). A sidecar that does not
 * match its arrays is an error naming the file (delete it to rebuild).
 */
export function readFeatureCache(dir: string, key: string): { arrays: FeatureMatrix[]; shapes: number[][] } | null {
  const entry = readCacheEntry(dir, key, featureCacheMeta);
  if (!entry) return null;
  const { rows, shapes } = entry.meta;
  if (entry.arrays.length !== shapes.length) throw new Error(`feature cache ${key} in ${dir}: ${entry.arrays.length} arrays, the sidecar lists ${shapes.length} shapes; delete it to rebuild`);
  const arrays = entry.arrays.map((a, i) => {
    const dim = shapes[i].reduce((x, y) => x * y, 1);
    if (a.data.length !== rows * dim) throw new Error(`feature cache ${key} in ${dir}: array ${i} has ${a.data.length} values, expected ${rows} x ${dim} float32; delete it to rebuild`);
    return { data: a.data, rows, dim };
  });
  return { arrays, shapes };
}

/** Writes the arrays as .npy ([rows, ...shape]), then the JSON sidecar (so a crash never leaves a sidecar without data). */
export function writeFeatureCache(dir: string, key: string, args: FeatureCacheKeyArgs, arrays: FeatureMatrix[], shapes: number[][], seconds?: number): void {
  const rows = arrays[0]?.rows ?? 0;
  writeCacheEntry(
    dir,
    key,
    { format: CACHE_FORMAT, key, rows, shapes, args, createdAt: new Date().toISOString(), seconds },
    arrays.map((a, i) => ({ data: a.data, shape: [a.rows, ...shapes[i]] })),
  );
}

/** Batches of input for rows [start, end). */
export type InputFn = (indices: Int32Array) => tf.Tensor4D;

/**
 * Runs a model (inference mode) over rows [start, end) in batches and returns, per model output,
 * the flattened rows. `input(indices)` makes a batch (e.g. toBackboneInput with the preprocessing).
 */
export function runRows(
  model: tf.LayersModel,
  input: InputFn,
  start: number,
  end: number,
  opts: {
    batchSize?: number;
    onBatch?: (done: number, total: number) => void;
    /** A faster equivalent of model.predict (e.g. lib/accel compileInference), returning every output. */
    predict?: (x: tf.Tensor4D) => tf.Tensor[];
  } = {},
): { arrays: FeatureMatrix[]; shapes: number[][] } {
  const bs = opts.batchSize ?? 32;
  if (!(end > start)) throw new Error(`runRows: empty range [${start}, ${end})`);
  const shapes = model.outputs.map((t) => t.shape.slice(1) as number[]);
  if (shapes.some((s) => s.some((d) => d == null))) throw new Error(`runRows: model ${model.name} has undefined output dimensions ${JSON.stringify(shapes)}`);
  const dims = shapes.map((s) => s.reduce((a, b) => a * b, 1));
  const rows = end - start;
  const arrays = dims.map((dim) => ({ data: new Float32Array(rows * dim), rows, dim }));
  for (let s = start; s < end; s += bs) {
    const idx = Int32Array.from({ length: Math.min(bs, end - s) }, (_, i) => s + i);
    const outs = tf.tidy(() => {
      const x = input(idx);
      if (opts.predict) return opts.predict(x);
      const y = model.predict(x);
      return Array.isArray(y) ? y : [y];
    });
    outs.forEach((o, i) => {
      arrays[i].data.set(o.dataSync() as Float32Array, (s - start) * dims[i]);
    });
    tf.dispose(outs);
    opts.onBatch?.(s - start + idx.length, rows);
  }
  return { arrays, shapes };
}

/** Concatenates row blocks (e.g. parts computed by several workers) per output. */
export function concatRows(parts: FeatureMatrix[][]): FeatureMatrix[] {
  if (parts.length === 0) throw new Error('concatRows: no parts');
  return parts[0].map((_, i) => {
    const dim = parts[0][i].dim;
    const rows = parts.reduce((a, p) => a + p[i].rows, 0);
    const data = new Float32Array(rows * dim);
    let off = 0;
    for (const p of parts) {
      if (p[i].dim !== dim) throw new Error(`concatRows: output ${i} has dims ${dim} and ${p[i].dim}`);
      data.set(p[i].data, off);
      off += p[i].data.length;
    }
    return { data, rows, dim };
  });
}

/** True when a complete cache entry exists (sidecar and array files of the right size), without reading the data. */
export function hasFeatureCache(dir: string, key: string): boolean {
  return hasCacheEntry(dir, key, featureCacheMeta);
}
