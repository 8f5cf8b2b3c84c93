/**
 * An honest plan before a long sweep: the runs per regime and backbone of a preset and the hours
 * they should take on a backend, from the bench's own timings (`npm run -s bench -- --save` writes
 * results/bench/<backend>.json), else from reference timings measured on the 2-core development
 * machine (docs/performance.md). No data, cohort or model is touched.
 */
import * as fs from 'fs';
import * as path from 'path';
import { BACKBONES, type BackboneName } from '../backbones/registry';
import type { Regime } from '../types';
import { projectRoot } from '../util/files';
import type { StudyPreset } from './presets';

/** Reconstructions rated per patient (3 count levels) x sampling planes (3): patches per patient = 9 x keep. */
const PATCH_GROUPS_PER_PATIENT = 9;
/** Patients in every cohort preset. */
const PATIENTS = 13;

/** Timings a plan is computed from (what `npm run bench -- --save` records). */
export interface BenchTimings {
  /** Where they come from: a bench file, or the reference measurement. */
  source: string;
  /** tf.getBackend() they were measured on. */
  backend: string;
  /**
   * Head training (frozen regime): seconds of one core per epoch per (row x Flatten feature), training
   * and validation rows, with the workers training heads side by side as the study does.
   */
  headSecondsPerRowFeature: number;
  /** Head training: seconds per epoch per row whatever its size (the part small heads feel). Default 0. */
  headSecondsPerRow?: number;
  /** Frozen-backbone inference, images per second per worker, by backbone (others: the mean). */
  inferenceImagesPerSecond: Partial<Record<BackboneName, number>>;
  /** Partial regime: seconds of one batch-10 step of the trainable suffix, by backbone (others: the mean). */
  partialStepSeconds: Partial<Record<BackboneName, number>>;
}

/**
 * Reference timings of the 2-core development machine (AMD EPYC, Node 20; docs/performance.md), from
 * `npm run -s bench -- --save` on an idle machine (load average < 2), 2026-12-06, with native inference
 * and partial steps as one TensorFlow graph each: inference in images per CPU-second of one worker,
 * partial steps in CPU seconds. The head's costs (fitHeadCost) are from head epochs timed in 2 workers
 * side by side, as the study runs them (the same wasm head kernel on both backends: the difference is
 * the spread between runs; native: the mean of two bench runs).
 */
export const REFERENCE_TIMINGS: Record<'wasm' | 'tensorflow', BenchTimings> = {
  wasm: {
    source: 'reference: docs/performance.md (wasm, 2 cores, idle, 2026-12-06)',
    backend: 'wasm',
    headSecondsPerRowFeature: 3.75e-10,
    headSecondsPerRow: 1.11e-7,
    inferenceImagesPerSecond: { ResNet50: 51.3, DenseNet121: 69.9, MobileNetV2: 501.6 },
    partialStepSeconds: { ResNet50: 1.04, DenseNet121: 0.25, MobileNetV2: 0.146 },
  },
  tensorflow: {
    source: 'reference: docs/performance.md (native TensorFlow 2.21 CPU, 2 cores, idle, 2026-12-06)',
    backend: 'tensorflow',
    headSecondsPerRowFeature: 3.68e-10,
    headSecondsPerRow: 2.15e-7,
    inferenceImagesPerSecond: { ResNet50: 182.0, DenseNet121: 202.7, MobileNetV2: 884.5 },
    partialStepSeconds: { ResNet50: 0.501, DenseNet121: 0.0942, MobileNetV2: 0.0487 },
  },
};

/** Flatten size of a backbone's output at 80 x 80 (Table II's count is 3 x Flatten + 3). */
export function flattenSize(name: BackboneName): number {
  return (BACKBONES[name].tableIITrainable - 3) / 3;
}

const PAPER_LIKE = { folds: 6, trainingSizes: [1, 4, 8], ensembleRepeats: 5, validationSize: 2, keep: 100 };
/**
 * The head's cost per row and epoch as perRow + perRowFeature x Flatten, fitted (least squares, each
 * Flatten size weighted by its backbones in the study) to a bench's measured seconds per row and
 * epoch of the paper's frozen runs at each Flatten size.
 */
