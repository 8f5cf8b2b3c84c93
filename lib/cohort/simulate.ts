/**
 * One patient end to end: phantom -> acquisition at 100 % (per slice, then the axial detector blur
 * across slices) -> nested thinning to every count level -> OSEM per slice -> 3-D post-filter ->
 * NIfTI (zero-filled full matrix) + metrics.
 * Runs in a worker thread or in the calling thread; its output depends only on the seed and the
 * patient, never on scheduling.
 */
import * as fs from 'fs';
import * as path from 'path';
import { writeNifti } from '../io';
import { paperReconstructionId } from '../manifest/paper';
import { buildPhantom, centredBox, dilate, gridAffine, Phantom, TemplateSet } from '../phantom';
import {
  countsPerBqMlMm,
  DEFAULT_ACQUISITION,
  expectVolume,
  gaussianFilter3d,
  ParallelProjector,
  poissonRealisation,
  reconstructionBackground,
  SliceReconstructor,
  thinToLevels,
} from '../recon';
import { COUNT_LEVELS } from '../types';
import { deriveSeed, Rng } from '../util/rng';
import { imageMetrics, ImageMetrics, metricMasks } from './image-metrics';
import { noiseCorrelation, type NoiseCorrelation } from './resolution';
import { RECON_SUPPORTS, type CohortPreset } from './presets';
import type { SyntheticPatient } from './patients';

export interface SimulatePatientArgs {
  template: TemplateSet;
  preset: CohortPreset;
  patient: SyntheticPatient;
  seed: number;
  /** Cohort folder; volumes go to volumes/patient-<id>/. */
  outDir: string;
  /** Count levels, percent. Default the paper's 7. */
  levels?: readonly number[];
  /** Reused projector (built when absent). */
  projector?: ParallelProjector;
  /** Called after every reconstructed slice. */
  onSlice?: (done: number, total: number) => void;
}

export interface SimulatedRecon {
  id: string;
  countPercent: number;
  /** Relative to outDir. */
  path: string;
  sha256: string;
  metrics: ImageMetrics;
  /** Noise autocorrelation (image - noise-free reconstruction) in the brain. */
  noiseCorrelation: NoiseCorrelation;
  /** Total prompts (trues + scatter + randoms) in the simulated slices. */
  prompts: number;
}

export interface SimulatedPatient {
  id: string;
  recons: SimulatedRecon[];
  /** Expected true coincidences at 100 % (all slices) and the mean per simulated slice. */
  trues100: number;
  truesPerSlice100: number;
  slices: number;
  /** Fraction of head activity outside the reconstructed circle (lost). */
  activityOutsideFov: number;
  timingsMs: Record<string, number>;
}

/** The volume path of a patient's level, relative to the cohort folder. */
export function volumePath(patientId: string, level: number): string {
  return `volumes/patient-${patientId}/patient-${patientId}_${level}pct.nii.gz`;
}

export function makeProjector(preset: CohortPreset): ParallelProjector {
  return new ParallelProjector({ n: preset.fovSide, pixelMm: preset.grid.voxelMm, nAngles: preset.nAngles });
}

