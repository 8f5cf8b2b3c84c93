/**
 * Pretext weights on demand: `ensurePretextWeights(spec)` returns the Keras .h5 file of a backbone
 * pretrained on a pretext task, making it when the cache lacks it. The cache key is everything that
 * determines the file (backbone, task, cohort manifest, excluded patients, patch settings, training
 * settings, input size, format), so a cached file is reused only for the same question. Each file
 * has a provenance JSON next to it (zod schema; one reader).
 */
import * as fs from 'fs';
import * as path from 'path';
import { z } from 'zod';
import type * as tf from '@tensorflow/tfjs';
import type { BackboneArgs } from '../backbones/common';
import type { BackboneName } from '../backbones/registry';
import { getBackboneSpec } from '../backbones/registry';
import type { PatchDatasetConfig } from '../patches/dataset';
import type { WeightsProvenance } from '../types';
import { initBackend } from '../backend';
import { buildBackbone } from '../backbones';
import { fileDigest, projectRoot, stableHash, writeJsonAtomic } from '../util/files';
import { saveKerasH5Weights } from '../weights/h5';
import { Rng, deriveSeed } from '../util/rng';
import { loadPretextData, pretextTaskLabel, PRETEXT_TASKS, type PretextData, type PretextTask } from './data';
import { pretrainBackbone, resolvePretrainConfig, type PretrainConfig } from './train';

/** Bumped when pretraining changes in a way the settings do not show, so old files are not reused. */
export const PRETEXT_FORMAT = 1;

/** Everything that determines a pretext weights file. */
export interface PretextSpec {
  backbone: BackboneName;
  /** Default 'count-level'. */
  task?: PretextTask;
  /** Cohort manifest the patches come from. */
  manifestPath: string;
  /** Short cohort name for labels, e.g. 'quick'. Default: the manifest's folder name. */
  cohort?: string;
  /** Patients never read: the study's test patients. */
  excludePatients: readonly string[];
  /** Patch sampling of the pretext data (size = the study's input size). */
  patchConfig: Omit<PatchDatasetConfig, 'includeUnrated' | 'onProgress' | 'cacheDir' | 'workers'> & { size: number };
  /** Training settings (defaults: DEFAULT_PRETRAIN). */
  train?: PretrainConfig;
  /** Patients held out of training for the inference-mode check. Default 2. */
  checkPatients?: number;
}

/** Options of ensurePretextWeights. */
export interface EnsurePretextArgs {
  /** Cache folder. Default `<project>/results/cache/pretext`. */
  cacheDir?: string;
  /** Write the file here instead of the cache (the `pretrain --out` case); always trains. */
  out?: string;
  log?: (line: string) => void;
  /** Backend to initialise when training (default lib/backend's choice). */
  backend?: string;
  /** Builder of the random-init backbone; default lib/backbones' buildBackbone. Tests pass a small double. */
  build?: (name: BackboneName, args: BackboneArgs) => tf.LayersModel;
}

const checkSchema = z.object({
  count: z.number(),
  mse: z.number(),
  mae: z.number(),
  r2: z.number(),
  predictionSpread: z.number(),
  scaleShift: z.object({ down: z.number(), up: z.number() }),
});

/** The provenance file written next to each pretext weights file. */
export const pretextRecordSchema = z.object({
  schema: z.literal('pet-iqa/pretext@1'),
  key: z.string(),
  backbone: z.string(),
  task: z.enum(PRETEXT_TASKS),
  label: z.string(),
  cohort: z.string(),
  manifest: z.string(),
  manifestSha256: z.string(),
  patchSetHash: z.string(),
  patchConfig: z.record(z.string(), z.unknown()),
  excludedPatients: z.array(z.string()),
  patients: z.array(z.string()),
  trainPatients: z.array(z.string()),
  checkPatients: z.array(z.string()),
  patches: z.number(),
  config: z.object({
    steps: z.number(),
    batchSize: z.number(),
    learningRate: z.number(),
    crop: z.number(),
    intensityJitter: z.number(),
    calibrationImages: z.number(),
    seed: z.number(),
  }),
  stepsRun: z.number(),
  finalLoss: z.number(),
  targetMean: z.number(),
  targetStd: z.number(),
  bnLayers: z.number(),
  check: checkSchema,
  losses: z.array(z.number()),
  sha256: z.string(),
  backend: z.string(),
  seconds: z.number(),
  secondsPerStep: z.number(),
  createdAt: z.string(),
});
export type PretextRecord = z.infer<typeof pretextRecordSchema>;