export function fitHeadCost(samples: ReadonlyArray<{ dim: number; secondsPerRowEpoch: number }>): { perRow: number; perRowFeature: number } {
  const weight = (dim: number) => (Object.keys(BACKBONES) as BackboneName[]).filter((b) => flattenSize(b) === dim).length || 1;
  let sw = 0;
  let sx = 0;
  let sy = 0;
  let sxx = 0;
  let sxy = 0;
  for (const { dim, secondsPerRowEpoch: y } of samples) {
    const w = weight(dim);
    sw += w;
    sx += w * dim;
    sy += w * y;
    sxx += w * dim * dim;
    sxy += w * dim * y;
  }
  const det = sw * sxx - sx * sx;
  if (samples.length < 2 || !(det > 0)) throw new Error('fitHeadCost: needs timings at two or more Flatten sizes');
  const perRowFeature = (sw * sxy - sx * sy) / det;
  return { perRow: (sy - perRowFeature * sx) / sw, perRowFeature };
}

/** Row-epochs of one backbone's frozen runs in the paper's design (1000 epochs): the unit fitHeadCost's samples are in. */
export function paperFrozenRowEpochs(): number {
  return 1000 * frozenRowsPerBackbone(PAPER_LIKE);
}

/** Training + validation rows summed over one backbone's frozen runs (one epoch each). */
function frozenRowsPerBackbone(d: { folds: number; trainingSizes: number[]; ensembleRepeats: number; validationSize: number; keep: number }): number {
  const perPatient = PATCH_GROUPS_PER_PATIENT * d.keep;
  const runs = d.trainingSizes.map((n) => (d.folds + d.ensembleRepeats) * (n + d.validationSize) * perPatient);
  return runs.reduce((a, b) => a + b, 0);
}
/** The bench's saved timings for a backend (results/bench/<backend>.json), else the reference ones. */
export function loadBenchTimings(backend: string, dir = path.join(projectRoot(), 'results', 'bench')): BenchTimings {
  const file = path.join(dir, `${backend}.json`);
  if (fs.existsSync(file)) {
    let t: BenchTimings;
    try {
      t = JSON.parse(fs.readFileSync(file, 'utf8')) as BenchTimings;
    } catch (e) {
      throw new Error(`${file}: not JSON (${(e as Error).message})`);
    }
    for (const field of ['headSecondsPerRowFeature', 'inferenceImagesPerSecond', 'partialStepSeconds'] as const) {
      if (t[field] === undefined) throw new Error(`${file}: field '${field}' is missing (re-run npm run -s bench -- --save)`);
    }
    return { ...t, source: file };
  }
  const ref = REFERENCE_TIMINGS[backend === 'tensorflow' ? 'tensorflow' : 'wasm'];
  return backend === 'tensorflow' || backend === 'wasm' ? ref : { ...ref, source: `${ref.source}; no timings for '${backend}', wasm's used` };
}

export interface PlanRow {
  backbone: BackboneName;
  regime: Regime;
  runs: number;
  /** Wall hours with `workers` workers, extraction included (frozen). */
  hours: number;
}

export interface StudyEstimate {
  preset: string;
  backend: string;
  workers: number;
  timingsSource: string;
  rows: PlanRow[];
  hoursByRegime: Partial<Record<Regime, number>>;
  totalHours: number;
  notes: string[];
}

export interface EstimateStudyArgs {
  preset: StudyPreset;
  backbones: readonly BackboneName[];
  regimes: readonly Regime[];
  /** Backend the sweep would use ('tensorflow', 'wasm', ...). */
  backend: string;
  /** Concurrent workers (runs in parallel). Default 2. */
  workers?: number;
  timings?: BenchTimings;
}

function byBackbone(table: Partial<Record<BackboneName, number>>, b: BackboneName): { value: number; measured: boolean } {
  const v = table[b];
  if (v !== undefined) return { value: v, measured: true };
  const all = Object.values(table).filter((x): x is number => typeof x === 'number');
  if (all.length === 0) throw new Error('estimate: the timings have no entries');
  return { value: all.reduce((a, c) => a + c, 0) / all.length, measured: false };
}

