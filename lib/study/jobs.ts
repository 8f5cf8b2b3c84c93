/**
 * The units of work of a sweep, run in a worker thread (or inline): feature/activation extraction
 * for a block of patches, and one training run (frozen head or partial suffix) ending in its record.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import type { InferenceFn } from '../accel/compile';
import { applyBatchNormStats } from '../backbones/calibrate';
import type { BackboneArgs } from '../backbones/common';
import { getBackboneSpec, type BackboneName } from '../backbones/registry';
import { subsetIndices, toBackboneInput } from '../patches/dataset';
import type { PreprocessingMode, RunRecord, WeightsProvenance } from '../types';
import { describeBackend } from '../backend/select';
import type { WeightsSource } from '../weights/source';
import { RUN_RECORD_SCHEMA, ResultsDir, tryReadRunRecord } from '../records';
import { writeJsonAtomic } from '../util/files';
import { loadBackboneWithWeights } from '../weights/backbone';
import { saveTfjsModel } from '../weights/tfjs';
import { compileFrozen, extractionModel, extractTargetTag, frozenLayerCount, saveHead, seededPartialSplit, type ExtractTarget } from '../transfer';
import { evaluateRun } from '../train/evaluate';
import { featureCacheKey, readFeatureCache, runRows, type FeatureCacheKeyArgs } from '../train/features';
import { predictHead, resolveTrainConfig, trainHead, type FeatureMatrix } from '../train/head';
import { predictRows, trainSuffix } from '../train/suffix';
import { loadStudyData, volumeIdsOf, type DataSource } from './data';
import type { RunSpec } from './plan';
import type { StudyPreset } from './presets';

/** Everything a worker needs, serialisable (sent as workerData). */
export interface StudyContext {
  out: string;
  preset: StudyPreset;
  /** Where the backbones' weights come from (resolved by the runner; workers load its provenance). */
  weights: WeightsSource;
  data: DataSource;
  /** Feature/activation cache folder. */
  cacheDir: string;
  /** Module exporting `buildBackbone(name, args)`; default lib/backbones. Tests pass a small double. */
  builderModule?: string;
  /** Backend to force in workers (default: lib/backend's choice). */
  backend?: string;
  gitCommit: string;
  machine: Record<string, unknown>;
  /** Random-init backbones get the BN statistics measured by the runner (`<out>/calibration/`). Default false here; the runner sets it. */
  calibrateRandomBN?: boolean;
}

export interface ExtractJob {
  type: 'extract';
  backbone: BackboneName;
  target: ExtractTarget;
  start: number;
  end: number;
}

export interface ExtractResult {
  /** Per model output, the rows [start, end). */
  arrays: FeatureMatrix[];
  shapes: number[][];
  rows: number;
  seconds: number;
}

export interface RunJob {
  type: 'run';
  spec: RunSpec;
}

export type Job = ExtractJob | RunJob;

type BuildFn = (name: BackboneName, args: BackboneArgs) => tf.LayersModel;

/** The context's backbone builder (builderModule), or undefined for lib/backbones' buildBackbone. */
export function builder(ctx: Pick<StudyContext, 'builderModule'>): BuildFn | undefined {
  if (!ctx.builderModule) return undefined;
  const mod = require(ctx.builderModule) as { buildBackbone?: BuildFn };
  if (typeof mod.buildBackbone !== 'function') throw new Error(`${ctx.builderModule} does not export buildBackbone`);
  return mod.buildBackbone;
}

/** Where a random-init backbone's calibrated BN statistics live, relative to the results (and model) folder. */
export function calibrationFile(backbone: BackboneName): string {
  return ResultsDir.calibrationFile(backbone);
}

/**
 * Loads a backbone with the context's weights; `provenance`, when given, is the main process'
 * resolution of them (nothing is found or hashed again). Warnings are the main process' job.
 * The random init's seed is one per study (the builders derive per-layer seeds from it).
 */
export async function loadBase(ctx: StudyContext, backbone: BackboneName, provenance?: WeightsProvenance): Promise<{ model: tf.LayersModel; provenance: WeightsProvenance }> {
  const loaded = await loadBackboneWithWeights(backbone, {
    weights: ctx.weights,
    inputSize: ctx.preset.patches.size,
    seed: ctx.preset.seed,
    build: builder(ctx),
    warn: () => undefined,
    provenance,
  });
  if (loaded.provenance.kind === 'random init' && ctx.calibrateRandomBN) {
    const file = path.join(ctx.out, calibrationFile(backbone));
    if (!fs.existsSync(file)) throw new Error(`${file}: calibrated BatchNormalization statistics of random-init ${backbone} are missing (the runner measures them before extraction)`);
    applyBatchNormStats(loaded.model, JSON.parse(fs.readFileSync(file, 'utf8')), file);
  }
  return loaded;
}