/** Reads a pretext provenance file; errors name the file and the field. */
export function readPretextRecord(file: string): PretextRecord {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`pretext record ${file} cannot be read as JSON: ${(err as Error).message}`);
  }
  const parsed = pretextRecordSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`pretext record ${file}: field '${issue.path.join('.') || '(root)'}': ${issue.message}`);
  }
  return parsed.data;
}

function cohortName(spec: PretextSpec): string {
  return spec.cohort ?? path.basename(path.dirname(path.resolve(spec.manifestPath)));
}

/** The cache key of a spec (manifest by content, not path). */
export function pretextKey(spec: PretextSpec): string {
  const manifestSha256 = fileDigest(spec.manifestPath);
  const { seed: patchSeed, ...patchRest } = spec.patchConfig;
  return stableHash({
    format: PRETEXT_FORMAT,
    backbone: spec.backbone,
    task: spec.task ?? 'count-level',
    manifestSha256,
    excluded: [...spec.excludePatients].sort(),
    patches: { ...patchRest, seed: patchSeed ?? 0 },
    train: resolvePretrainConfig(spec.train),
    checkPatients: spec.checkPatients ?? 2,
  }).slice(0, 20);
}

/** Default cache folder: `<project>/results/cache/pretext`. */
export function defaultPretextCacheDir(): string {
  return path.join(projectRoot(), 'results', 'cache', 'pretext');
}

/** Paths of a cached pretext file and its record. */
export function pretextPaths(cacheDir: string, backbone: string, key: string): { weights: string; record: string } {
  const stem = path.join(cacheDir, `${backbone}__count-level__${key}`);
  return { weights: `${stem}.h5`, record: `${stem}.json` };
}

/** The run-record provenance of a pretext file. */
export function pretextProvenance(record: PretextRecord, file: string): Extract<WeightsProvenance, { kind: 'pretext' }> {
  return {
    kind: 'pretext',
    task: record.task,
    label: record.label,
    file: path.resolve(file),
    sha256: record.sha256,
    cohort: record.cohort,
    manifestSha256: record.manifestSha256,
    patchSetHash: record.patchSetHash,
    patients: record.patients,
    excludedPatients: record.excludedPatients,
    steps: record.stepsRun,
    seed: record.config.seed,
    finalLoss: record.finalLoss,
    checkMAE: record.check.mae,
    key: record.key,
  };
}

/** Splits the pretext patients into training and inference-check patients (seeded). */
export function splitPretextPatients(data: Pick<PretextData, 'patients'>, checkCount: number, seed: number): { train: string[]; check: string[] } {
  if (data.patients.length < 2) throw new Error(`pretext: ${data.patients.length} patient(s) cannot be split into training and check patients`);
  const n = Math.min(Math.max(1, checkCount), data.patients.length - 1);
  const check = new Rng(deriveSeed(seed, 'pretext-check')).sample(data.patients, n).sort();
  return { train: data.patients.filter((p) => !check.includes(p)), check };
}

/**
 * The pretext weights file of `spec`: from the cache when a valid record and a file with its sha256
 * are there, else pretrained now (whole backbone, random init) and written atomically.
 */
export async function ensurePretextWeights(spec: PretextSpec, args: EnsurePretextArgs = {}): Promise<{ file: string; record: PretextRecord; provenance: Extract<WeightsProvenance, { kind: 'pretext' }>; cached: boolean }> {
  const log = args.log ?? ((s: string) => process.stderr.write(s + '\n'));
  getBackboneSpec(spec.backbone);
  if (!fs.existsSync(spec.manifestPath)) throw new Error(`pretext: cohort manifest ${spec.manifestPath} does not exist`);
  const key = pretextKey(spec);
  const cacheDir = args.cacheDir ?? defaultPretextCacheDir();
  const paths = args.out ? { weights: path.resolve(args.out), record: path.resolve(args.out).replace(/\.h5$/i, '') + '.json' } : pretextPaths(cacheDir, spec.backbone, key);
  if (!args.out && fs.existsSync(paths.record) && fs.existsSync(paths.weights)) {
    try {
      const record = readPretextRecord(paths.record);
      if (record.key === key && fileDigest(paths.weights) === record.sha256) return { file: paths.weights, record, provenance: pretextProvenance(record, paths.weights), cached: true };
      log(`pretext: cached ${paths.weights} does not match its record; pretraining again`);
    } catch (err) {
      log(`pretext: ${(err as Error).message}; pretraining again`);
    }
  }
  const record = await pretrainToFile(spec, key, paths, args, log);
  return { file: paths.weights, record, provenance: pretextProvenance(record, paths.weights), cached: false };
}

