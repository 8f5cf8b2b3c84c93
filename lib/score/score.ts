/**
 * Scoring reconstructions with a kept model: patches drawn with the training settings (seeded by
 * a digest of the decoded voxels and geometry, so a volume always gets the same patches and scores,
 * however its file is compressed or its header described), GQR/PR/DC predicted per
 * patch and aggregated per volume, out-of-distribution flags, and the JSON/CSV report.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseNifti, voxelDigest, type NiftiVolume } from '../io';
import { labelsOf, loadManifest, resolvePath } from '../manifest';
import { sampleNormalizedPatches, type PatchLocation, type PlaneStats } from '../patches/sampler';
import { METRICS, type MetricTriple, type Volume } from '../types';
import { digest, writeFileAtomic, writeJsonAtomic } from '../util/files';
import { Rng, deriveSeed } from '../util/rng';
import type { ScoringModel } from './model';
import { compareWithTraining, volumeStats, type Flag, type OodTolerance, type TrainingDataDescription, type VolumeStats } from './reference';

/** One volume to score, with what its source says about it. */
export interface ScoreInput {
  /** Path of the NIfTI file (absolute for folder and manifest entries, as given otherwise). */
  file: string;
  /** Manifest entries: reconstruction id, patient, count level, units, and labels when rated. */
  id?: string;
  patient?: string;
  countPercent?: number;
  units?: string;
  labels?: MetricTriple;
  /** Set when the input could not even be listed (missing path, bad manifest): it becomes an error row. */
  error?: string;
  /** Manifest entries: `<manifest> reconstructions[i].path`, named in read errors. */
  source?: string;
}

/** The result for one volume: scores and flags, or only an error. */
export interface VolumeScore {
  file: string;
  id?: string;
  patient?: string;
  countPercent?: number;
  /** Clinical labels of a rated manifest entry, for comparison. */
  labels?: MetricTriple;
  /** sha256 of the file bytes (which file was scored). */
  sha256?: string;
  /** voxelDigest of the volume (dims, affine, decoded voxels), and the sampler seed derived from it. */
  voxelSha256?: string;
  seed?: number;
  /** Mean prediction over patches (and members). */
  scores?: MetricTriple;
  /** Std over patches of the (member-averaged) patch predictions. */
  sd?: MetricTriple;
  /** Ensembles: std over the members' volume means (model uncertainty). */
  ensembleSd?: MetricTriple;
  /** Ensembles: each member's volume mean. */
  members?: MetricTriple[];
  patches?: number;
  planes?: PlaneStats[];
  stats?: VolumeStats;
  flags: Flag[];
  /** PNG of three orthogonal slices, relative to the report folder. */
  png?: string;
  error?: string;
}

/** One scored patch: where it lies in the volume and its predicted GQR. */
export type PatchScore = PatchLocation & { GQR: number };

/** Options of scoreVolume and scoreFiles. */
export interface ScoreOptions {
  /** Training data description for the out-of-distribution checks; undefined: only the patch-count check. */
  reference?: TrainingDataDescription;
  /** Tolerances of the checks. Default: see OodTolerance. */
  tolerance?: OodTolerance;
}

const NIFTI_RE = /\.nii(\.gz)?$/i;

function listNifti(dir: string): string[] {
  const out: string[] = [];
  // Numeric-aware order, so patient-6_5pct comes before patient-6_10pct.
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }))) {
    if (e.name.startsWith('.')) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...listNifti(p));
    else if (NIFTI_RE.test(e.name)) out.push(p);
  }
  return out;
}

/**
 * Expands command-line arguments into volumes: a NIfTI file as is, a folder into its .nii/.nii.gz
 * files (recursively, numeric-aware name order), a .json cohort manifest into all its reconstructions. A path that does
 * not exist or a manifest that does not load becomes an input carrying its error.
 */