/** Preprocessing mode of a backbone (Keras preprocess_input). */
export function preprocessingOf(backbone: BackboneName): PreprocessingMode {
  return getBackboneSpec(backbone).preprocessing;
}

export function cacheKeyArgs(ctx: StudyContext, backbone: BackboneName, target: ExtractTarget, provenance: WeightsProvenance, patchSetHash: string, backend: string): FeatureCacheKeyArgs {
  return { backbone, weights: provenance, patchSetHash, backend, inputSize: ctx.preset.patches.size, preprocessing: preprocessingOf(backbone), kind: extractTargetTag(target) };
}

const baseCache = new Map<string, { model: tf.LayersModel; provenance: WeightsProvenance }>();
const extractCache = new Map<string, { model: tf.LayersModel; fast: InferenceFn }>();

/** Extracts features/activations of patches [start, end); `provenance` is the main process' resolution of the weights. */
export async function runExtractJob(ctx: StudyContext, job: ExtractJob, provenance?: WeightsProvenance, onProgress?: (done: number) => void): Promise<ExtractResult> {
  const t0 = performance.now();
  const { ds } = await loadStudyData(ctx.data);
  const mk = `${job.backbone}|${extractTargetTag(job.target)}`;
  let entry = extractCache.get(mk);
  if (!entry) {
    // One backbone at a time per worker: drop the previous ones (memory).
    for (const e of extractCache.values()) {
      e.fast.dispose();
      e.model.dispose();
    }
    extractCache.clear();
    let base = baseCache.get(job.backbone);
    if (!base) {
      baseCache.clear();
      base = await loadBase(ctx, job.backbone, provenance);
      baseCache.set(job.backbone, base);
    }
    const model = extractionModel(base.model, job.target);
    entry = { model, fast: await compileFrozen(model) };
    extractCache.set(mk, entry);
  }
  const fast = entry.fast;
  const mode = preprocessingOf(job.backbone);
  const { arrays, shapes } = runRows(entry.model, (idx) => toBackboneInput(ds, idx, mode), job.start, job.end, {
    batchSize: ctx.preset.extractBatchSize,
    onBatch: (done) => onProgress?.(done),
    predict: (x) => fast.runAll([x]),
  });
  return { arrays, shapes, rows: job.end - job.start, seconds: (performance.now() - t0) / 1000 };
}

let featureMemo: { key: string; arrays: FeatureMatrix[] } | undefined;

function loadCached(ctx: StudyContext, key: string): FeatureMatrix[] {
  if (featureMemo?.key === key) return featureMemo.arrays;
  featureMemo = undefined; // free the previous backbone's features before reading the next
  const c = readFeatureCache(ctx.cacheDir, key);
  if (!c) throw new Error(`feature cache ${key} is missing in ${ctx.cacheDir} (extraction must run first)`);
  featureMemo = { key, arrays: c.arrays };
  return c.arrays;
}

/** Paths of a run's outputs. */
export function runPaths(out: string, id: string) {
  const dir = new ResultsDir(out);
  return { record: dir.runRecord(id), model: dir.runModel(id) };
}

