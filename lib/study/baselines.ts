/**
 * The reference predictors (lib/baselines) on exactly the study's splits: for every distinct
 * (kind, fold, n) of the planned runs (the fold grid, the ensemble's fold, the partial run's fold)
 * a constant predictor and a handcrafted-feature ridge regression, written as baseline records
 * `<out>/baselines/<id>.json`. Cheap: the feature matrix is computed once per patch set and cached.
 */
import * as fs from 'fs';
import * as path from 'path';
import { HANDCRAFTED_FEATURE_NAMES, fitConstant, fitRidgeSelected, handcraftedFeatureMatrix, predictConstant, predictRidge, type Matrix } from '../baselines';
import { BASELINE_RECORD_SCHEMA, ResultsDir, compareById, cacheDir as resultsCacheDir, tryReadBaselineRecord, type BaselinePredictor, type BaselineRecord } from '../records';
import { subsetIndices } from '../patches/dataset';
import { evaluateRun } from '../train/evaluate';
import { stableStringify, writeFileAtomic, writeJsonAtomic } from '../util/files';
import { volumeIdsOf, type DataProvenance, type StudyDataset } from './data';
import type { RunSpec } from './plan';

/** Bumped when the handcrafted features change, so cached matrices are not reused. */
const HANDCRAFTED_CACHE_VERSION = 1;

/** One split of the study the baselines are fitted on. */
export type BaselineSplit = Pick<RunSpec, 'kind' | 'fold' | 'n' | 'trainPatients' | 'validationPatients' | 'testPatients'>;

/** The distinct splits of a run plan (one per kind, fold and n; repeats and backbones share them). */
export function baselineSplits(plan: readonly RunSpec[]): BaselineSplit[] {
  const seen = new Map<string, BaselineSplit>();
  for (const r of plan) {
    const k = `${r.kind}|${r.fold}|${r.n}`;
    const split = { kind: r.kind, fold: r.fold, n: r.n, trainPatients: r.trainPatients, validationPatients: r.validationPatients, testPatients: r.testPatients };
    const old = seen.get(k);
    if (old && stableStringify(old) !== stableStringify(split)) throw new Error(`baselines: runs of ${k} disagree on their patients`);
    seen.set(k, split);
  }
  return [...seen.values()];
}

/** `baseline__handcrafted-ridge__fold3__n4`, `baseline__constant__ensemble__fold0__n8`. */
export function baselineId(predictor: BaselinePredictor, s: Pick<BaselineSplit, 'kind' | 'fold' | 'n'>): string {
  return ['baseline', predictor, ...(s.kind === 'ensemble' ? ['ensemble'] : []), `fold${s.fold}`, `n${s.n}`].join('__');
}

/**
 * The handcrafted feature matrix of a patch set, cached as `<cacheDir>/<patchSetHash>.hc<v>.f64`
 * (float64, rows x features, little-endian) with a JSON sidecar naming the features.
 */
export function handcraftedMatrixOf(ds: StudyDataset, cacheDir: string | null = resultsCacheDir('baselines')): Matrix {
  const dim = HANDCRAFTED_FEATURE_NAMES.length;
  const base = cacheDir ? path.join(cacheDir, `${ds.key}.hc${HANDCRAFTED_CACHE_VERSION}`) : undefined;
  if (base && fs.existsSync(`${base}.json`) && fs.existsSync(`${base}.f64`)) {
    const side = JSON.parse(fs.readFileSync(`${base}.json`, 'utf8')) as { rows?: number; features?: string[] };
    const buf = fs.readFileSync(`${base}.f64`);
    if (side.rows === ds.count && stableStringify(side.features) === stableStringify(HANDCRAFTED_FEATURE_NAMES) && buf.byteLength === ds.count * dim * 8) {
      const data = new Float64Array(ds.count * dim);
      new Uint8Array(data.buffer).set(buf);
      return { data, rows: ds.count, dim };
    }
  }
  const m = handcraftedFeatureMatrix(ds.patches, ds.size, ds.count);
  if (base) {
    writeFileAtomic(`${base}.f64`, new Uint8Array(m.data.buffer, m.data.byteOffset, m.data.byteLength));
    writeJsonAtomic(`${base}.json`, { patchSetHash: ds.key, rows: ds.count, dim, dtype: 'float64', order: 'row-major', features: HANDCRAFTED_FEATURE_NAMES });
  }
  return m;
}

