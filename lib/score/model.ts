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
import { readModelMeta as readMeta, type ModelMeta } from '../records';
import type { PreprocessingMode, WeightsProvenance } from '../types';
import { attachHead, foldBatchNorm, splitModel } from '../train/graph';
import { digest } from '../util/files';

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
  /** The study's patch seed; scoring derives a per-file seed from it and the file's sha256. */
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
function checkedWeightsFile(dir: string, meta: ScoringModelMeta, opts: LoadScoringModelOptions): string {
  const w = meta.weights as Extract<WeightsProvenance, { kind: 'imagenet' }>;
  const wmod = require('../weights') as typeof import('../weights');
  const spec = getBackboneSpec(meta.backbone);
  const candidates: string[] = [];
  if (w.file) candidates.push(path.resolve(w.file));
  const found = wmod.findWeights(spec.name, { cacheDir: opts.cacheDir, weightsDir: opts.weightsDir });
  for (const s of found.searched) if (!candidates.includes(s)) candidates.push(s);
  const existing = candidates.filter((c) => fs.existsSync(c) && fs.statSync(c).isFile());
  if (existing.length === 0) {
    throw new ScoringModelError(
      dir,
      `the ImageNet weights it was trained with are missing: expected ${path.basename(w.file || spec.weightsFile)} with sha256 ${w.sha256}; ` +
        `searched ${candidates.join(', ')}. Fetch them with: npm run weights -- fetch ${spec.name}`,
    );
  }
  const seen: string[] = [];
  for (const f of existing) {
    const sha = wmod.hashFileSync(f).sha256;
    if (sha === w.sha256) return f;
    seen.push(`${f} has sha256 ${sha}`);
  }
  throw new ScoringModelError(dir, `ImageNet weights do not match the model: meta.json expects ${path.basename(w.file || spec.weightsFile)} with sha256 ${w.sha256}, but ${seen.join('; ')}`);
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
  const { loadTfjsWeights } = require('../weights') as typeof import('../weights');
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
  const { loadBackboneWithWeights } = require('../weights') as typeof import('../weights');
  let weightsFile: string | undefined;
  let weightsArg: string;
  let seed = 0;
  if (meta.weights.kind === 'imagenet') {
    weightsFile = checkedWeightsFile(abs, meta, opts);
    weightsArg = weightsFile;
  } else {
    weightsArg = 'random';
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
    const { applyBatchNormStats } = require('../backbones/calibrate') as typeof import('../backbones/calibrate');
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
    let features: (x: tf.Tensor4D) => tf.Tensor[];
    let heads: Array<(feats: tf.Tensor[]) => tf.Tensor>;
    if (meta.regime === 'frozen') {
      // The same extractor the study cached features with: BN folded, then Flatten.
      const m = foldBN ? foldBatchNorm(base).model : base;
      const extractor = tf.model({ inputs: m.inputs, outputs: tf.layers.flatten().apply(m.outputs[0]) as tf.SymbolicTensor, name: `${backbone}_features` });
      const dim = extractor.outputs[0].shape[1] as number;
      if (dim !== meta.flattenSize) {
        throw new ScoringModelError(abs, `the rebuilt ${backbone} at ${meta.inputSize}x${meta.inputSize} gives ${dim} features, meta.json 'flattenSize' says ${meta.flattenSize}`);
      }
      features = (x) => [extractor.predict(x) as tf.Tensor];
      heads = [];
      for (const mm of members) {
        const inp = tf.input({ shape: [dim], name: 'features' });
        const dense = tf.layers.dense({ units: 3, name: 'dense' });
        const head = tf.model({ inputs: inp, outputs: dense.apply(inp) as tf.SymbolicTensor, name: 'head' });
        disposables.push(head);
        await loadMemberWeights(abs, mm, head);
        heads.push((f) => head.predict(f[0]) as tf.Tensor);
      }
    } else {
      if (base.layers.length !== meta.baseLayers) {
        throw new ScoringModelError(abs, `the rebuilt ${backbone} has ${base.layers.length} layers, meta.json 'baseLayers' says ${meta.baseLayers}`);
      }
      const whole = attachHead(base, { dense: tf.layers.dense({ units: 3, name: 'dense' }) });
      const frozen = new Set(base.layers.slice(0, meta.frozenLayers));
      const split = splitModel(whole, (l) => frozen.has(l));
      // Auto-numbered tensor names (re_lu_20) depend on what the process built before; shapes must agree.
      const want = meta.cut!.map((c) => c.shape.join('x')).join(', ');
      const got = split.cut.map((c) => c.shape.join('x')).join(', ');
      if (want !== got) throw new ScoringModelError(abs, `the cut after ${meta.frozenLayers} frozen layers gives tensors [${got}], meta.json 'cut' says [${want}]`);
      const prefix = foldBN ? foldBatchNorm(split.prefix).model : split.prefix;
      const suffix = split.suffix;
      // One suffix, member weights swapped in before each member's pass (ensembles of the partial regime).
      const memberWeights: tf.Tensor[][] = [];
      for (const mm of members) {
        await loadMemberWeights(abs, mm, suffix);
        const ws = suffix.getWeights().map((t) => tf.clone(t));
        memberWeights.push(ws);
        disposables.push({ dispose: () => tf.dispose(ws) });
      }
      features = (x) => {
        const y = prefix.predict(x);
        return Array.isArray(y) ? y : [y];
      };
      heads = memberWeights.map((ws) => (f) => {
        if (memberWeights.length > 1) suffix.setWeights(ws);
        return suffix.predict(f.length === 1 ? f[0] : f) as tf.Tensor;
      });
    }
    const size = meta.inputSize;
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
        const area = size * size;
        if (data.length < count * area) throw new Error(`predict: ${data.length} values cannot hold ${count} patches of ${size}x${size}`);
        const out = heads.map(() => new Float32Array(count * 3));
        for (let s = 0; s < count; s += batchSize) {
          const n = Math.min(batchSize, count - s);
          const ys = tf.tidy(() => {
            const x = patchesToTensor(data.subarray(s * area, (s + n) * area), n, size, meta.preprocessing as PreprocessingMode);
            const f = features(x);
            return heads.map((h) => h(f));
          });
          ys.forEach((y, k) => out[k].set(y.dataSync() as Float32Array, s * 3));
          tf.dispose(ys);
        }
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
  backbone: string;
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
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    out.push({
      dir: d,
      name: scoringModelName(d),
      backbone: meta.backbone,
      regime: meta.regime,
      kind: meta.kind,
      weights: meta.weights.kind,
      minValLoss: mean(meta.runs.map((r) => r.minValLoss)),
      testMAE: mean(meta.runs.map((r) => r.testMAE.overall)),
    });
  }
  return out.sort((a, b) => a.minValLoss - b.minValLoss);
}