export function expandInputs(args: readonly string[], opts: { verifyChecksums?: boolean } = {}): ScoreInput[] {
  const out: ScoreInput[] = [];
  for (const arg of args) {
    let st: fs.Stats;
    try {
      st = fs.statSync(arg);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      out.push({ file: arg, error: `${arg}: ${code === 'ENOENT' ? 'no such file or folder' : `cannot access (${(err as Error).message})`}` });
      continue;
    }
    if (st.isDirectory()) {
      let files: string[];
      try {
        files = listNifti(arg);
      } catch (err) {
        out.push({ file: arg, error: `${arg}: cannot list folder (${(err as Error).message})` });
        continue;
      }
      if (files.length === 0) out.push({ file: arg, error: `${arg}: folder holds no .nii or .nii.gz files` });
      for (const f of files) out.push({ file: path.resolve(f) });
    } else if (arg.toLowerCase().endsWith('.json')) {
      try {
        // Checksums are verified (unless --no-verify) before any volume of the manifest is scored.
        const loaded = loadManifest(arg, { checkFiles: false, verifyChecksums: opts.verifyChecksums ?? true });
        if (loaded.manifest.reconstructions.length === 0) out.push({ file: arg, error: `${arg}: manifest lists no reconstructions` });
        loaded.manifest.reconstructions.forEach((r, i) => {
          out.push({ file: resolvePath(loaded, r), id: r.id, patient: r.patient, countPercent: r.countPercent, units: r.units, labels: labelsOf(r), source: `${loaded.file} reconstructions[${i}].path` });
        });
      } catch (err) {
        out.push({ file: arg, error: (err as Error).message });
      }
    } else out.push({ file: arg });
  }
  return out;
}

const pstd = (xs: number[], m: number) => Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / xs.length);

/** Mean and spread of per-member patch predictions (each count x 3). */
export function aggregatePredictions(members: Float32Array[], count: number): Pick<VolumeScore, 'scores' | 'sd' | 'ensembleSd' | 'members'> {
  if (count === 0 || members.length === 0) throw new Error('aggregatePredictions: no predictions');
  const scores = {} as MetricTriple;
  const sd = {} as MetricTriple;
  const ensembleSd = {} as MetricTriple;
  const memberMeans: MetricTriple[] = members.map(() => ({}) as MetricTriple);
  METRICS.forEach((m, j) => {
    const perPatch: number[] = [];
    for (let p = 0; p < count; p++) {
      let s = 0;
      for (const P of members) s += P[p * 3 + j];
      perPatch.push(s / members.length);
    }
    const mean = perPatch.reduce((a, b) => a + b, 0) / count;
    scores[m] = mean;
    sd[m] = pstd(perPatch, mean);
    const mm = members.map((P) => {
      let s = 0;
      for (let p = 0; p < count; p++) s += P[p * 3 + j];
      return s / count;
    });
    mm.forEach((v, k) => (memberMeans[k][m] = v));
    ensembleSd[m] = pstd(mm, mean);
  });
  return members.length > 1 ? { scores, sd, ensembleSd, members: memberMeans } : { scores, sd };
}

/**
 * Scores one volume. Throws (with the file in the message) when it cannot be read or yields no patch;
 * returns the volume too, for the slice figure.
 */
