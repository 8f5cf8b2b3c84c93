/**
 * Loading a kept model folder (`<out>/models/<backbone>__<regime>[__ensemble]/`, written by
 * lib/study/summary.ts collectModels) for scoring: the backbone is rebuilt with the weights the
 * study used (ImageNet file checked by sha256, or the seeded random init), then the saved head
 * (frozen regime) or trainable suffix (partial regime) is loaded on top, once per ensemble member.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { buildBackbone } from '../backbones';
import type { BackboneArgs } from '../backbones/common';
import { getBackboneSpec, type BackboneName } from '../backbones/registry';
import { patchesToTensor } from '../patches/preprocess';
import type { PatchSamplerConfig, Plane } from '../patches/sampler';
import { PLANES } from '../patches/sampler';
import type { KeptModelMeta } from '../study/summary';
import { readModelMeta as readMeta, type ModelMeta } from '../records';
import { METRICS, type PreprocessingMode, type WeightsProvenance } from '../types';
import { compileFrozen, frozenExtractor, frozenPrefix, headModel, partialSplit } from '../transfer';
import { digest } from '../util/files';
import { ensureImagenetWeights, findWeights, hashFileSync, loadBackboneWithWeights, loadTfjsWeights } from '../weights';
import type { DownloadArgs } from '../weights/backbone';
import type { WeightsSource } from '../weights/source';
import { applyBatchNormStats } from '../backbones/calibrate';
import { mean } from '../util/stats';

/** A backbone builder (lib/backbones' buildBackbone, or a test double). */
export type BackboneBuildFn = (name: BackboneName, args: BackboneArgs) => tf.LayersModel;

/** Options of loadScoringModel. */
export interface LoadScoringModelOptions {
  /** Backbone builder. Default: buildBackbone from lib/backbones. */
  build?: BackboneBuildFn;
  /** Keras cache folder searched for ImageNet weights (see lib/weights findWeights). Default: its default. */
  cacheDir?: string;
  /** Extra folder searched for ImageNet weights. Default: PET_IQA_WEIGHTS_DIR. */
  weightsDir?: string;
  /**
   * The backbone's weights: imagenet (default: the recorded file, the cache, else downloaded as
   * Keras does) or a file (tried first). Either way its sha256 must be the one the model recorded.
   */
  weights?: WeightsSource;
  /** Downloading a missing ImageNet file (lib/weights). Default: from Keras's storage. */
  download?: DownloadArgs;
  /** Patches per forward pass. Default 32. */
  batchSize?: number;
}

/** The patch settings the model was trained with, as the sampler takes them. */
export interface ScoringPatchConfig extends PatchSamplerConfig {
  size: number;
  candidates: number;
  keep: number;
  thresholdFraction: number;
  planes: readonly Plane[];
  /** The study's patch seed; scoring derives a per-volume seed from it and the volume's voxelDigest. */
  seed: number;
}

/** Meta of a kept model folder as scoring reads it (lib/records' ModelMeta, with its regime fields). */
export type ScoringModelMeta = ModelMeta;

/** A kept model ready to score patches. */
export interface ScoringModel {
  /** Absolute path of the model folder. */
  dir: string;
  /** Short name derived from the folder, e.g. `smoke__MobileNet__frozen` (default output folder name). */
  name: string;
  meta: ScoringModelMeta;
  backbone: BackboneName;
  regime: 'frozen' | 'partial';
  kind: 'fold' | 'ensemble';
  /** Member folder names ('.' for a single model). */
  members: string[];
  inputSize: number;
  preprocessing: PreprocessingMode;
  patches: ScoringPatchConfig;
  weights: WeightsProvenance;
  /** The ImageNet weights file that was loaded (checked against the sha256 in meta). */
  weightsFile?: string;
  /**
   * Predictions of every member for `count` grey patches (count x size x size values in [0, 1]):
   * one Float32Array of count x 3 (GQR, PR, DC) per member.
   */
  predict(patches: Float32Array, count: number): Float32Array[];
  /**
   * What the frozen part outputs for `count` grey patches, per output flattened to count x dim: the
   * features (frozen regime) or cut activations (partial) the study cached for the same patches.
   */
  frozenOutputs(patches: Float32Array, count: number): Float32Array[];
  dispose(): void;
}

