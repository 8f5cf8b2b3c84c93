import * as path from 'path';
import { BACKBONES, BACKBONE_NAMES } from '../backbones/registry';
import type { StudyDesign } from '../design/design';
import { METRICS, type MetricTriple, type Regime, type RunRecord } from '../types';
import { Rng, deriveSeed } from '../util/rng';
import { writeJsonAtomic } from '../util/files';
import { writeNifti } from '../io/nifti';
import { RUN_RECORD_SCHEMA, ResultsDir } from '../records';

/**
 * Plausible, clearly fake results for developing and testing the figures without training:
 * a U-shape of test MAE in trainable parameters, ResNet50/ResNet152 failing (MAE near the
 * random-label level, CoV near 0), more patients helping. Every record says `preset: 'fake'`.
 */
export interface FakeResultsOptions {
  seed?: number;
  backbones?: readonly string[];
  folds?: number;
  sizes?: number[];
  repeats?: number;
  /** Ids of runs to leave out, to exercise the "missing runs" paths. */
  drop?: (run: RunRecord) => boolean;
  /** Backbones that fail to train. Default ResNet50 and ResNet152, as in the paper. */
  failing?: readonly string[];
}

const PATIENTS = Array.from({ length: 13 }, (_, i) => `P${String(i + 1).padStart(2, '0')}`);

/** Plausible partial-regime trainable counts: ~40 % of a backbone's weights, by Table II size. */
function fakePartialParams(name: string): number {
  const frozen = (BACKBONES as Record<string, { tableIITrainable: number; layers: number }>)[name]?.tableIITrainable ?? 10000;
  const layers = (BACKBONES as Record<string, { layers: number }>)[name]?.layers ?? 200;
  return Math.round(frozen + Math.max(layers, 20) * 40_000 * (name.startsWith('VGG') ? 8 : 1));
}

export function makeFakeRuns(opts: FakeResultsOptions = {}): { runs: RunRecord[]; design: StudyDesign } {
  const seed = opts.seed ?? 1;
  const backbones = opts.backbones ?? BACKBONE_NAMES;
  const folds = opts.folds ?? 6;
  const sizes = opts.sizes ?? [1, 4, 8];
  const repeats = opts.repeats ?? 5;
  const failing = new Set(opts.failing ?? ['ResNet50', 'ResNet152']);
  const test = PATIENTS.slice(0, 3);
  const pool = PATIENTS.slice(3);
  const design: StudyDesign = {
    schema: 'pet-iqa/design@1',
    seed,
    config: { seed, testCount: 3, folds, validationSize: 2, trainingSizes: sizes, ensembleRepeats: repeats, ensembleFold: 0 },
    patients: PATIENTS.slice(),
    testPatients: test,
    testSource: 'seeded',
    folds: Array.from({ length: folds }, (_, f) => {
      const validation = [pool[(2 * f) % pool.length], pool[(2 * f + 1) % pool.length]];
      const trainingPool = pool.filter((p) => !validation.includes(p));
      return { fold: f, validation, trainingPool, training: Object.fromEntries(sizes.map((n) => [String(n), trainingPool.slice(0, n)])) };
    }),
    trainingSizes: sizes.slice(),
    ensemble: { fold: 0, repeats, sizes: sizes.slice() },
  };

  const runs: RunRecord[] = [];
  const make = (backbone: string, regime: Regime, kind: 'fold' | 'ensemble', fold: number, n: number, repeat: number): RunRecord => {
    const rng = new Rng(deriveSeed(seed, backbone, regime, kind, fold, n, repeat));
    const frozenParams = (BACKBONES as Record<string, { tableIITrainable: number }>)[backbone]?.tableIITrainable ?? 10000;
    const params = regime === 'frozen' ? frozenParams : fakePartialParams(backbone);
    const failed = regime === 'frozen' && failing.has(backbone);
    // U-shape in log-params around ~12k, better with more patients, better when partly unfrozen.
    const u = Math.pow(Math.log10(frozenParams) - 4.1, 2) * 0.5;
    const base = failed ? 1.3 : 0.45 + u + 0.35 / Math.sqrt(n) - (regime === 'partial' ? 0.12 : 0);
    const noisy = (m: number, s: number) => Math.max(0.05, m + rng.normal(0, s));
    const triple = (m: number, s: number): MetricTriple & { overall: number } => {
      const t = { GQR: noisy(m, s), PR: noisy(m, s), DC: noisy(m, s) };
      return { ...t, overall: (t.GQR + t.PR + t.DC) / 3 };
    };
    const testMAE = triple(base, failed ? 0.04 : 0.06);
    const trainMAE = triple(failed ? 1.28 : base * 0.75, 0.04);
    const valMAE = triple(base * 0.95, 0.05);
    const cov: MetricTriple = { GQR: 0, PR: 0, DC: 0 };
    for (const m of METRICS) cov[m] = failed ? Math.abs(rng.normal(0, 0.005)) : Math.max(0, 0.18 + 0.04 * Math.log(n + 1) + rng.normal(0, 0.03));
    const epochs = 12;
    const history = Array.from({ length: epochs }, (_, e) => ({
      epoch: e + 1,
      loss: noisy((failed ? 2.0 : 0.3 + 1.5 * Math.exp(-e / 3)), 0.03),
      valLoss: noisy((failed ? 2.1 : 0.45 + 1.5 * Math.exp(-e / 3)), 0.05),
    }));
    const kept = history.reduce((a, b) => (b.valLoss < a.valLoss ? b : a));
    const f = design.folds[fold];
    return {
      schema: RUN_RECORD_SCHEMA,
      id: `${regime}__${backbone}__fold${fold}__n${n}__rep${repeat}${kind === 'ensemble' ? '__ens' : ''}`,
      backbone,
      regime,
      kind,
      fold,
      n,
      repeat,
      seed: deriveSeed(seed, backbone, fold, n, repeat),
      trainPatients: f.training[String(n)],
      validationPatients: f.validation,
      testPatients: test,
      trainableParams: params,
      metrics: {
        keptEpoch: kept.epoch,
        minValLoss: kept.valLoss,
        trainMAE,
        valMAE,
        testMAE,
        testCoV: cov,
        // Averaging a volume's patches removes part of the patch-level scatter.
        volumeMAE: {
          train: { ...triple(failed ? 1.25 : base * 0.6, 0.04), volumes: 7 * n },
          validation: { ...triple(base * 0.8, 0.05), volumes: 14 },
          test: { ...triple(failed ? 1.28 : base * 0.8, 0.05), volumes: 21 },
        },
        randomLabelMAE: 1.3 + rng.normal(0, 0.02),
        failedToTrain: failed,
        failReason: failed ? 'training MAE stayed near the random-label MAE' : undefined,
      },
      history,
      timings: { trainSeconds: 1 },
      provenance: {
        backend: 'fake',
        weights: { kind: 'random init', seed },
        data: { kind: 'synthetic', manifest: 'fake', manifestSha256: 'fake', patchSetHash: 'fake' },
        preset: 'fake',
        config: {},
        gitCommit: 'fake',
        startedAt: '2026-01-01T00:00:00Z',
        finishedAt: '2026-01-01T00:00:01Z',
        machine: {},
      },
    };
  };
  const maxN = Math.max(...sizes);
  for (const b of backbones) {
    for (let f = 0; f < folds; f++) for (const n of sizes) runs.push(make(b, 'frozen', 'fold', f, n, 0));
    for (let r = 0; r < repeats; r++) for (const n of sizes) runs.push(make(b, 'frozen', 'ensemble', 0, n, r));
    runs.push(make(b, 'partial', 'fold', 0, maxN, 0));
  }
  return { runs: opts.drop ? runs.filter((r) => !opts.drop!(r)) : runs, design };
}