export function scoreVolume(model: ScoringModel, input: ScoreInput, opts: ScoreOptions = {}): { score: VolumeScore; volume: Volume; patchScores: PatchScore[] } {
  if (input.error) throw new Error(input.error);
  const from = input.source ? `${input.source}: ` : '';
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(input.file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`${from}${input.file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder' : `cannot read (${(err as Error).message})`}`);
  }
  const sha256 = digest(bytes);
  let volume: NiftiVolume;
  try {
    volume = parseNifti(bytes, input.file);
  } catch (err) {
    throw new Error(`${from}${(err as Error).message}`);
  }
  const stats = volumeStats(volume);
  const units = volume.units ?? input.units;
  const flags: Flag[] = opts.reference ? compareWithTraining(stats, units, opts.reference, opts.tolerance) : [];
  // Seeded by what the volume is, not by its bytes: scores are a function of voxels and geometry only.
  const voxelSha256 = voxelDigest(volume);
  const seed = deriveSeed(model.patches.seed, 'score', voxelSha256);
  const sampled = sampleNormalizedPatches(volume, { ...model.patches, onTooFew: 'warn' }, new Rng(seed), input.file);
  const count = sampled.locations.length;
  if (count === 0) throw new Error(`${input.file}: no ${model.inputSize}x${model.inputSize} patch passed the background threshold in any plane; nothing to score`);
  const few = sampled.stats.filter((s) => s.kept < model.patches.keep);
  if (few.length > 0) {
    flags.push({
      code: 'few-patches',
      message: `only ${few.map((s) => `${s.kept} ${s.plane}`).join(', ')} of ${model.patches.keep} patches per plane passed the background threshold (${count} scored)`,
    });
  }
  const preds = model.predict(sampled.data, count);
  const agg = aggregatePredictions(preds, count);
  const scale = model.meta.labelScale ?? { min: 0, max: 3 };
  const outside = METRICS.filter((m) => agg.scores![m] < scale.min || agg.scores![m] > scale.max);
  if (outside.length > 0) {
    flags.push({ code: 'outside-label-scale', message: `${outside.map((m) => `${m} ${agg.scores![m].toFixed(2)}`).join(', ')} outside the label scale ${scale.min}-${scale.max}` });
  }
  const score: VolumeScore = {
    file: input.file,
    ...(input.id !== undefined ? { id: input.id, patient: input.patient, countPercent: input.countPercent } : {}),
    ...(input.labels ? { labels: input.labels } : {}),
    sha256,
    voxelSha256,
    seed,
    ...agg,
    patches: count,
    planes: sampled.stats,
    stats: { ...stats, units },
    flags,
  };
  // Each patch's GQR (mean over members), where it was taken: the patch map of the slice figure.
  const patchScores: PatchScore[] = sampled.locations.map((loc, p) => ({ ...loc, GQR: preds.reduce((a, m) => a + m[p * 3], 0) / preds.length }));
  return { score, volume, patchScores };
}

/** The model part of a report. */
export function modelSummary(model: ScoringModel) {
  return {
    dir: model.dir,
    name: model.name,
    backbone: model.backbone,
    regime: model.regime,
    kind: model.kind,
    members: model.members.length,
    weights: model.weights,
    inputSize: model.inputSize,
    preprocessing: model.preprocessing,
    patches: model.patches,
    runs: model.meta.runs.map((r) => ({ id: r.id, minValLoss: r.minValLoss, testMAE: r.testMAE.overall })),
    trainedOn: model.meta.data,
    gitCommit: model.meta.gitCommit,
  };
}

/** `<out>/scores.json`: model, reference, one entry per volume. Timestamp-free: rescoring gives the same file. */
export interface ScoreReport {
  schema: 'pet-iqa/scores@1';
  model: ReturnType<typeof modelSummary>;
  reference: { description?: TrainingDataDescription; reason?: string };
  backend: string;
  /** False when run with --no-verify: manifest sha256 were not checked. */
  verifyChecksums: boolean;
  volumes: VolumeScore[];
}

const num = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '' : String(+x.toFixed(4)));
const cell = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/** CSV columns: file, GQR, PR, DC, GQR_sd, PR_sd, DC_sd, [GQR_ens_sd, PR_ens_sd, DC_ens_sd], patches, flags, error. */
export function scoresCsv(volumes: readonly VolumeScore[], ensemble: boolean): string {
  const cols = ['file', ...METRICS, ...METRICS.map((m) => `${m}_sd`), ...(ensemble ? METRICS.map((m) => `${m}_ens_sd`) : []), 'patches', 'flags', 'error'];
  const rows = volumes.map((v) =>
    [
      cell(v.file),
      ...METRICS.map((m) => num(v.scores?.[m])),
      ...METRICS.map((m) => num(v.sd?.[m])),
      ...(ensemble ? METRICS.map((m) => num(v.ensembleSd?.[m])) : []),
      v.patches === undefined ? '' : String(v.patches),
      cell(v.flags.map((f) => f.code).join(';')),
      cell(v.error ?? ''),
    ].join(','),
  );
  return [cols.join(','), ...rows].join('\n') + '\n';
}

/** Writes `<out>/scores.json` and `<out>/scores.csv`, each atomically. */
export function writeScoreReport(out: string, report: ScoreReport): { json: string; csv: string } {
  const json = path.join(out, 'scores.json');
  const csv = path.join(out, 'scores.csv');
  writeJsonAtomic(json, report);
  writeFileAtomic(csv, scoresCsv(report.volumes, report.model.members > 1));
  return { json, csv };
}