/** Errors about a model folder; the message starts with the folder. */
export class ScoringModelError extends Error {
  constructor(
    readonly dir: string,
    readonly problem: string,
  ) {
    super(`model folder ${dir}: ${problem}`);
    this.name = 'ScoringModelError';
  }
}

/** Reads and checks `<dir>/meta.json` (lib/records' schema); every problem names the file and the field. */
export function readModelMeta(dir: string): ScoringModelMeta {
  const file = path.join(dir, 'meta.json');
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new ScoringModelError(dir, 'not a folder (expected <results>/models/<backbone>__<regime>[__ensemble]/)');
  if (!fs.existsSync(file)) throw new ScoringModelError(dir, `${file}: missing; a kept model folder has meta.json, model.json and weights.bin (written by \`npm run reproduce\`)`);
  let m: ScoringModelMeta;
  try {
    m = readMeta(file);
  } catch (err) {
    throw new ScoringModelError(dir, (err as Error).message);
  }
  try {
    getBackboneSpec(m.backbone);
  } catch (err) {
    throw new ScoringModelError(dir, `${file}: field 'backbone': ${(err as Error).message}`);
  }
  const fail = (msg: string): never => {
    throw new ScoringModelError(dir, `${file}: ${msg}`);
  };
  // Run ids are `<regime>__<backbone>__...` (lib/study/plan runId): a meta.json naming another backbone or
  // regime than its runs (edited, or copied from another model) would otherwise fail deep in the rebuild.
  m.runs.forEach((r, i) => {
    const [regime, backbone] = r.id.split('__');
    if (backbone !== undefined && backbone !== m.backbone) {
      fail(`field 'backbone' is ${JSON.stringify(m.backbone)} but field 'runs[${i}].id' (${JSON.stringify(r.id)}) is a run of ${backbone}: the folder holds a ${backbone} model (meta.json edited or copied from another model?)`);
    }
    if (backbone !== undefined && regime !== m.regime) fail(`field 'regime' is ${JSON.stringify(m.regime)} but field 'runs[${i}].id' (${JSON.stringify(r.id)}) is a ${regime} run`);
  });
  const cal = m.weights.kind === 'random init' ? m.weights.bnCalibration?.file : undefined;
  if (typeof cal === 'string' && path.basename(cal) !== `${m.backbone}.bn.json`) {
    fail(`field 'backbone' is ${JSON.stringify(m.backbone)} but field 'weights.bnCalibration.file' is ${JSON.stringify(cal)} (statistics of another backbone)`);
  }
  return m;
}

/** Member folders of a model: ['.'] for a fold model, member0.. for an ensemble (from meta.runs). */
function memberDirs(dir: string, meta: ScoringModelMeta): string[] {
  const members = meta.kind === 'ensemble' ? meta.runs.map((r, i) => r.member ?? `member${i}`) : ['.'];
  for (const mm of members) {
    for (const f of ['model.json', 'weights.bin']) {
      const p = path.join(dir, mm, f);
      if (!fs.existsSync(p)) throw new ScoringModelError(dir, `${path.join(mm, f)} is missing (meta.json lists ${meta.kind === 'ensemble' ? `${members.length} members` : 'a single model'})`);
    }
  }
  return members;
}

/**
 * The ImageNet file to load: the path recorded in meta, else where lib/weights finds the backbone's
 * file; its sha256 must equal the recorded one, so a different file can never silently stand in.
 */
