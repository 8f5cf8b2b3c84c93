/**
 * Frozen work done once: backbone features (frozen regime) and cut activations (partial regime)
 * for every patch, cached on disk by everything that determines them.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import type { PreprocessingMode, WeightsProvenance } from '../types';
import { cacheDir as resultsCacheDir } from '../records';
import { writeFileAtomic, writeJsonAtomic, stableHash } from '../util/files';
import type { FeatureMatrix } from './head';

/** Bumped when the cache layout changes. */
const CACHE_FORMAT = 1;

/** What determines a cached array; its hash is the file name. */
export interface FeatureCacheKeyArgs {
  backbone: string;
  /** ImageNet file sha256, or 'random init' + seed. */
  weights: WeightsProvenance;
  /** PatchDataset.key */
  patchSetHash: string;
  backend: string;
  inputSize: number;
  preprocessing: PreprocessingMode;
  /** 'features' (flattened base output) or 'cut<k>' (activations at a cut after k frozen layers). */
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

interface CacheHeader {
  format: number;
  key: string;
  rows: number;
  /** Per array: the shape of one row (without the batch axis). */
  shapes: number[][];
  args: FeatureCacheKeyArgs;
  createdAt: string;
  seconds?: number;
}

function files(dir: string, key: string, n: number) {
  return { json: path.join(dir, `${key}.json`), data: Array.from({ length: n }, (_, i) => path.join(dir, `${key}${n === 1 ? '' : `.${i}`}.f32`)) };
}

/** The header of a key's cache entry, or null when absent or of another format or key (the JSON is written last). */
function readHeader(dir: string, key: string): CacheHeader | null {
  const json = path.join(dir, `${key}.json`);
  if (!fs.existsSync(json)) return null;
  const h = JSON.parse(fs.readFileSync(json, 'utf8')) as CacheHeader;
  return h.format === CACHE_FORMAT && h.key === key ? h : null;
}

/** The cached arrays of a key, or null when absent or incomplete (the JSON is written last). */
export function readFeatureCache(dir: string, key: string): { arrays: FeatureMatrix[]; shapes: number[][] } | null {
  const h = readHeader(dir, key);
  if (!h) return null;
  const f = files(dir, key, h.shapes.length);
  const arrays: FeatureMatrix[] = [];
  for (let i = 0; i < h.shapes.length; i++) {
    if (!fs.existsSync(f.data[i])) return null;
    const buf = fs.readFileSync(f.data[i]);
    const dim = h.shapes[i].reduce((a, b) => a * b, 1);
    if (buf.byteLength !== h.rows * dim * 4) {
      throw new Error(`feature cache ${f.data[i]}: ${buf.byteLength} bytes, expected ${h.rows} x ${dim} float32; delete it to rebuild`);
    }
    // Copy into an aligned Float32Array (Buffer pools may be unaligned).
    const data = new Float32Array(h.rows * dim);
    new Uint8Array(data.buffer).set(buf);
    arrays.push({ data, rows: h.rows, dim });
  }
  return { arrays, shapes: h.shapes };
}

/** Writes the arrays, then the JSON header (so a crash never leaves a header without data). */
export function writeFeatureCache(dir: string, key: string, args: FeatureCacheKeyArgs, arrays: FeatureMatrix[], shapes: number[][], seconds?: number): void {
  const f = files(dir, key, arrays.length);
  arrays.forEach((a, i) => writeFileAtomic(f.data[i], new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength)));
  const header: CacheHeader = { format: CACHE_FORMAT, key, rows: arrays[0]?.rows ?? 0, shapes, args, createdAt: new Date().toISOString(), seconds };
  writeJsonAtomic(f.json, header);
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

/** True when a complete cache entry exists (header and data files of the right size), without reading the data. */
export function hasFeatureCache(dir: string, key: string): boolean {
  try {
    const h = readHeader(dir, key);
    if (!h) return false;
    const f = files(dir, key, h.shapes.length);
    return h.shapes.every((s, i) => fs.existsSync(f.data[i]) && fs.statSync(f.data[i]).size === h.rows * s.reduce((a, b) => a * b, 1) * 4);
  } catch {
    return false;
  }
}
