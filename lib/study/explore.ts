/**
 * The study, one piece at a time, for the notebooks: the inputs of one frozen run (cached features,
 * labels, row sets, training settings) made exactly as the runner makes them, so a notebook can train
 * that run on screen; and the MAE summary as a danfojs DataFrame.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { seededPartialSplit } from '../transfer';
import { readDesign } from '../records/read';
import { IMAGENET, type WeightsSource } from '../weights/source';
import type { BackboneName } from '../backbones/registry';
import { cohortManifestPath } from '../workspace/paths';
import { subsetIndices } from '../patches/dataset';
import { defaultFeatureCacheDir, readFeatureCache } from '../train/features';
import { resolveTrainConfig, type FeatureMatrix, type TrainConfig } from '../train/head';
import type { RunRecord, WeightsProvenance } from '../types';
import { projectRoot } from '../util/files';
import { loadStudyData } from './data';
import { planRuns, type RunSpec } from './plan';
import { getPreset } from './presets';
import { runStudy } from './runner';
import { readRecords } from './summary';
import { frozenLayerCount } from '../backbones/freeze';
import { loadBase, type StudyContext } from './jobs';
import { initBackend } from '../backend';

export interface FrozenRunInputsArgs {
  /** Study preset name. */
  preset: string;
  backbone: BackboneName;
  /** Fold and training size of the run. Default: the preset's partial-regime run (the paper: fold 0, n = 8). */
  fold?: number;
  n?: number;
  /** As runStudy's `weights`. Default 'imagenet' (random init, loudly, when the files are absent). */
  weights?: WeightsSource;
  /** Where the one-backbone study that fills the feature cache writes. Default results/explore/<preset>. */
  out?: string;
  log?: (line: string) => void;
}

export interface FrozenRunInputs {
  spec: RunSpec;
  /** Flattened features of every patch (the cached output of the frozen, BN-folded base). */
  features: FeatureMatrix;
  /** rows x 3 labels (GQR, PR, DC). */
  labels: Float32Array;
  train: Int32Array;
  validation: Int32Array;
  test: Int32Array;
  /** The head training settings the study uses for this run (its seed included). */
  config: Required<TrainConfig>;
  weights: WeightsProvenance;
  featureCacheKey: string;
}

/**
 * The inputs of one frozen-regime run. The features come from the study's feature cache
 * (results/cache/features, keyed by content, shared with `npm run reproduce`); when they are not there,
 * a one-backbone frozen study with a single run (in `out`, not in the preset's results) extracts them.
 */
export async function frozenRunInputs(args: FrozenRunInputsArgs): Promise<FrozenRunInputs> {
  const preset = getPreset(args.preset);
  const out = path.resolve(args.out ?? path.join(projectRoot(), 'results', 'explore', preset.name));
  const record = await exploreRecord(args, 'frozen', out, 'featureCache');
  const key = String(record.provenance.config.featureCache);
  const cache = readFeatureCache(defaultFeatureCacheDir(), key);
  if (!cache) throw new Error(`frozenRunInputs: feature cache ${key} missing in ${defaultFeatureCacheDir()}`);
  const design = readDesign(path.join(out, 'design.json'));
  const fold = args.fold ?? preset.partial.fold;
  const n = args.n ?? preset.partial.n;
  const spec = planRuns({ design, backbones: [args.backbone], regimes: ['frozen'], partial: preset.partial, seed: preset.seed }).find((r) => r.kind === 'fold' && r.fold === fold && r.n === n);
  if (!spec) throw new Error(`frozenRunInputs: the '${preset.name}' design has no frozen run at fold ${fold}, n = ${n}`);
  const { ds } = await loadStudyData({ kind: 'manifest', manifestPath: cohortManifestPath(preset.cohort), patchConfig: { ...preset.patches } });
  const features = cache.arrays[0];
  if (features.rows !== ds.count) throw new Error(`frozenRunInputs: cached features have ${features.rows} rows, the patch set ${ds.count}`);
  return {
    spec,
    features,
    labels: ds.labels,
    train: subsetIndices(ds, spec.trainPatients),
    validation: subsetIndices(ds, spec.validationPatients),
    test: subsetIndices(ds, spec.testPatients),
    config: resolveTrainConfig({ ...preset.frozenTrain, seed: spec.seed }),
    weights: record.provenance.weights,
    featureCacheKey: key,
  };
}

