/**
 * generateCohort: the synthetic cohort end to end (13 patients x 7 count levels, ratings on
 * 3 levels per patient, manifest and report), with patients simulated in worker threads.
 */
import * as fs from 'fs';
import * as path from 'path';
import { COHORT_SCHEMA_ID, type CohortManifest, type Reconstruction } from '../manifest/schema';
import { writeManifest } from '../manifest/load';
import { boxAverageTemplate, loadTemplateSet, TemplateSet } from '../phantom';
import { DEFAULT_ACQUISITION, DEFAULT_OSEM } from '../recon';
import { COUNT_LEVELS, METRICS } from '../types';
import { cohortDir } from '../records';
import { writeJsonAtomic } from '../util/files';
import { gitCommit, machineInfo } from '../util/provenance';
import { deriveSeed, Rng } from '../util/rng';
import { agreementStats, AgreementStats, chooseRatedLevels, drawPatientEffect, labelFromScores, rateImage, RatedScores, RatingModelConfig } from './raters';
import { CohortPreset, CohortPresetName, getPreset } from './presets';
import { syntheticPatients, PatientVariationConfig, SyntheticPatient } from './patients';
import { makeProjector, simulatePatient, SimulatedPatient } from './simulate';
import { measurePointSourceFwhm, type AxisFwhm, type NoiseCorrelation } from './resolution';
import type { CohortWorkerData, CohortWorkerProgress } from './worker';
import { defaultWorkerCount, mapInWorkers } from '../util/workers';

export interface GenerateCohortArgs {
  /** Preset name or a full preset. */
  preset: CohortPresetName | CohortPreset;
  /** Output folder. Default results/cohorts/<preset>. */
  outDir?: string;
  /** Seed of everything random (anatomy, noise, ratings, test patients). Default 1. */
  seed?: number;
  /** Worker threads. Default min(2, number of CPUs); 0 runs in the calling thread. */
  workers?: number;
  /** Template folder. Default assets/brain-template. */
  templateDir?: string;
  /** An already loaded template (loadTemplateSet), to skip reading the files again. */
  template?: TemplateSet;
  patients?: PatientVariationConfig;
  rating?: RatingModelConfig;
  /** Progress: done/total in slice units over the whole cohort, plus the phase. */
  onProgress?: (p: CohortProgress) => void;
}

export interface CohortProgress {
  phase: 'template' | 'simulate' | 'rate' | 'done';
  /** Fraction of the simulation done, 0..1. */
  fraction: number;
  patientsDone: number;
  patientsTotal: number;
  message: string;
}

/** Per count level, means over patients. */
export interface LevelRow {
  countPercent: number;
  /** WM noise (std of image - noise-free reconstruction, relative). */
  wmNoise: number;
  /** WM coefficient of variation of the image (noise + structure). */
  wmCoV: number;
  contrastRecovery: number;
  relativeContrast: number;
  gmMeanBqMl: number;
  wmMeanBqMl: number;
  gmWmRatio: number;
  regionalDeficitError: number;
  promptsPerSlice: number;
  latentGQR: number | null;
  meanLabel: Record<string, number> | null;
}

export interface CohortReport {
  schema: 'pet-iqa/cohort-report@1';
  preset: string;
  seed: number;
  levels: LevelRow[];
  agreement: AgreementStats;
  /** Expected true coincidences per simulated slice at 100 %, mean over patients; and the total. */
  truesPerSlice100: number;
  trues100PerPatient: number;
  activityOutsideFovMax: number;
  /**
   * Resolution and noise texture, in-plane (mean of x and y) and axial: the point-source FWHM of the
   * preset's chain (noise-free, warm background) and, per count level, the noise autocorrelation
   * in the brain (means over patients).
   */
  resolution: {
    pointSourceFwhmMm: AxisFwhm;
    noiseCorrelation: Array<{ countPercent: number; lag1: NoiseCorrelation['lag1']; fwhmMm: AxisFwhm }>;
  };
  timingsMs: Record<string, number>;
  workers: number;
  machine: ReturnType<typeof machineInfo>;
  gitCommit: string;
}

export interface CohortResult {
  outDir: string;
  manifestPath: string;
  reportPath: string;
  manifest: CohortManifest;
  report: CohortReport;
  patients: SimulatedPatient[];
}