async function pretrainToFile(spec: PretextSpec, key: string, paths: { weights: string; record: string }, args: EnsurePretextArgs, log: (s: string) => void): Promise<PretextRecord> {
  const task = spec.task ?? 'count-level';
  const cfg = resolvePretrainConfig(spec.train);
  const choice = await initBackend(args.backend ? { backend: args.backend } : {});
  const data = await loadPretextData(spec.manifestPath, { excludePatients: spec.excludePatients, patchConfig: spec.patchConfig });
  const split = splitPretextPatients(data, spec.checkPatients ?? 2, cfg.seed);
  const rowsOf = (patients: string[]) => data.patchPatient.flatMap((p, i) => (patients.includes(p) ? [i] : []));
  const train = rowsOf(split.train);
  const check = rowsOf(split.check);
  const bspec = getBackboneSpec(spec.backbone);
  const base = (args.build ?? buildBackbone)(spec.backbone, { inputSize: spec.patchConfig.size, seed: cfg.seed });
  log(
    `pretext: pretraining ${spec.backbone} on ${pretextTaskLabel(task)} (${cfg.steps} steps of ${cfg.batchSize} ${cfg.crop >= spec.patchConfig.size ? `whole ${spec.patchConfig.size}x${spec.patchConfig.size} patches` : `${cfg.crop}x${cfg.crop} crops`}, lr ${cfg.learningRate}) ` +
      `from ${train.length} patches of ${split.train.length} non-test patients (check: ${check.length} patches of ${split.check.join(', ')}; excluded: ${data.excludedPatients.join(', ')}); backend ${choice.backend}`,
  );
  try {
    let lastLog = performance.now();
    const result = pretrainBackbone({
      base,
      preprocessing: bspec.preprocessing,
      patches: data.patches,
      size: data.size,
      targets: data.targets,
      train,
      validation: check,
      config: cfg,
      onStep: (step, loss, sec) => {
        if (performance.now() - lastLog > 15000 || step === cfg.steps) {
          lastLog = performance.now();
          log(`pretext: ${spec.backbone} step ${step}/${cfg.steps} loss ${loss.toFixed(3)} (${sec.toFixed(2)} s/step)`);
        }
      },
    });
    // Weights first (atomic), record last: a record only exists next to its complete file.
    await saveKerasH5Weights(base, paths.weights);
    const label = `pretext (${pretextTaskLabel(task)}, ${cohortName(spec)})`;
    const record: PretextRecord = {
      schema: 'pet-iqa/pretext@1',
      key,
      backbone: spec.backbone,
      task,
      label,
      cohort: cohortName(spec),
      manifest: path.resolve(spec.manifestPath),
      manifestSha256: data.manifestSha256,
      patchSetHash: data.patchSetHash,
      patchConfig: { ...spec.patchConfig },
      excludedPatients: data.excludedPatients,
      patients: data.patients,
      trainPatients: split.train,
      checkPatients: split.check,
      patches: data.count,
      config: result.config,
      stepsRun: result.losses.length,
      finalLoss: result.finalLoss,
      targetMean: result.targetMean,
      targetStd: result.targetStd,
      bnLayers: result.bnLayers,
      check: result.check,
      losses: result.losses,
      sha256: fileDigest(paths.weights),
      backend: choice.backend,
      seconds: result.seconds,
      secondsPerStep: result.secondsPerStep,
      createdAt: new Date().toISOString(),
    };
    writeJsonAtomic(paths.record, record);
    const c = result.check;
    log(
      `pretext: ${spec.backbone} done in ${result.seconds.toFixed(0)} s (${result.secondsPerStep.toFixed(2)} s/step); final loss ${result.finalLoss.toFixed(3)} (standardised); ` +
        `inference mode on check patients: MAE ${c.mae.toFixed(3)} ln-count, R2 ${c.r2.toFixed(2)}, spread ${c.predictionSpread.toFixed(2)}, scaling x0.7/x1.4 moves it ${c.scaleShift.down.toFixed(2)}/${c.scaleShift.up.toFixed(2)}; wrote ${paths.weights}`,
    );
    if (c.predictionSpread < 0.2) log(`WARNING: pretext ${spec.backbone}: inference-mode predictions barely vary (spread ${c.predictionSpread.toFixed(2)}); the model may have collapsed; try more --steps`);
    return record;
  } finally {
    base.dispose();
  }
}