async function checkedWeightsFile(dir: string, meta: ScoringModelMeta, opts: LoadScoringModelOptions): Promise<string> {
  const w = meta.weights as Extract<WeightsProvenance, { kind: 'imagenet' }>;
  const spec = getBackboneSpec(meta.backbone);
  const candidates: string[] = [];
  if (opts.weights?.kind === 'file') candidates.push(opts.weights.path);
  if (w.file && !candidates.includes(path.resolve(w.file))) candidates.push(path.resolve(w.file));
  const found = findWeights(spec.name, { cacheDir: opts.cacheDir, weightsDir: opts.weightsDir });
  for (const s of found.searched) if (!candidates.includes(s)) candidates.push(s);
  let existing = candidates.filter((c) => fs.existsSync(c) && fs.statSync(c).isFile());
  let failure = '';
  if (existing.length === 0) {
    // As Keras does: fetch the missing file (then its sha256 must still be the recorded one).
    const loc = (await ensureImagenetWeights([spec.name], { cacheDir: opts.cacheDir, weightsDir: opts.weightsDir, download: opts.download, layoutBuild: opts.build, banner: false })).get(spec.name)!;
    if (loc.file) existing = [loc.file];
    else failure = ` (download failed: ${loc.failure})`;
  }
  if (existing.length === 0) {
    throw new ScoringModelError(
      dir,
      `the ImageNet weights it was trained with are missing: expected ${path.basename(w.file || spec.weightsFile)} with sha256 ${w.sha256}; ` +
        `searched ${candidates.join(', ')}${failure}. Fetch them with: npm run weights -- fetch ${spec.name}`,
    );
  }
  const seen: string[] = [];
  for (const f of existing) {
    const sha = hashFileSync(f).sha256;
    if (sha === w.sha256) return f;
    seen.push(`${f} has sha256 ${sha}`);
  }
  throw new ScoringModelError(dir, `ImageNet weights do not match the model: meta.json expects ${path.basename(w.file || spec.weightsFile)} with sha256 ${w.sha256}, but ${seen.join('; ')}`);
}

/** Where a kept model's pretext weights travel with it (collectModels copies them there). */
export function pretextCopyPath(modelDir: string, file: string): string {
  return path.join(modelDir, 'pretext', path.basename(file));
}

/** The pretext weights of a model: its own copy, else the cached file, checked against meta.json's sha256. */
function checkedPretextFile(dir: string, w: Extract<WeightsProvenance, { kind: 'pretext' }>): string {
  const candidates = [pretextCopyPath(dir, w.file), path.resolve(w.file)].filter((c) => fs.existsSync(c));
  if (candidates.length === 0) throw new ScoringModelError(dir, `its pretext weights are missing: expected ${pretextCopyPath(dir, w.file)} or ${w.file} with sha256 ${w.sha256}`);
  const seen: string[] = [];
  for (const f of candidates) {
    const sha = hashFileSync(f).sha256;
    if (sha === w.sha256) return f;
    seen.push(`${f} has sha256 ${sha}`);
  }
  throw new ScoringModelError(dir, `pretext weights do not match the model: meta.json expects sha256 ${w.sha256}, but ${seen.join('; ')}`);
}

/** Model name for reports and the default output folder: `<results folder>__<model folder>`. */
export function scoringModelName(dir: string): string {
  const abs = path.resolve(dir);
  const parent = path.dirname(abs);
  const base = path.basename(abs);
  return path.basename(parent) === 'models' ? `${path.basename(path.dirname(parent))}__${base}` : base;
}

/** Reads a TensorFlow.js model.json's weights into `model`, naming the member folder in errors. */
async function loadMemberWeights(dir: string, member: string, model: tf.LayersModel): Promise<void> {
  const file = path.join(dir, member, 'model.json');
  try {
    await loadTfjsWeights(model, file);
  } catch (err) {
    throw new ScoringModelError(dir, `${path.join(member, 'model.json')} does not fit the rebuilt ${model.name}: ${(err as Error).message}`);
  }
}

/**
 * Rebuilds a kept model from its folder. Errors (ScoringModelError) name the folder and what does not
 * match: meta fields, missing member files, ImageNet weights missing or with another sha256, a head
 * or suffix whose weights do not fit the rebuilt backbone.
 */
