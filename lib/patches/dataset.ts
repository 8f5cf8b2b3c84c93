import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { labelsOf, resolvePath, type LoadedManifest, type Reconstruction } from '../manifest';
import { METRICS, type PreprocessingMode } from '../types';
import { z } from 'zod';
import { readCacheEntry, writeCacheEntry } from '../util/cache';
import { cacheDir as resultsCacheDir } from '../records';
import { stableHash, projectRoot } from '../util/files';
import { deriveSeed } from '../util/rng';
import { defaultWorkerCount, mapInWorkers } from '../util/workers';
import { type PatchSamplerConfig, type PatchLocation, type PlaneStats, type SampledPatches, DEFAULT_PATCH_SAMPLER_CONFIG } from './sampler';
import { samplePatchVolume, type PatchVolumeTask, type SampledVolume } from './worker';
import { patchesToTensor } from './preprocess';

/** Bumped when the patch-set layout or sampling changes, so old caches are not reused. */
const DATASET_FORMAT_VERSION = 1;

export interface PatchDatasetConfig extends PatchSamplerConfig {
  /** Seed of the sampler (each volume and plane get their own derived stream). Default 0. */
  seed?: number;
  /** Cache folder; null disables the cache. Default `<project>/results/cache/patches`. */
  cacheDir?: string | null;
  /** Use every reconstruction, rated or not (labels NaN where unrated). Default false: rated only. */
  includeUnrated?: boolean;
  /** Called after each volume. */
  onProgress?: (done: number, total: number, recon: string) => void;
  /** Worker threads reading and sampling volumes; 0 works in the calling thread. Default min(2, CPUs). */
  workers?: number;
}

export interface PatchMeta extends PatchLocation {
  recon: string;
}

/** Patches of the scored reconstructions with their labels; everything a backbone run needs. */
export interface PatchDataset {
  /** Content hash of manifest, seed and settings: the cache key and the runs' patch-set hash. */
  key: string;
  size: number;
  count: number;
  /** count * size * size values in [0, 1], one channel. */
  patches: Float32Array;
  /** count * 3 labels in METRICS order (GQR, PR, DC); NaN for unrated volumes. */
  labels: Float32Array;
  patchPatient: string[];
  patchRecon: string[];
  meta: PatchMeta[];
  /** Per volume and plane: candidates, survivors, kept. */
  stats: Array<PlaneStats & { recon: string }>;
  warnings: string[];
  config: Omit<Required<PatchDatasetConfig>, 'onProgress' | 'cacheDir' | 'recordCandidates' | 'workers'>;
}

/**
 * The patch cache's sidecar metadata (lib/util/cache checks it on every read). The nested sampler
 * records (meta, stats, config) are this module's own output and are checked for shape only.
 */
const cachedMetaSchema = z.object({
  format: z.literal(DATASET_FORMAT_VERSION),
  key: z.string(),
  size: z.number().int().positive(),
  count: z.number().int().nonnegative(),
  patchPatient: z.array(z.string()),
  patchRecon: z.array(z.string()),
  meta: z.array(z.record(z.unknown())),
  stats: z.array(z.record(z.unknown())),
  warnings: z.array(z.string()),
  config: z.record(z.unknown()),
});

function datasetSettings(config: PatchDatasetConfig): PatchDataset['config'] {
  const { onProgress: _p, cacheDir: _c, recordCandidates: _r, workers: _w, ...rest } = config;
  const { recordCandidates: _d, ...defaults } = DEFAULT_PATCH_SAMPLER_CONFIG;
  return { ...defaults, seed: 0, includeUnrated: false, ...rest, planes: [...(rest.planes ?? defaults.planes)] };
}

/** The cache key of a dataset: manifest content + seed + sampler settings. */
export function patchDatasetKey(loaded: LoadedManifest, config: PatchDatasetConfig): string {
  return stableHash({ format: DATASET_FORMAT_VERSION, manifest: loaded.sha256, settings: datasetSettings(config) }).slice(0, 24);
}