export async function generateCohort(args: GenerateCohortArgs): Promise<CohortResult> {
  const preset = typeof args.preset === 'string' ? getPreset(args.preset) : args.preset;
  const seed = args.seed ?? 1;
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`generateCohort: seed must be a non-negative integer, got ${seed}`);
  const outDir = path.resolve(args.outDir ?? cohortDir(preset.name));
  const nWorkers = args.workers ?? defaultWorkerCount();
  const progress = args.onProgress ?? (() => undefined);
  const t0 = Date.now();
  const timings: Record<string, number> = {};
  fs.mkdirSync(outDir, { recursive: true });
  // A stale manifest must never describe volumes that are being rewritten.
  fs.rmSync(path.join(outDir, 'manifest.json'), { force: true });

  progress({ phase: 'template', fraction: 0, patientsDone: 0, patientsTotal: 13, message: 'loading the brain template' });
  const raw = args.template ?? loadTemplateSet({ dir: args.templateDir });
  const template = boxAverageTemplate(raw, preset.grid.voxelMm, nWorkers > 0);
  timings.template = Date.now() - t0;

  const patients = syntheticPatients(seed, args.patients);
  const levels = [...COUNT_LEVELS];
  const tSim = Date.now();
  const fractions = new Map<string, number>();
  let doneCount = 0;
  const report = (id: string, f: number) => {
    fractions.set(id, f);
    let s = 0;
    for (const v of fractions.values()) s += v;
    progress({ phase: 'simulate', fraction: s / patients.length, patientsDone: doneCount, patientsTotal: patients.length, message: `patient ${id}` });
  };
  let simulated: SimulatedPatient[];
  const patientDone = (id: string) => {
    doneCount++;
    report(id, 1);
  };
  if (nWorkers === 0) {
    const projector = makeProjector(preset);
    simulated = patients.map((p) => {
      const r = simulatePatient({ template, preset, patient: p, seed, outDir, levels, projector, onSlice: (d, t) => report(p.meta.id, d / t) });
      patientDone(p.meta.id);
      return r;
    });
  } else {
    // Patients go to the workers as they become free; results come back in patient order.
    simulated = await mapInWorkers<SyntheticPatient, SimulatedPatient, CohortWorkerProgress>(path.join(__dirname, 'worker.ts'), patients, {
      workers: nWorkers,
      workerData: { template, preset, seed, outDir, levels } satisfies CohortWorkerData,
      onProgress: ({ done, total }, i) => report(patients[i].meta.id, done / total),
      onResult: (_r, i) => patientDone(patients[i].meta.id),
      taskName: (p) => `generateCohort: patient ${p.meta.id} failed in a worker`,
    });
  }
  timings.simulate = Date.now() - tSim;

  progress({ phase: 'rate', fraction: 1, patientsDone: patients.length, patientsTotal: patients.length, message: 'rating' });
  const byId = new Map(simulated.map((s) => [s.id, s]));
  const rated: RatedScores[] = [];
  const latentByLevel = new Map<number, number[]>();
  const labelsByLevel = new Map<number, Array<Record<string, number>>>();
  const reconstructions: Reconstruction[] = [];
  for (const p of patients) {
    const sim = byId.get(p.meta.id)!;
    const ratedLevels = chooseRatedLevels(new Rng(deriveSeed(seed, 'rated-levels', p.meta.id)));
    const patientEffect = drawPatientEffect(new Rng(deriveSeed(seed, 'patient-effect', p.meta.id)), args.rating);
    for (const r of [...sim.recons].sort((a, b) => a.countPercent - b.countPercent)) {
      const rec: Reconstruction = { id: r.id, patient: p.meta.id, countPercent: r.countPercent, path: r.path, sha256: r.sha256, units: 'Bq/ml' };
      if (ratedLevels.includes(r.countPercent)) {
        const s = rateImage(r.metrics, new Rng(deriveSeed(seed, 'ratings', p.meta.id, r.countPercent)), args.rating, patientEffect);
        rated.push(s);
        rec.ratings = s.ratings.map((x) => ({ rater: x.rater, GQR: x.GQR, PR: x.PR, DC: x.DC }));
        if (s.consensus) rec.consensus = { ...s.consensus };
        const arr = latentByLevel.get(r.countPercent) ?? [];
        arr.push(s.latent.GQR);
        latentByLevel.set(r.countPercent, arr);
        const lab = labelsByLevel.get(r.countPercent) ?? [];
        lab.push({ ...labelFromScores(s) });
        labelsByLevel.set(r.countPercent, lab);
      }
      reconstructions.push(rec);
    }
  }
  const ids = patients.map((p) => p.meta.id);
  const testDraw = new Set(new Rng(deriveSeed(seed, 'test-patients')).sample(ids, 3));
  const manifest: CohortManifest = {
    schema: COHORT_SCHEMA_ID,
    name: `synthetic-${preset.name}`,
    synthetic: true,
    description:
      `SYNTHETIC cohort (pet-iqa ${preset.name} preset, seed ${seed}): digital FDG brain phantoms from the ICBM 2009c template ` +
      `with the Table I demographics, head, neck and shoulders in the field of view, slice-wise projection with radial and axial detector blur, OSEM ${(preset.osem?.iterations ?? DEFAULT_OSEM.iterations)} it x ` +
      `${(preset.osem?.subsets ?? DEFAULT_OSEM.subsets)} subsets, ${preset.postFilterFwhmMm} mm post-filter, ${preset.grid.dims.join('x')} voxels of ${preset.grid.voxelMm} mm; ` +
      'ratings by two simulated raters (see docs/synthetic-cohort.md). Not patient data.',
    raters: ['A', 'B'],
    patients: patients.map((p) => p.meta),
    reconstructions,
    testPatients: ids.filter((id) => testDraw.has(id)),
  };
  const manifestPath = path.join(outDir, 'manifest.json');
  writeManifest(manifestPath, manifest, { checkFiles: true });

  const mean = (xs: number[]) => xs.reduce((s, v) => s + v, 0) / Math.max(1, xs.length);
  const rows: LevelRow[] = levels.map((level) => {
    const rs = simulated.map((s) => s.recons.find((r) => r.countPercent === level)!);
    const labs = labelsByLevel.get(level);
    return {
      countPercent: level,
      wmNoise: mean(rs.map((r) => r.metrics.wmNoise)),
      wmCoV: mean(rs.map((r) => r.metrics.wmCoV)),
      contrastRecovery: mean(rs.map((r) => r.metrics.contrastRecovery)),
      relativeContrast: mean(rs.map((r) => r.metrics.relativeContrast)),
      gmMeanBqMl: mean(rs.map((r) => r.metrics.gmMean)),
      wmMeanBqMl: mean(rs.map((r) => r.metrics.wmMean)),
      gmWmRatio: mean(rs.map((r) => r.metrics.gmMean / r.metrics.wmMean)),
      regionalDeficitError: mean(rs.map((r) => r.metrics.deficitError)),
      promptsPerSlice: mean(simulated.map((s, i) => rs[i].prompts / s.slices)),
      latentGQR: latentByLevel.has(level) ? mean(latentByLevel.get(level)!) : null,
      meanLabel: labs ? Object.fromEntries(METRICS.map((m) => [m, mean(labs.map((l) => l[m]))])) : null,
    };
  });
  const tRes = Date.now();
  const pointSourceFwhmMm = measurePointSourceFwhm(preset);
  timings.resolution = Date.now() - tRes;
  // A patient whose noise is uncorrelated along an axis (lag-1 <= 0, as along z on the smoke grid) has no
  // width there (NaN); the mean is over the patients that have one, NaN only when none has.
  const meanFinite = (v: number[]) => {
    const finite = v.filter(Number.isFinite);
    return finite.length > 0 ? mean(finite) : NaN;
  };
  const meanAxes = <T extends object>(xs: T[]): T =>
    Object.fromEntries(Object.keys(xs[0]).map((k) => [k, meanFinite(xs.map((x) => (x as Record<string, number>)[k]))])) as T;
  const noiseRows = levels.map((level) => {
    const nc = simulated.map((s) => s.recons.find((r) => r.countPercent === level)!.noiseCorrelation);
    return { countPercent: level, lag1: meanAxes(nc.map((c) => c.lag1)), fwhmMm: meanAxes(nc.map((c) => c.fwhmMm)) };
  });
  timings.total = Date.now() - t0;
  const cohortReport: CohortReport = {
    schema: 'pet-iqa/cohort-report@1',
    preset: preset.name,
    seed,
    levels: rows,
    agreement: agreementStats(rated),
    truesPerSlice100: mean(simulated.map((s) => s.truesPerSlice100)),
    trues100PerPatient: mean(simulated.map((s) => s.trues100)),
    activityOutsideFovMax: Math.max(...simulated.map((s) => s.activityOutsideFov)),
    resolution: { pointSourceFwhmMm, noiseCorrelation: noiseRows },
    timingsMs: timings,
    workers: nWorkers,
    machine: machineInfo(),
    gitCommit: gitCommit(),
  };
  const reportPath = path.join(outDir, 'cohort-report.json');
  writeJsonAtomic(reportPath, {
    ...cohortReport,
    acquisition: { ...DEFAULT_ACQUISITION, ...preset.acquisition },
    osem: { ...DEFAULT_OSEM, ...preset.osem },
    reconSupport: preset.reconSupport ?? 'body',
    fovMm: preset.fovSide * preset.grid.voxelMm,
    patients: simulated.map((s) => ({
      id: s.id,
      slices: s.slices,
      trues100: s.trues100,
      activityOutsideFov: s.activityOutsideFov,
      timingsMs: s.timingsMs,
      recons: s.recons.map((r) => ({ id: r.id, countPercent: r.countPercent, prompts: r.prompts, metrics: r.metrics, noiseCorrelation: r.noiseCorrelation })),
    })),
  });
  progress({ phase: 'done', fraction: 1, patientsDone: patients.length, patientsTotal: patients.length, message: 'done' });
  return { outDir, manifestPath, reportPath, manifest, report: cohortReport, patients: simulated };
}
