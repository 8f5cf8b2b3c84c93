/**
 * What the training volumes looked like (matrix, voxel size, units, intensity range), so a volume far
 * from them is flagged in the report instead of being silently scored. The kept model's meta names
 * the cohort manifest it was trained on (path and sha256) and its runs; the records under
 * `<results>/runs/` name the training patients. The description is derived from those volumes and
 * cached by content.
 */
import * as fs from 'fs';
import * as path from 'path';
import { readNifti } from '../io';
import { labelsOf, loadManifest, resolvePath, type LoadedManifest } from '../manifest';
import { ResultsDir, cacheDir as resultsCacheDir, tryReadRunRecord } from '../records';
import type { Volume } from '../types';
import { z } from 'zod';
import { readCacheEntry, writeCacheEntry } from '../util/cache';
import { projectRoot, stableHash } from '../util/files';
import type { ScoringModelMeta } from './model';

/** Intensity summary of one volume, in its own units. */
export interface VolumeStats {
  dims: [number, number, number];
  voxelSize: [number, number, number];
  units?: string;
  /** Mean over all voxels. */
  mean: number;
  /** 99th percentile of the voxel values (robust maximum). */
  p99: number;
  min: number;
  max: number;
}

const triple = z.tuple([z.number(), z.number(), z.number()]);
const range = z.object({ min: z.number(), max: z.number() });

/**
 * The training data a model saw, summarised for out-of-distribution checks: its schema (also the
 * scoring reference cache's sidecar metadata, checked on every read).
 */
export const trainingDataDescriptionSchema = z.object({
  schema: z.literal('pet-iqa/training-data@1'),
  manifest: z.string(),
  manifestSha256: z.string(),
  /** Patients whose rated volumes were described (the model's training patients when the run records are found). */
  patients: z.array(z.string()),
  patientsFrom: z.enum(['run records', 'manifest (all non-test patients)']),
  volumes: z.number().int().nonnegative(),
  dims: z.array(triple),
  voxelSize: z.object({ min: triple, max: triple }),
  units: z.array(z.string()),
  mean: range,
  p99: range,
});

export type TrainingDataDescription = z.infer<typeof trainingDataDescriptionSchema>;

/** Options of describeTrainingData. */
export interface DescribeTrainingDataOptions {
  /** Use this manifest instead of the one named in meta (its sha256 is then not required to match). */
  manifest?: string;
  /** Cache folder; null disables the cache. Default `<project>/results/cache/score-reference`. */
  cacheDir?: string | null;
  /** Verify the manifest's sha256 of the volumes it reads. Default true (false: `--no-verify`). */
  verifyChecksums?: boolean;
}

/** Voxel statistics of a volume; the percentile comes from a strided subsample of at most ~1M voxels. */
export function volumeStats(v: Volume): VolumeStats {
  const d = v.data;
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < d.length; i++) {
    const x = d[i];
    sum += x;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  const stride = Math.max(1, Math.floor(d.length / 1_000_000));
  const sub = new Float32Array(Math.ceil(d.length / stride));
  for (let i = 0, j = 0; i < d.length; i += stride, j++) sub[j] = d[i];
  sub.sort();
  const p99 = sub[Math.min(sub.length - 1, Math.floor(0.99 * (sub.length - 1)))];
  return { dims: [...v.dims] as [number, number, number], voxelSize: [...v.voxelSize] as [number, number, number], units: v.units, mean: sum / d.length, p99, min, max };
}

/** Where the manifest named in meta is: as recorded (relative to cwd or project), or near the results folder. */
function findManifest(modelDir: string, meta: ScoringModelMeta): string | undefined {
  const rec = meta.data?.manifest;
  if (!rec) return undefined;
  const results = resultsDirOf(modelDir);
  const candidates = path.isAbsolute(rec)
    ? [rec]
    : [path.resolve(rec), path.resolve(projectRoot(), rec), ...(results ? [path.resolve(results, rec), path.resolve(results, '..', '..', rec)] : [])];
  return candidates.find((c) => fs.existsSync(c));
}