/**
 * Samples the patches of every scored reconstruction of a cohort, with their three labels.
 * Cached on disk by content (manifest bytes, seed, settings), so every backbone and run reuses them.
 */
export async function buildPatchDataset(loaded: LoadedManifest, config: PatchDatasetConfig = {}): Promise<PatchDataset> {
  const settings = datasetSettings(config);
  const key = patchDatasetKey(loaded, config);
  const cacheDir = config.cacheDir === undefined ? resultsCacheDir('patches') : config.cacheDir;
  if (cacheDir) {
    const cached = readCachedDataset(cacheDir, key);
    if (cached) return cached;
  }

  const recons = loaded.manifest.reconstructions.filter((r) => settings.includeUnrated || labelsOf(r) !== undefined);
  if (recons.length === 0) throw new Error(`${loaded.file}: no rated reconstructions to build a patch dataset from`);
  let done = 0;
  const sampled = await sampleVolumes(loaded, recons, {
    seed: settings.seed,
    config: { size: settings.size, candidates: settings.candidates, keep: settings.keep, thresholdFraction: settings.thresholdFraction, planes: settings.planes, onTooFew: settings.onTooFew },
    workers: config.workers,
    onResult: (i) => config.onProgress?.(++done, recons.length, recons[i].id),
  });
  const chunks: Float32Array[] = [];
  const labels: number[] = [];
  const patchPatient: string[] = [];
  const patchRecon: string[] = [];
  const meta: PatchMeta[] = [];
  const stats: PatchDataset['stats'] = [];
  const warnings: string[] = [];
  recons.forEach((recon, v) => {
    const s = sampled[v];
    const y = labelsOf(recon);
    chunks.push(s.data);
    for (const loc of s.locations) {
      for (const m of METRICS) labels.push(y ? y[m] : NaN);
      patchPatient.push(recon.patient);
      patchRecon.push(recon.id);
      meta.push({ recon: recon.id, ...loc });
    }
    for (const st of s.stats) stats.push({ recon: recon.id, ...st });
    warnings.push(...s.warnings);
  });
  const count = patchRecon.length;
  const patches = new Float32Array(count * settings.size * settings.size);
  let offset = 0;
  for (const c of chunks) {
    patches.set(c, offset);
    offset += c.length;
  }
  const ds: PatchDataset = {
    key,
    size: settings.size,
    count,
    patches,
    labels: Float32Array.from(labels),
    patchPatient,
    patchRecon,
    meta,
    stats,
    warnings,
    config: settings,
  };
  if (cacheDir) writeCachedDataset(cacheDir, ds);
  return ds;
}

/**
 * Reads and samples the patches of each reconstruction, in worker threads unless `workers` is 0 or
 * there is a single volume. The seed of each volume depends only on `seed` and the reconstruction
 * id, so adding a volume to the cohort does not change the patches of the others. `onResult(i)`
 * follows each volume, in completion order.
 */
export async function sampleVolumes(
  loaded: LoadedManifest,
  recons: readonly Reconstruction[],
  opts: { seed: number; config: PatchVolumeTask['config']; workers?: number; onResult?: (index: number) => void; intensity?: boolean },
): Promise<SampledVolume[]> {
  const field = (recon: Reconstruction) => `${loaded.file} reconstructions[${loaded.manifest.reconstructions.indexOf(recon)}].path`;
  const tasks: PatchVolumeTask[] = recons.map((recon) => ({ file: resolvePath(loaded, recon), seed: deriveSeed(opts.seed, 'patches', recon.id), config: opts.config, source: field(recon), intensity: opts.intensity }));
  const workers = opts.workers ?? defaultWorkerCount();
  if (workers > 0 && tasks.length > 1) {
    return mapInWorkers<PatchVolumeTask, SampledVolume>(path.join(__dirname, 'worker.ts'), tasks, { workers, onResult: (_r, i) => opts.onResult?.(i) });
  }
  return tasks.map((t, i) => {
    const r = samplePatchVolume(t);
    opts.onResult?.(i);
    return r;
  });
}