/** Runs one training run and writes `<out>/runs/<id>.model/` then `<out>/runs/<id>.json` (last, atomically). */
export async function runTrainJob(ctx: StudyContext, spec: RunSpec, info: { backend: string; provenance: WeightsProvenance }): Promise<RunRecord> {
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const { ds, provenance: data } = await loadStudyData(ctx.data);
  const train = subsetIndices(ds, spec.trainPatients);
  const validation = subsetIndices(ds, spec.validationPatients);
  const test = subsetIndices(ds, spec.testPatients);
  const paths = runPaths(ctx.out, spec.id);
  const timings: Record<string, number> = {};
  let result: { keptEpoch: number; minValLoss: number; history: RunRecord['history']; epochsRun: number; seconds: number };
  let preds: { train: Float32Array; validation: Float32Array; test: Float32Array };
  let trainableParams: number;
  const extra: Record<string, unknown> = {};
  const trainCfg = resolveTrainConfig({ ...(spec.regime === 'frozen' ? ctx.preset.frozenTrain : ctx.preset.partialTrain), seed: spec.seed });
  if (spec.regime === 'frozen') {
    const key = featureCacheKey(cacheKeyArgs(ctx, spec.backbone, { kind: 'features' }, info.provenance, data.patchSetHash, info.backend));
    const [features] = loadCached(ctx, key);
    timings.loadSeconds = (performance.now() - t0) / 1000;
    const r = trainHead({ features, labels: ds.labels, train, validation, config: trainCfg });
    result = r;
    timings.trainSeconds = r.seconds;
    const t1 = performance.now();
    preds = { train: predictHead(r.best, features, train), validation: predictHead(r.best, features, validation), test: predictHead(r.best, features, test) };
    timings.predictSeconds = (performance.now() - t1) / 1000;
    trainableParams = features.dim * 3 + 3;
    extra.featureCache = key;
    extra.flattenSize = features.dim;
    await saveHead(paths.model, r.best.kernel, r.best.bias, features.dim);
  } else {
    const { model: base } = await loadBase(ctx, spec.backbone, info.provenance);
    const k = frozenLayerCount(base.layers.length, ctx.preset.partialFrozenFraction);
    const key = featureCacheKey(cacheKeyArgs(ctx, spec.backbone, { kind: 'cut', frozenLayers: k }, info.provenance, data.patchSetHash, info.backend));
    const acts = loadCached(ctx, key);
    const { whole, split, dense } = seededPartialSplit(base, k, spec.seed);
    timings.loadSeconds = (performance.now() - t0) / 1000;
    const r = await trainSuffix({ model: split.suffix, activations: acts, labels: ds.labels, train, validation, config: trainCfg });
    result = r;
    // How the steps ran: one TensorFlow graph per step on native, else tfjs op by op (and why).
    extra.suffixSteps = r.stepMode.graph ? 'tensorflow-graph' : `op-by-op (${r.stepMode.reason})`;
    timings.trainSeconds = r.seconds;
    const t1 = performance.now();
    preds = { train: predictRows(split.suffix, acts, train), validation: predictRows(split.suffix, acts, validation), test: predictRows(split.suffix, acts, test) };
    timings.predictSeconds = (performance.now() - t1) / 1000;
    trainableParams = split.suffix.trainableWeights.reduce((s, v) => s + v.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);
    extra.activationCache = key;
    extra.frozenLayers = k;
    extra.baseLayers = base.layers.length;
    extra.cut = split.cut;
    await saveTfjsModel(split.suffix, paths.model);
    whole.dispose();
    baseCache.clear();
  }
  const metrics = evaluateRun({ labels: ds.labels, train, validation, test, predictions: preds, keptEpoch: result.keptEpoch, minValLoss: result.minValLoss, volumes: volumeIdsOf(ds) });
  timings.totalSeconds = (performance.now() - t0) / 1000;
  timings.epochsRun = result.epochsRun;
  timings.epochsPerSecond = result.epochsRun / Math.max(result.seconds, 1e-9);
  const record: RunRecord = {
    schema: RUN_RECORD_SCHEMA,
    id: spec.id,
    backbone: spec.backbone,
    regime: spec.regime,
    kind: spec.kind,
    fold: spec.fold,
    n: spec.n,
    repeat: spec.repeat,
    seed: spec.seed,
    trainPatients: spec.trainPatients,
    validationPatients: spec.validationPatients,
    testPatients: spec.testPatients,
    trainableParams,
    metrics,
    history: result.history,
    timings,
    provenance: {
      backend: info.backend,
      backendDetail: describeBackend(),
      weights: info.provenance,
      data,
      preset: ctx.preset.name,
      config: {
        /** The study's seed (the preset's), from which the run's own seed and split derive. */
        studySeed: ctx.preset.seed,
        train: trainCfg,
        inputSize: ctx.preset.patches.size,
        preprocessing: preprocessingOf(spec.backbone),
        patches: ctx.preset.patches,
        design: ctx.preset.design,
        partialFrozenFraction: ctx.preset.partialFrozenFraction,
        foldBN: true,
        trainCount: train.length,
        validationCount: validation.length,
        testCount: test.length,
        ...extra,
      },
      gitCommit: ctx.gitCommit,
      startedAt,
      finishedAt: new Date().toISOString(),
      machine: ctx.machine,
    },
  };
  writeJsonAtomic(paths.record, record);
  return record;
}

/**
 * Reads a finished record, or undefined when absent or invalid (then the run is redone); an invalid
 * or old record is reported with its file and field through `onInvalid` (default: stderr).
 */
export function readRecord(file: string, onInvalid: (message: string) => void = (m) => process.stderr.write(`${m}; the run is redone\n`)): RunRecord | undefined {
  return tryReadRunRecord(file, onInvalid);
}