/** Runs per regime and backbone and their estimated hours. */
export function estimateStudy(args: EstimateStudyArgs): StudyEstimate {
  const workers = Math.max(1, args.workers ?? 2);
  const t = args.timings ?? loadBenchTimings(args.backend);
  const { preset } = args;
  // The documented defaults of DesignConfig, TrainConfig and the patch sampler.
  const d = {
    folds: preset.design.folds ?? 6,
    trainingSizes: preset.design.trainingSizes ?? [1, 4, 8],
    ensembleRepeats: preset.design.ensembleRepeats ?? 5,
    validationSize: preset.design.validationSize ?? 2,
    keep: preset.patches.keep ?? 100,
  };
  const frozenEpochs = preset.frozenTrain.epochs ?? 1000;
  const partialEpochs = preset.partialTrain.epochs ?? 1000;
  const perPatient = PATCH_GROUPS_PER_PATIENT * d.keep;
  // Cost scales with the input area relative to the 80 x 80 the timings are for.
  const area = (preset.patches.size / 80) ** 2;
  const rows: PlanRow[] = [];
  const estimatedFrom = new Set<string>();
  for (const b of args.backbones) {
    for (const regime of args.regimes) {
      if (regime === 'frozen') {
        const runs = (d.folds + d.ensembleRepeats) * d.trainingSizes.length;
        const dim = flattenSize(b) * area;
        const head = frozenEpochs * frozenRowsPerBackbone(d) * ((t.headSecondsPerRow ?? 0) + t.headSecondsPerRowFeature * dim);
        const rate = byBackbone(t.inferenceImagesPerSecond, b);
        if (!rate.measured) estimatedFrom.add(`${b} inference`);
        const extract = (PATIENTS * perPatient * area) / rate.value;
        rows.push({ backbone: b, regime, runs, hours: (head / workers + extract / workers) / 3600 });
      } else {
        const step = byBackbone(t.partialStepSeconds, b);
        if (!step.measured) estimatedFrom.add(`${b} partial step`);
        const rate = byBackbone(t.inferenceImagesPerSecond, b).value;
        const trainRows = preset.partial.n * perPatient;
        const valRows = d.validationSize * perPatient;
        const epoch = Math.ceil(trainRows / (preset.partialTrain.batchSize ?? 10)) * step.value * area + (valRows * area) / rate;
        // One run per backbone; runs of different backbones go to different workers.
        rows.push({ backbone: b, regime, runs: 1, hours: (partialEpochs * epoch) / workers / 3600 });
      }
    }
  }
  const hoursByRegime: Partial<Record<Regime, number>> = {};
  for (const r of rows) hoursByRegime[r.regime] = (hoursByRegime[r.regime] ?? 0) + r.hours;
  const notes = [
    `timings: ${t.source}`,
    'frozen: head epochs (CPU time per row and per row x Flatten feature) plus one feature extraction per backbone; partial: batch-10 suffix steps plus validation inference',
  ];
  if (estimatedFrom.size) {
    const names = [...new Set([...estimatedFrom].map((x) => x.split(' ')[0]))];
    notes.push(`${names.length} backbone(s) without timings of their own use the mean of the measured ones: ${names.join(', ')}`);
  }
  return { preset: preset.name, backend: args.backend, workers, timingsSource: t.source, rows, hoursByRegime, totalHours: rows.reduce((s, r) => s + r.hours, 0), notes };
}

/** The plan as text: one line per regime and backbone, totals, and where the timings come from. */
export function formatEstimate(e: StudyEstimate): string {
  const fmt = (h: number) => (h < 0.1 ? `${(h * 60).toFixed(1)} min` : `${h.toFixed(2)} h`);
  const lines = [`plan for preset '${e.preset}' on ${e.backend}, ${e.workers} worker(s):`, `  ${'regime'.padEnd(8)} ${'backbone'.padEnd(18)} ${'runs'.padStart(5)}  estimate`];
  for (const r of e.rows) lines.push(`  ${r.regime.padEnd(8)} ${r.backbone.padEnd(18)} ${String(r.runs).padStart(5)}  ${fmt(r.hours)}`);
  for (const [regime, h] of Object.entries(e.hoursByRegime)) {
    lines.push(`  ${regime} total: ${e.rows.filter((r) => r.regime === regime).reduce((s, r) => s + r.runs, 0)} runs, ${fmt(h)}`);
  }
  lines.push(`  all: ${e.rows.reduce((s, r) => s + r.runs, 0)} runs, ${fmt(e.totalHours)}`);
  for (const n of e.notes) lines.push(`  (${n})`);
  return lines.join('\n');
}