/** The cached dataset of `key` (patches [count, size, size] and labels [count, 3] as .npy), or undefined to rebuild it. */
function readCachedDataset(cacheDir: string, key: string): PatchDataset | undefined {
  try {
    const entry = readCacheEntry(cacheDir, key, cachedMetaSchema);
    if (!entry || entry.arrays.length !== 2) return undefined;
    const h = entry.meta;
    const [patches, labels] = entry.arrays;
    if (h.key !== key || h.patchPatient.length !== h.count || patches.data.length !== h.count * h.size * h.size || labels.data.length !== h.count * 3) return undefined;
    const { format: _f, ...rest } = h;
    return { ...(rest as unknown as Omit<PatchDataset, 'patches' | 'labels'>), patches: patches.data, labels: labels.data };
  } catch {
    // A damaged cache entry is rebuilt rather than trusted.
    return undefined;
  }
}

function writeCachedDataset(cacheDir: string, ds: PatchDataset): void {
  const meta: z.infer<typeof cachedMetaSchema> = {
    format: DATASET_FORMAT_VERSION,
    key: ds.key,
    size: ds.size,
    count: ds.count,
    patchPatient: ds.patchPatient,
    patchRecon: ds.patchRecon,
    meta: ds.meta as unknown as Array<Record<string, unknown>>,
    stats: ds.stats as unknown as Array<Record<string, unknown>>,
    warnings: ds.warnings,
    config: ds.config as unknown as Record<string, unknown>,
  };
  writeCacheEntry(cacheDir, ds.key, meta, [
    { data: ds.patches, shape: [ds.count, ds.size, ds.size] },
    { data: ds.labels, shape: [ds.count, 3] },
  ]);
}

/** Indices of the patches that belong to the given patients, in dataset order. */
export function subsetIndices(ds: Pick<PatchDataset, 'key' | 'count' | 'patchPatient'>, patientIds: readonly string[]): Int32Array {
  const wanted = new Set(patientIds);
  const known = new Set(ds.patchPatient);
  for (const id of wanted) if (!known.has(id)) throw new Error(`subsetIndices: patient '${id}' has no patches in dataset ${ds.key}`);
  const out: number[] = [];
  for (let i = 0; i < ds.count; i++) if (wanted.has(ds.patchPatient[i])) out.push(i);
  return Int32Array.from(out);
}

/** The grey patches at `indices`, copied into one array (count * size * size). */
export function gatherPatches(ds: Pick<PatchDataset, 'size' | 'count' | 'patches'>, indices: ArrayLike<number>): Float32Array {
  const area = ds.size * ds.size;
  const out = new Float32Array(indices.length * area);
  for (let n = 0; n < indices.length; n++) {
    const i = indices[n];
    if (!(i >= 0 && i < ds.count)) throw new Error(`gatherPatches: index ${i} out of range [0, ${ds.count})`);
    out.set(ds.patches.subarray(i * area, (i + 1) * area), n * area);
  }
  return out;
}

/** Labels at `indices` (count * 3, METRICS order). */
export function gatherLabels(ds: PatchDataset, indices: ArrayLike<number>): Float32Array {
  const out = new Float32Array(indices.length * 3);
  for (let n = 0; n < indices.length; n++) out.set(ds.labels.subarray(indices[n] * 3, indices[n] * 3 + 3), n * 3);
  return out;
}

/** Backbone input for the patches at `indices`: [b, size, size, 3], 0-255 then Keras preprocessing `mode`. */
export function toBackboneInput(ds: Pick<PatchDataset, 'size' | 'count' | 'patches'>, indices: ArrayLike<number>, mode: PreprocessingMode): tf.Tensor4D {
  return patchesToTensor(gatherPatches(ds, indices), indices.length, ds.size, mode);
}