/** `<results>` of `<results>/models/<name>`, when the folder sits there. */
export function resultsDirOf(modelDir: string): string | undefined {
  const parent = path.dirname(path.resolve(modelDir));
  return path.basename(parent) === 'models' ? path.dirname(parent) : undefined;
}

/** Training patients of the model's runs, from `<results>/runs/<id>.json`; undefined when any record is missing. */
export function trainingPatientsOf(modelDir: string, meta: ScoringModelMeta): string[] | undefined {
  const results = resultsDirOf(modelDir);
  if (!results) return undefined;
  const out = new Set<string>();
  for (const r of meta.runs) {
    const rec = tryReadRunRecord(new ResultsDir(results).runRecord(r.id), (m) => process.stderr.write(`${m}; describing the training data from the manifest instead\n`));
    if (!rec) return undefined;
    rec.trainPatients.forEach((p) => out.add(p));
  }
  return [...out];
}

/**
 * Describes the rated volumes of the model's training patients (or of all non-test patients when
 * the run records are not next to the model). Returns undefined, with the reason, when the manifest
 * cannot be found or no longer has the recorded sha256.
 */
export function describeTrainingData(
  modelDir: string,
  meta: ScoringModelMeta,
  opts: DescribeTrainingDataOptions = {},
): { description?: TrainingDataDescription; reason?: string } {
  const file = opts.manifest ? path.resolve(opts.manifest) : findManifest(modelDir, meta);
  if (!file) return { reason: `the training manifest ${meta.data?.manifest ?? '(not recorded in meta.json)'} was not found; pass --reference MANIFEST` };
  let loaded: LoadedManifest;
  try {
    loaded = loadManifest(file, { checkFiles: false, verifyChecksums: opts.verifyChecksums ?? true });
  } catch (err) {
    return { reason: (err as Error).message.split('\n')[0] };
  }
  if (!opts.manifest && meta.data?.manifestSha256 && loaded.sha256 !== meta.data.manifestSha256) {
    return { reason: `${file} has sha256 ${loaded.sha256}, not the ${meta.data.manifestSha256} the model was trained on; pass --reference MANIFEST to use it anyway` };
  }
  const fromRuns = opts.manifest ? undefined : trainingPatientsOf(modelDir, meta);
  const test = new Set((loaded.manifest as { testPatients?: string[] }).testPatients ?? []);
  const patients = fromRuns ?? loaded.manifest.patients.map((p) => p.id).filter((p) => !test.has(p));
  const wanted = new Set(patients);
  const recons = loaded.manifest.reconstructions.filter((r) => wanted.has(r.patient) && labelsOf(r) !== undefined);
  if (recons.length === 0) return { reason: `${file}: no rated reconstructions of patients ${patients.join(', ')}` };
  const key = stableHash({ v: 1, manifest: loaded.sha256, patients: [...patients].sort() }).slice(0, 20);
  const cacheDir = opts.cacheDir === undefined ? resultsCacheDir('score-reference') : opts.cacheDir;
  if (cacheDir) {
    try {
      const c = readCacheEntry(cacheDir, key, trainingDataDescriptionSchema);
      if (c && c.meta.manifestSha256 === loaded.sha256) return { description: c.meta };
    } catch {
      /* a damaged entry is rebuilt below */
    }
  }
  const stats: VolumeStats[] = [];
  const units = new Set<string>();
  for (const r of recons) {
    const f = resolvePath(loaded, r);
    try {
      const v = readNifti(f);
      stats.push(volumeStats(v));
      units.add(v.units ?? r.units);
    } catch (err) {
      return { reason: `cannot read training volume ${f}: ${(err as Error).message}` };
    }
  }
  const dims: Array<[number, number, number]> = [];
  for (const s of stats) if (!dims.some((d) => d.join('x') === s.dims.join('x'))) dims.push(s.dims);
  const axisMin = (k: number) => Math.min(...stats.map((s) => s.voxelSize[k]));
  const axisMax = (k: number) => Math.max(...stats.map((s) => s.voxelSize[k]));
  const description: TrainingDataDescription = {
    schema: 'pet-iqa/training-data@1',
    manifest: file,
    manifestSha256: loaded.sha256,
    patients,
    patientsFrom: fromRuns ? 'run records' : 'manifest (all non-test patients)',
    volumes: stats.length,
    dims,
    voxelSize: { min: [axisMin(0), axisMin(1), axisMin(2)], max: [axisMax(0), axisMax(1), axisMax(2)] },
    units: [...units],
    mean: { min: Math.min(...stats.map((s) => s.mean)), max: Math.max(...stats.map((s) => s.mean)) },
    p99: { min: Math.min(...stats.map((s) => s.p99)), max: Math.max(...stats.map((s) => s.p99)) },
  };
  if (cacheDir) writeCacheEntry(cacheDir, key, description);
  return { description };
}