export async function loadScoringModel(dir: string, opts: LoadScoringModelOptions = {}): Promise<ScoringModel> {
  const abs = path.resolve(dir);
  const meta = readModelMeta(abs);
  const members = memberDirs(abs, meta);
  const backbone = getBackboneSpec(meta.backbone).name;
  let weightsFile: string | undefined;
  let weightsArg: WeightsSource;
  let seed = 0;
  if (meta.weights.kind === 'imagenet') {
    if (opts.weights && opts.weights.kind !== 'imagenet' && opts.weights.kind !== 'file') {
      throw new ScoringModelError(abs, `was trained on ImageNet weights; --weights ${opts.weights.kind} does not apply to it (give imagenet or the file)`);
    }
    weightsFile = await checkedWeightsFile(abs, meta, opts);
    weightsArg = { kind: 'file', path: weightsFile };
  } else if (meta.weights.kind === 'pretext') {
    weightsFile = checkedPretextFile(abs, meta.weights);
    weightsArg = { kind: 'file', path: weightsFile };
  } else {
    if (opts.weights && opts.weights.kind !== 'random') {
      throw new ScoringModelError(abs, `was trained on a random init (seed ${meta.weights.seed}); --weights ${opts.weights.kind} does not apply to it`);
    }
    weightsArg = { kind: 'random' };
    seed = meta.weights.seed;
  }
  const build = opts.build ?? buildBackbone;
  let base: tf.LayersModel;
  try {
    ({ model: base } = await loadBackboneWithWeights(backbone, { weights: weightsArg, inputSize: meta.inputSize, seed, build, warn: () => undefined }));
  } catch (err) {
    throw new ScoringModelError(abs, `cannot rebuild ${backbone} with its weights: ${(err as Error).message}`);
  }
  if (meta.weights.kind === 'random init' && meta.weights.bnCalibration) {
    // The study measured this random backbone's BN statistics on training patches; they travel with the model.
    const cal = meta.weights.bnCalibration;
    const file = path.join(abs, cal.file);
    if (!fs.existsSync(file)) throw new ScoringModelError(abs, `calibrated BatchNormalization statistics '${cal.file}' are missing`);
    const text = fs.readFileSync(file, 'utf8');
    const sha = digest(text);
    if (sha !== cal.sha256) throw new ScoringModelError(abs, `'${cal.file}' has sha256 ${sha}, meta.json says ${cal.sha256}`);
    try {
      applyBatchNormStats(base, JSON.parse(text), file);
    } catch (err) {
      throw new ScoringModelError(abs, (err as Error).message);
    }
  }
  const foldBN = meta.foldBN !== false;
  const batchSize = opts.batchSize ?? 32;
  const disposables: Array<{ dispose(): void }> = [base];
  try {
    // The frozen part is built and compiled exactly as the study's extraction (lib/transfer), so the
    // features scoring computes are the ones the heads/suffixes were trained on.
    let frozenPart: tf.LayersModel;
    let heads: Array<(feats: tf.Tensor[]) => tf.Tensor>;
    if (meta.regime === 'frozen') {
      frozenPart = frozenExtractor(base, { foldBatchNorm: foldBN });
      const dim = frozenPart.outputs[0].shape[1] as number;
      if (dim !== meta.flattenSize) {
        throw new ScoringModelError(abs, `the rebuilt ${backbone} at ${meta.inputSize}x${meta.inputSize} gives ${dim} features, meta.json 'flattenSize' says ${meta.flattenSize}`);
      }
      heads = [];
      for (const mm of members) {
        const head = headModel(dim);
        disposables.push(head);
        await loadMemberWeights(abs, mm, head);
        heads.push((f) => head.predict(f[0]) as tf.Tensor);
      }
    } else {
      if (base.layers.length !== meta.baseLayers) {
        throw new ScoringModelError(abs, `the rebuilt ${backbone} has ${base.layers.length} layers, meta.json 'baseLayers' says ${meta.baseLayers}`);
      }
      const { split } = partialSplit(base, meta.frozenLayers!);
      // Auto-numbered tensor names (re_lu_20) depend on what the process built before; shapes must agree.
      const want = meta.cut!.map((c) => c.shape.join('x')).join(', ');
      const got = split.cut.map((c) => c.shape.join('x')).join(', ');
      if (want !== got) throw new ScoringModelError(abs, `the cut after ${meta.frozenLayers} frozen layers gives tensors [${got}], meta.json 'cut' says [${want}]`);
      frozenPart = frozenPrefix(split, { foldBatchNorm: foldBN });
      const suffix = split.suffix;
      // One suffix, member weights swapped in before each member's pass (ensembles of the partial regime).
      const memberWeights: tf.Tensor[][] = [];
      for (const mm of members) {
        await loadMemberWeights(abs, mm, suffix);
        const ws = suffix.getWeights().map((t) => tf.clone(t));
        memberWeights.push(ws);
        disposables.push({ dispose: () => tf.dispose(ws) });
      }
      heads = memberWeights.map((ws) => (f) => {
        if (memberWeights.length > 1) suffix.setWeights(ws);
        return suffix.predict(f.length === 1 ? f[0] : f) as tf.Tensor;
      });
    }
    const compiled = await compileFrozen(frozenPart);
    disposables.push(compiled);
    const features = (x: tf.Tensor4D) => compiled.runAll([x]);
    const size = meta.inputSize;
    /** Runs `step` over `count` patches in batches of `batchSize`, as the study's extraction does. */
    const inBatches = (data: Float32Array, count: number, step: (x: tf.Tensor4D, start: number) => void): void => {
      const area = size * size;
      if (data.length < count * area) throw new Error(`predict: ${data.length} values cannot hold ${count} patches of ${size}x${size}`);
      for (let s = 0; s < count; s += batchSize) {
        const n = Math.min(batchSize, count - s);
        tf.tidy(() => step(patchesToTensor(data.subarray(s * area, (s + n) * area), n, size, meta.preprocessing as PreprocessingMode), s));
      }
    };
    const p = meta.patches as unknown as Record<string, unknown>;
    const patches: ScoringPatchConfig = {
      size,
      candidates: p.candidates as number,
      keep: p.keep as number,
      thresholdFraction: typeof p.thresholdFraction === 'number' ? p.thresholdFraction : 1 / 8,
      planes: Array.isArray(p.planes) ? (p.planes as Plane[]) : PLANES,
      seed: typeof p.seed === 'number' ? p.seed : 0,
    };
    return {
      dir: abs,
      name: scoringModelName(abs),
      meta,
      backbone,
      regime: meta.regime as 'frozen' | 'partial',
      kind: meta.kind,
      members,
      inputSize: size,
      preprocessing: meta.preprocessing as PreprocessingMode,
      patches,
      weights: meta.weights,
      weightsFile,
      predict(data: Float32Array, count: number): Float32Array[] {
        const out = heads.map(() => new Float32Array(count * 3));
        inBatches(data, count, (x, s) => {
          const f = features(x);
          heads.forEach((h, k) => out[k].set(h(f).dataSync() as Float32Array, s * 3));
        });
        return out;
      },
      frozenOutputs(data: Float32Array, count: number): Float32Array[] {
        const dims = frozenPart.outputs.map((t) => t.shape.slice(1).reduce((a: number, b) => a * (b ?? 1), 1));
        const out = dims.map((d) => new Float32Array(count * d));
        inBatches(data, count, (x, s) => features(x).forEach((f, i) => out[i].set(f.dataSync() as Float32Array, s * dims[i])));
        return out;
      },
      dispose() {
        for (const d of disposables.reverse()) d.dispose();
        disposables.length = 0;
      },
    };
  } catch (err) {
    for (const d of disposables.reverse()) d.dispose();
    throw err;
  }
}