export interface BaselineArgs {
  /** Results folder. */
  out: string;
  /** The study's planned runs (all of them, not a shard's): their splits are the baselines' splits. */
  plan: readonly RunSpec[];
  ds: StudyDataset;
  data: DataProvenance;
  preset: string;
  gitCommit: string;
  machine: Record<string, unknown>;
  /** Feature-matrix cache; null disables. Default results/cache/baselines. */
  cacheDir?: string | null;
  log?: (line: string) => void;
}

/** Fits and writes the missing baseline records; returns every valid baseline record of the plan's splits. */
export function writeBaselines(args: BaselineArgs): BaselineRecord[] {
  const log = args.log ?? (() => undefined);
  const dir = new ResultsDir(args.out);
  const splits = baselineSplits(args.plan);
  const out: BaselineRecord[] = [];
  let x: Matrix | undefined;
  let written = 0;
  const labels: Matrix = { data: args.ds.labels, rows: args.ds.count, dim: 3 };
  const volumes = volumeIdsOf(args.ds);
  for (const split of splits) {
    for (const predictor of ['constant', 'handcrafted-ridge'] as const) {
      const id = baselineId(predictor, split);
      const file = dir.baselineRecord(id);
      const old = tryReadBaselineRecord(file, (m) => log(`${m}; refitted`));
      if (old && old.provenance.data.patchSetHash === args.data.patchSetHash) {
        out.push(old);
        continue;
      }
      const startedAt = new Date().toISOString();
      const t0 = performance.now();
      const train = subsetIndices(args.ds, split.trainPatients);
      const validation = subsetIndices(args.ds, split.validationPatients);
      const test = subsetIndices(args.ds, split.testPatients);
      let predict: (rows: ArrayLike<number>) => Float32Array;
      let model: Record<string, unknown>;
      if (predictor === 'constant') {
        const c = fitConstant(labels, train);
        predict = (rows) => predictConstant(c, rows.length);
        model = { value: { GQR: c[0], PR: c[1], DC: c[2] } };
      } else {
        x ??= handcraftedMatrixOf(args.ds, args.cacheDir);
        const sel = fitRidgeSelected(x, labels, train, validation);
        predict = (rows) => predictRidge(sel.model, x!, rows);
        model = { features: HANDCRAFTED_FEATURE_NAMES, lambda: sel.model.lambda, validationPath: sel.path, weights: sel.model.weights, intercept: sel.model.intercept };
      }
      const predictions = { train: predict(train), validation: predict(validation), test: predict(test) };
      let mse = 0;
      Array.from(validation).forEach((r, i) => {
        for (let m = 0; m < 3; m++) mse += (predictions.validation[i * 3 + m] - labels.data[r * 3 + m]) ** 2;
      });
      const metrics = evaluateRun({ labels: args.ds.labels, train, validation, test, predictions, keptEpoch: 0, minValLoss: mse / (validation.length * 3), volumes });
      const record: BaselineRecord = {
        schema: BASELINE_RECORD_SCHEMA,
        id,
        predictor,
        ...split,
        metrics,
        model,
        timings: { totalSeconds: (performance.now() - t0) / 1000 },
        provenance: {
          data: args.data,
          preset: args.preset,
          config: { trainCount: train.length, validationCount: validation.length, testCount: test.length, ...(predictor === 'handcrafted-ridge' ? { penaltyChosenOn: 'validation MSE', standardised: true, interceptPenalised: false } : {}) },
          gitCommit: args.gitCommit,
          startedAt,
          finishedAt: new Date().toISOString(),
          machine: args.machine,
        },
      };
      writeJsonAtomic(file, record);
      out.push(record);
      written++;
    }
  }
  if (written) log(`baselines: ${written} record(s) written (constant and handcrafted ridge on ${splits.length} split(s)) in ${dir.baselines}`);
  return out;
}

/** Every valid baseline record of a results folder, sorted by id; invalid ones are reported and left out. */
export function readBaselines(out: string, onInvalid: (message: string) => void = (m) => process.stderr.write(`${m}; left out\n`)): BaselineRecord[] {
  return new ResultsDir(out)
    .baselineRecordFiles()
    .map((f) => tryReadBaselineRecord(f, onInvalid))
    .filter((r): r is BaselineRecord => r !== undefined)
    .sort(compareById);
}