/** Tolerances of the out-of-distribution checks. */
export interface OodTolerance {
  /** Relative tolerance on each voxel-size axis beyond the training range. Default 0.05. */
  voxelSize?: number;
  /** Factor beyond the training range of mean and 99th percentile before 'intensity' is flagged. Default 3. */
  intensityFactor?: number;
}

/** One out-of-distribution finding: a short code (CSV `flags`) and a sentence (JSON). */
export interface Flag {
  code: 'matrix' | 'voxel-size' | 'units' | 'intensity' | 'few-patches' | 'outside-label-scale' | 'no-reference' | 'png-failed';
  message: string;
}

const fmt = (xs: readonly number[]) => xs.map((x) => +x.toPrecision(4)).join(' x ');

/** Compares a volume's statistics with the training description. */
export function compareWithTraining(s: VolumeStats, units: string | undefined, ref: TrainingDataDescription, tol: OodTolerance = {}): Flag[] {
  const out: Flag[] = [];
  const vt = tol.voxelSize ?? 0.05;
  const f = tol.intensityFactor ?? 3;
  if (!ref.dims.some((d) => d.join('x') === s.dims.join('x'))) {
    out.push({ code: 'matrix', message: `matrix ${s.dims.join('x')} differs from the training matrix ${ref.dims.map((d) => d.join('x')).join(' or ')}` });
  }
  const off = [0, 1, 2].filter((k) => s.voxelSize[k] < ref.voxelSize.min[k] * (1 - vt) || s.voxelSize[k] > ref.voxelSize.max[k] * (1 + vt));
  if (off.length > 0) {
    const range = [0, 1, 2].map((k) => (ref.voxelSize.min[k] === ref.voxelSize.max[k] ? `${+ref.voxelSize.min[k].toPrecision(4)}` : `${+ref.voxelSize.min[k].toPrecision(4)}-${+ref.voxelSize.max[k].toPrecision(4)}`));
    out.push({ code: 'voxel-size', message: `voxel size ${fmt(s.voxelSize)} mm differs from the training ${range.join(' x ')} mm by more than ${vt * 100}%` });
  }
  if (!units) out.push({ code: 'units', message: `intensity units unknown (training volumes: ${ref.units.join(', ')})` });
  else if (!ref.units.includes(units)) out.push({ code: 'units', message: `intensity units '${units}' differ from the training '${ref.units.join(', ')}'` });
  const outside = (x: number, r: { min: number; max: number }) => x < r.min / f || x > r.max * f;
  if (outside(s.mean, ref.mean) || outside(s.p99, ref.p99)) {
    out.push({
      code: 'intensity',
      message:
        `intensity (mean ${s.mean.toPrecision(4)}, 99th percentile ${s.p99.toPrecision(4)}) is more than ${f}x outside the training range ` +
        `(mean ${ref.mean.min.toPrecision(4)}-${ref.mean.max.toPrecision(4)}, 99th percentile ${ref.p99.min.toPrecision(4)}-${ref.p99.max.toPrecision(4)} ${ref.units.join('/')})`,
    });
  }
  return out;
}