/** One-backbone study in `out` holding a run of `regime` whose cache exists; runs one when there is none. */
async function exploreRecord(args: FrozenRunInputsArgs, regime: 'frozen' | 'partial', out: string, cacheField: string): Promise<RunRecord> {
  const preset = getPreset(args.preset);
  // The backend the study chooses, also when the record is cached and no study runs (the notebooks
  // train on these inputs in this process: without it tfjs stays on its plain-JS cpu backend).
  await initBackend();
  const ours = (records: RunRecord[]) => records.find((r) => r.backbone === args.backbone && r.regime === regime && typeof r.provenance.config[cacheField] === 'string');
  const cached = (r: RunRecord | undefined) => r !== undefined && readFeatureCache(defaultFeatureCacheDir(), String(r.provenance.config[cacheField])) !== null;
  let record = fs.existsSync(path.join(out, 'runs')) ? ours(readRecords(out)) : undefined;
  if (!cached(record)) {
    args.log?.(`extracting ${args.backbone} ${regime === 'frozen' ? 'features' : 'activations'} for the '${preset.name}' patches (one ${regime} run in ${out}) ...`);
    const res = await runStudy({ preset: preset.name, backbones: [args.backbone], regime, out, maxRuns: 1, workers: 1, weights: args.weights, log: args.log ?? (() => undefined), progress: false });
    record = ours(res.records);
  }
  if (!record) throw new Error(`no ${regime} ${args.backbone} run in ${out} after running the study`);
  return record;
}

export interface PartialRunInputs extends Omit<FrozenRunInputs, 'features' | 'featureCacheKey'> {
  /** Layers of the base model, and how many of them the freeze rule keeps frozen. */
  baseLayers: number;
  frozenLayers: number;
  /** The trainable part: base layers from frozenLayers on, Flatten and a fresh Dense(3) (seeded as the study seeds it). */
  suffix: tf.LayersModel;
  /** Outputs of the frozen prefix for every patch (cached by the study). */
  activations: FeatureMatrix[];
  activationCacheKey: string;
  /** Frees the models. */
  dispose(): void;
}

/**
 * The inputs of the partial-regime run (fold and n of the preset), made as the study makes them: the
 * base split after frozenLayerCount(N, fraction) layers, the prefix's activations from the study's cache
 * (extracted by a one-run partial study in `out` when missing), the suffix with its seeded head.
 */
export async function partialRunInputs(args: Omit<FrozenRunInputsArgs, 'fold' | 'n'>): Promise<PartialRunInputs> {
  const preset = getPreset(args.preset);
  const out = path.resolve(args.out ?? path.join(projectRoot(), 'results', 'explore', preset.name));
  const record = await exploreRecord(args, 'partial', out, 'activationCache');
  const key = String(record.provenance.config.activationCache);
  const cache = readFeatureCache(defaultFeatureCacheDir(), key)!;
  const design = readDesign(path.join(out, 'design.json'));
  const spec = planRuns({ design, backbones: [args.backbone], regimes: ['partial'], partial: preset.partial, seed: preset.seed }).find((r) => r.regime === 'partial');
  if (!spec) throw new Error(`partialRunInputs: the '${preset.name}' plan has no partial run`);
  const data = { kind: 'manifest' as const, manifestPath: cohortManifestPath(preset.cohort), patchConfig: { ...preset.patches } };
  const { ds } = await loadStudyData(data);
  const ctx: StudyContext = {
    out,
    preset,
    weights: args.weights ?? IMAGENET,
    data,
    cacheDir: defaultFeatureCacheDir(),
    gitCommit: '',
    machine: {},
    calibrateRandomBN: record.provenance.weights.kind === 'random init' && 'bnCalibration' in record.provenance.weights,
  };
  const { model: base } = await loadBase(ctx, args.backbone, record.provenance.weights);
  const k = frozenLayerCount(base.layers.length, preset.partialFrozenFraction);
  if (record.provenance.config.frozenLayers !== k) throw new Error(`partialRunInputs: the study froze ${record.provenance.config.frozenLayers} layers, the rule gives ${k}`);
  const { whole, split, dense } = seededPartialSplit(base, k, spec.seed);
  return {
    spec,
    baseLayers: base.layers.length,
    frozenLayers: k,
    suffix: split.suffix,
    activations: cache.arrays,
    activationCacheKey: key,
    labels: ds.labels,
    train: subsetIndices(ds, spec.trainPatients),
    validation: subsetIndices(ds, spec.validationPatients),
    test: subsetIndices(ds, spec.testPatients),
    config: resolveTrainConfig({ ...preset.partialTrain, seed: spec.seed }),
    weights: record.provenance.weights,
    dispose: () => whole.dispose(),
  };
}

/**
 * Test MAE (overall) of the fold runs per backbone and training size n, as a danfojs DataFrame with
 * columns backbone, n, testMAE_mean, testMAE_std (sample sd over folds), testMAE_count.
 */
export function maeByBackboneAndN(runs: readonly RunRecord[], regime: RunRecord['regime'] = 'frozen'): import('danfojs-node').DataFrame {
  // danfojs-node is large: loaded only when a summary is asked for.
  const dfd = require('danfojs-node') as typeof import('danfojs-node');
  const rows = runs.filter((r) => r.regime === regime && r.kind === 'fold').map((r) => ({ backbone: r.backbone, n: r.n, testMAE: r.metrics.testMAE.overall }));
  if (rows.length === 0) throw new Error(`maeByBackboneAndN: no ${regime} fold runs`);
  const df = new dfd.DataFrame(rows);
  return df.groupby(['backbone', 'n']).agg({ testMAE: ['mean', 'std', 'count'] });
}