export function simulatePatient(args: SimulatePatientArgs): SimulatedPatient {
  const { template, preset, patient, seed, outDir } = args;
  const levels = [...(args.levels ?? COUNT_LEVELS)];
  if (!levels.includes(100)) throw new Error('simulatePatient: levels must include 100');
  const t0 = Date.now();
  const timings: Record<string, number> = {};
  const grid = preset.grid;
  const box = centredBox(grid, preset.fovSide);
  const ph = buildPhantom(template, grid, box, patient.phantom);
  timings.phantom = Date.now() - t0;

  const projector = args.projector ?? makeProjector(preset);
  const acq = { ...DEFAULT_ACQUISITION, ...preset.acquisition };
  const d = grid.voxelMm;
  const kappa = countsPerBqMlMm(acq, projector.binMm, d, projector.nAngles);
  const [nb, , nz] = box.dims;
  const sliceSize = nb * nb;
  const circle = new Uint8Array(sliceSize);
  for (const p of projector.circlePixels()) circle[p] = 1;
  const support = reconstructionSupport(preset, ph);
  const volumes = new Map<number, Float32Array>(levels.map((l) => [l, new Float32Array(ph.activity.length)]));
  const prompts = new Map<number, number>(levels.map((l) => [l, 0]));
  let noiseFree = new Float32Array(ph.activity.length);
  let trues100 = 0;
  let headActivity = 0;
  let lostActivity = 0;
  for (let v = 0; v < ph.activity.length; v++) {
    headActivity += ph.activity[v];
    if (!circle[v % sliceSize]) lostActivity += ph.activity[v];
  }
  const tSim = Date.now();
  // All slices' expected data first: the axial detector blur couples neighbouring slices.
  const expected = expectVolume(projector, ph.activity, ph.mu, support, nz, kappa, acq, d);
  timings.expect = Date.now() - tSim;
  let tRecon = 0;
  expected.forEach((e, si) => {
    const { k, pixels } = e;
    const off = k * sliceSize;
    const ybar = new Float32Array(e.trues.length);
    for (let i = 0; i < ybar.length; i++) {
      ybar[i] = e.trues[i] + e.background[i];
      trues100 += e.trues[i];
    }
    const rng = new Rng(deriveSeed(seed, 'counts', patient.meta.id, k));
    const counts = thinToLevels(poissonRealisation(ybar, rng), levels, rng);
    const tr = Date.now();
    const recon = new SliceReconstructor(projector, e.att, pixels, preset.osem ?? {});
    // What the reconstruction believes the scatter + randoms are (misses the residual scatter).
    const bgModel = reconstructionBackground(e, acq);
    const ys: Float32Array[] = [];
    const kappas: number[] = [];
    const bgs: Float32Array[] = [];
    for (const level of levels) {
      const f = level / 100;
      const y = counts.get(level)!;
      let tot = 0;
      for (let i = 0; i < y.length; i++) tot += y[i];
      prompts.set(level, prompts.get(level)! + tot);
      const bg = new Float32Array(bgModel.length);
      for (let i = 0; i < bg.length; i++) bg[i] = bgModel[i] * f;
      ys.push(y);
      kappas.push(kappa * f);
      bgs.push(bg);
    }
    // The noise-free reconstruction (expected data at 100 %) rides along: the metrics' reference.
    const imgs = recon.reconstructMany([...ys, ybar], [...kappas, kappa], [...bgs, bgModel]);
    levels.forEach((level, l) => volumes.get(level)!.set(imgs[l], off));
    noiseFree.set(imgs[levels.length], off);
    tRecon += Date.now() - tr;
    args.onSlice?.(si + 1, expected.length);
  });
  timings.simulateAndReconstruct = Date.now() - tSim;
  timings.reconstruct = tRecon;

  const tPost = Date.now();
  for (const level of levels) volumes.set(level, gaussianFilter3d(volumes.get(level)!, box.dims, preset.postFilterFwhmMm, [d, d, d]));
  noiseFree = gaussianFilter3d(noiseFree, box.dims, preset.postFilterFwhmMm, [d, d, d]);
  timings.postFilter = Date.now() - tPost;

  const masks = metricMasks(ph);
  const brainMask = new Uint8Array(ph.brain.length);
  for (let v = 0; v < brainMask.length; v++) brainMask[v] = ph.brain[v] >= 0.5 ? 1 : 0;
  const depth = patternDepth(ph, patient);
  const ref = volumes.get(100)!;
  const tWrite = Date.now();
  const recons: SimulatedRecon[] = levels.map((level) => {
    const rel = volumePath(patient.meta.id, level);
    const abs = path.join(outDir, rel);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    const sha256 = writeNifti(abs, embed(volumes.get(level)!, ph), {
      units: 'Bq/ml',
      description: `synthetic pet-iqa ${preset.name} p${patient.meta.id} ${level}%`,
    });
    return {
      id: paperReconstructionId(patient.meta.id, level),
      countPercent: level,
      path: rel,
      sha256,
      metrics: imageMetrics(volumes.get(level)!, ref, noiseFree, ph, masks, depth),
      noiseCorrelation: noiseCorrelation(volumes.get(level)!, noiseFree, brainMask, box.dims, d),
      prompts: prompts.get(level)!,
    };
  });
  timings.write = Date.now() - tWrite;
  timings.total = Date.now() - t0;
  return {
    id: patient.meta.id,
    recons,
    trues100,
    truesPerSlice100: trues100 / Math.max(1, expected.length),
    slices: expected.length,
    activityOutsideFov: headActivity > 0 ? lostActivity / headActivity : 0,
    timingsMs: timings,
  };
}

/** The body outline + 2 voxels: where the body is, and where image quality is measured. */
export function bodySupport(preset: CohortPreset, ph: Phantom): Uint8Array {
  const d = preset.grid.voxelMm;
  return dilate(ph.head, ph.box.dims, [d, d, d], 2 * d);
}

/**
 * The voxels OSEM reconstructs (expectVolume intersects them with the FOV circle): the body outline
 * + 2 voxels for 'body' (default), every voxel for 'fov' (the scanner's whole transaxial FOV, every slice).
 * `body` is the caller's bodySupport when it has one already.
 */
export function reconstructionSupport(preset: CohortPreset, ph: Phantom, body?: Uint8Array): Uint8Array {
  const mode = preset.reconSupport ?? 'body';
  if (mode === 'body') return body ?? bodySupport(preset, ph);
  if (mode === 'fov') return new Uint8Array(ph.head.length).fill(1);
  throw new Error(`reconstruction support must be one of ${RECON_SUPPORTS.join(', ')}, got ${JSON.stringify(mode)}`);
}

/** Mean depth of the patient's pattern over the pattern regions (severity x asymmetry x region weight). */
function patternDepth(ph: Phantom, patient: SyntheticPatient): number {
  const p = patient.phantom;
  if (p.adSeverity === 0) return 0;
  let s = 0, n = 0;
  for (let v = 0; v < ph.adWeight.length; v++) {
    if (ph.gm[v] >= 0.5 && ph.adWeight[v] >= 0.5) {
      s += ph.adWeight[v];
      n++;
    }
  }
  return (p.adSeverity * ((p.adAsymmetry[0] + p.adAsymmetry[1]) / 2) * s) / Math.max(1, n);
}

/** The box volume placed in the full zero-filled grid, as a Volume. */
function embed(boxData: Float32Array, ph: Phantom) {
  const { grid, box } = ph;
  const [gx, gy, gz] = grid.dims;
  const [bx, by, bz] = box.dims;
  const [ox, oy, oz] = box.offset;
  const data = new Float32Array(gx * gy * gz);
  for (let k = 0; k < bz; k++) {
    for (let j = 0; j < by; j++) {
      const src = bx * (j + by * k);
      data.set(boxData.subarray(src, src + bx), ox + gx * (oy + j + gy * (oz + k)));
    }
  }
  return {
    data,
    dims: grid.dims,
    voxelSize: [grid.voxelMm, grid.voxelMm, grid.voxelMm] as [number, number, number],
    affine: gridAffine(grid),
    units: 'Bq/ml',
  };
}