/** One kept model folder of a results folder, as listed by listKeptModels. */
export interface KeptModelEntry {
  dir: string;
  name: string;
  backbone: BackboneName;
  regime: string;
  kind: string;
  weights: WeightsProvenance['kind'];
  /** Mean over the model's runs. */
  minValLoss: number;
  testMAE: number;
}

/** The kept model folders under `<results>/models/` (unreadable ones left out), best validation loss first. */
export function listKeptModels(resultsDir: string): KeptModelEntry[] {
  const dir = path.join(resultsDir, 'models');
  if (!fs.existsSync(dir)) return [];
  const out: KeptModelEntry[] = [];
  for (const name of fs.readdirSync(dir).sort()) {
    const d = path.join(dir, name);
    let meta: ScoringModelMeta;
    try {
      meta = readModelMeta(d);
    } catch {
      continue;
    }
    out.push({
      dir: d,
      name: scoringModelName(d),
      backbone: getBackboneSpec(meta.backbone).name,
      regime: meta.regime,
      kind: meta.kind,
      weights: meta.weights.kind,
      minValLoss: mean(meta.runs.map((r) => r.minValLoss)),
      testMAE: mean(meta.runs.map((r) => r.testMAE.overall)),
    });
  }
  return out.sort((a, b) => a.minValLoss - b.minValLoss);
}