/** Writes fake results as `<dir>/runs/*.json` and `<dir>/design.json`, like the study runner. */
export function writeFakeResults(dir: string, opts: FakeResultsOptions = {}): { runs: RunRecord[]; design: StudyDesign } {
  const out = makeFakeRuns(opts);
  const results = new ResultsDir(dir);
  for (const r of out.runs) writeJsonAtomic(results.runRecord(r.id), r);
  writeJsonAtomic(results.design, out.design);
  return out;
}

/**
 * A small fake head at the given count level: an ellipse of grey matter with a hotter cortical rim,
 * with noise that grows as counts fall (Poisson-like, std ~ sqrt(mean / counts)). Bq/ml-like scale.
 */
export function fakeHeadVolume(dims: [number, number, number], countPercent: number, seed: number): import('../types').Volume {
  const [nx, ny, nz] = dims;
  const rng = new Rng(deriveSeed(seed, 'head', countPercent));
  const data = new Float32Array(nx * ny * nz);
  const counts = 2000 * (countPercent / 100); // expected events per voxel-ish at the peak
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const x = (i - nx / 2) / (nx * 0.38);
        const y = (j - ny / 2) / (ny * 0.45);
        const z = (k - nz / 2) / (nz * 0.5);
        const r = Math.sqrt(x * x + y * y + z * z);
        let mean = 0;
        if (r < 1) mean = 8000 + (r > 0.8 ? 9000 : 0) + 3000 * Math.exp(-((x - 0.2) ** 2 + y * y) * 20);
        if (mean === 0) continue;
        const lam = (mean / 17000) * counts;
        const noisy = Math.max(0, rng.normal(lam, Math.sqrt(lam))) / Math.max(counts, 1e-9) * 17000;
        data[i + nx * (j + ny * k)] = noisy;
      }
    }
  }
  return { data, dims, voxelSize: [2.09, 2.09, 2.09], affine: [[2.09, 0, 0, 0], [0, 2.09, 0, 0], [0, 0, 2.09, 0], [0, 0, 0, 1]], units: 'Bq/ml' };
}

/**
 * Writes a tiny fake cohort (manifest.json + NIfTI volumes, documented manifest shape) for
 * developing Table I and Fig. 1 without lib/cohort: `patients` patients x 7 count levels.
 */
export function writeFakeCohort(dir: string, opts: { seed?: number; patients?: number; dims?: [number, number, number] } = {}): string {
  const seed = opts.seed ?? 1;
  const rng = new Rng(deriveSeed(seed, 'demographics'));
  const dims = opts.dims ?? [48, 56, 12];
  const patients = PATIENTS.slice(0, opts.patients ?? 13).map((id) => ({
    id,
    sex: rng.next() < 0.5 ? 'F' : 'M',
    age: Math.round(rng.uniform(43, 77)),
    weightKg: Math.round(rng.uniform(51, 103)),
    injectedMBq: Math.round(rng.uniform(190, 246) * 100) / 100,
  }));
  const reconstructions: unknown[] = [];
  for (const p of patients) {
    for (const c of [0.5, 1, 5, 10, 25, 50, 100]) {
      const rel = `volumes/${p.id}_${c}pct.nii.gz`;
      writeNifti(path.join(dir, rel), fakeHeadVolume(dims, c, deriveSeed(seed, p.id)));
      reconstructions.push({ id: `${p.id}_${c}`, patient: p.id, countPercent: c, path: rel, units: 'Bq/ml' });
    }
  }
  const manifest = path.join(dir, 'manifest.json');
  writeJsonAtomic(manifest, { schema: 'pet-iqa/cohort@1', name: 'fake', synthetic: true, patients, reconstructions });
  return manifest;
}
