/**
 * Where quality lives in a backbone: for each block output, a ridge probe (penalty chosen on the
 * validation patients) from spatially averaged activations (mean and std per channel) to the three
 * scores, test MAE against depth; next to it the paper's frozen protocol (Flatten of the last layer,
 * Dense(3)) and the constant and handcrafted baselines, all on one split of the study's design.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { handcraftedFeatureMatrix } from '../baselines/features';
import { fitConstant, fitRidgeSelected, predictConstant, predictRidge } from '../baselines/ridge';
import { initBackend } from '../backend';
import { calibrateBatchNorm } from '../backbones/calibrate';
import { getBackboneSpec, type BackboneName } from '../backbones/registry';
import { makeDesign } from '../design/design';
import { ensureCohort, resultsDirFor } from '../workspace';
import { loadManifest } from '../manifest';
import { buildPatchDataset, gatherPatches, toBackboneInput, type PatchDataset } from '../patches/dataset';
import { resolveStudyWeights } from '../pretext/resolve';
import { getPreset, type StudyPreset } from '../study/presets';
import { predictHead, resolveTrainConfig, trainHead } from '../train/head';
import type { WeightsProvenance } from '../types';
import { gitCommit } from '../util/provenance';
import { writeJsonAtomic } from '../util/files';
import { Rng, deriveSeed } from '../util/rng';
import { loadBackboneWithWeights } from '../weights/backbone';
import { parseWeightsSource } from '../weights/source';
import { probePoints, pooledActivations } from './points';
import { fitRidgeProbe, probeError, type ProbeError } from './ridge';
import type { ProbeResult } from './result';

/** Arguments of runProbe. */
export interface ProbeArgs {
  backbone: string;
  /** 'random' | 'pretext' | 'imagenet' | a file. Default 'random'. */
  weights?: string;
  /** Preset (name or object) whose cohort, patches, design and head training are used. Default 'quick'. */
  preset?: string | StudyPreset;
  /** Cohort manifest. Default: the preset's synthetic cohort (generated when missing). */
  manifestPath?: string;
  /** Fold of the design. Default: the preset's partial-regime fold (the paper's single fold). */
  fold?: number;
  /** Training patients. Default: the preset's partial-regime n. */
  n?: number;
  /** Most probe points. Default 16. */
  maxPoints?: number;
  /** Results folder; the probe goes to `<out>/probe/<backbone>__<weights>.json`. Default results/<preset>. */
  out?: string;
  backend?: string;
  log?: (line: string) => void;
}

/** The Fig. 9 curve a weights provenance belongs to, and its label. */
export function weightsCurve(p: WeightsProvenance, requested: string): { kind: string; label: string } {
  if (p.kind === 'pretext') return { kind: 'pretext', label: p.label };
  if (p.kind === 'random init') return { kind: 'random', label: `random init (seed ${p.seed}, BN calibrated)` };
  return requested === 'imagenet' ? { kind: 'imagenet', label: `ImageNet (${path.basename(p.file)})` } : { kind: 'file', label: `file ${path.basename(p.file)}` };
}

/**
 * One ridge probe per feature matrix (rows = patches), penalty chosen on `rows.validation`, scored
 * on `rows.test` per patch and per volume.
 */
export function probeBlocks(
  matrices: ReadonlyArray<{ data: Float32Array | Float64Array; rows: number; dim: number }>,
  labels: Float32Array,
  rows: { train: ArrayLike<number>; validation: ArrayLike<number>; test: ArrayLike<number> },
  volumeOf: (row: number) => string,
): Array<{ lambda: number; validationMSE: number; test: ProbeError }> {
  const y = { data: labels, rows: labels.length / 3, dim: 3 };
  return matrices.map((x) => {
    const sel = fitRidgeProbe(x, y, rows.train, rows.validation);
    const err = probeError(predictRidge(sel.model, x, rows.test), labels, rows.test, volumeOf);
    return { lambda: sel.model.lambda, validationMSE: sel.path.find((q) => q.lambda === sel.model.lambda)!.validationMSE, test: err };
  });
}

/** Patches the BN statistics of a random-init backbone are measured on (as the study runner does). */
const CALIBRATION_IMAGES = 64;

/** Runs the probe of one backbone with one weights source and writes its file. */
export async function runProbe(args: ProbeArgs): Promise<{ file: string; result: ProbeResult }> {
  const t0 = performance.now();
  const log = args.log ?? ((s: string) => process.stderr.write(s + '\n'));
  const preset = typeof args.preset === 'object' ? structuredClone(args.preset) : getPreset(args.preset ?? 'quick');
  const backbone = getBackboneSpec(args.backbone).name as BackboneName;
  const spec = getBackboneSpec(backbone);
  const weights = args.weights ?? 'random';
  const manifestPath = args.manifestPath ?? (await ensureCohort(preset.cohort, log));
  const loaded = loadManifest(manifestPath);
  const ds: PatchDataset = await buildPatchDataset(loaded, { ...preset.patches });
  const design = makeDesign([...new Set(ds.patchPatient)], { ...preset.design, seed: preset.design.seed ?? preset.seed }, loaded.manifest.testPatients);
  const foldNo = args.fold ?? preset.partial.fold;
  const fold = design.folds[foldNo];
  if (!fold) throw new Error(`probe: fold ${foldNo} does not exist (the design has ${design.folds.length})`);
  const n = args.n ?? preset.partial.n;
  const trainPatients = fold.training[String(n)];
  if (!trainPatients) throw new Error(`probe: n = ${n} is not a training size of the design (${design.trainingSizes.join(', ')})`);
  const rowsOf = (ps: readonly string[]) => ds.patchPatient.flatMap((p, i) => (ps.includes(p) ? [i] : []));
  const train = rowsOf(trainPatients);
  const validation = rowsOf(fold.validation);
  const test = rowsOf(design.testPatients);
  const volumeOf = (r: number) => ds.patchRecon[r];

  const choice = await initBackend(args.backend ? { backend: args.backend } : {});
  const { provenance } = await resolveStudyWeights(backbone, { weights: parseWeightsSource(weights), preset, manifestPath, testPatients: design.testPatients, seed: preset.seed, log, backend: args.backend });
  const { model: base } = await loadBackboneWithWeights(backbone, { provenance, inputSize: ds.size, seed: preset.seed, warn: () => undefined });
  const curve = weightsCurve(provenance, weights);
  try {
    if (provenance.kind === 'random init') {
      // As the study does: BN statistics measured on non-test patches, else the activations vanish.
      const pool = ds.patchPatient.flatMap((p, i) => (design.testPatients.includes(p) ? [] : [i]));
      const chosen = new Rng(deriveSeed(preset.seed, 'bn-calibration', backbone)).sample(pool, Math.min(CALIBRATION_IMAGES, pool.length));
      const x = toBackboneInput(ds, chosen, spec.preprocessing);
      calibrateBatchNorm(base, x);
      x.dispose();
    }
    const points = probePoints(base, args.maxPoints ?? 16);
    log(`probe ${backbone} (${curve.label}): ${points.length} block outputs (${points.map((p) => p.name).join(', ')}); ${ds.count} patches; backend ${choice.backend}`);
    const all = Array.from({ length: ds.count }, (_, i) => i);
    const batchSize = 32;
    const flat: Float32Array[] = [];
    function* batches(): Generator<tf.Tensor4D> {
      for (let s = 0; s < all.length; s += batchSize) {
        const x = toBackboneInput(ds, all.slice(s, s + batchSize), spec.preprocessing);
        // The paper's features: Flatten of the last layer, taken in the same pass.
        const f = tf.tidy(() => (base.predict(x) as tf.Tensor).reshape([x.shape[0], -1]));
        flat.push(f.dataSync() as Float32Array);
        f.dispose();
        yield x;
        x.dispose();
      }
    }
    const pooled = pooledActivations(base, points, batches());
    const yAll = { data: ds.labels, rows: ds.count, dim: 3 };
    const results = probeBlocks(pooled, ds.labels, { train, validation, test }, volumeOf).map((r, i) => {
      const p = points[i];
      log(`  ${p.name.padEnd(28)} depth ${p.depth.toFixed(2)} dim ${pooled[i].dim} lambda ${r.lambda.toExponential(0)}: test MAE ${r.test.perPatch.overall.toFixed(3)} per patch, ${r.test.perVolume.overall.toFixed(3)} per volume`);
      return { ...p, ...r };
    });

    // The paper's frozen protocol on the same split.
    const dim = flat.reduce((s, f) => s + f.length, 0) / ds.count;
    const features = { data: new Float32Array(ds.count * dim), rows: ds.count, dim };
    let o = 0;
    for (const f of flat) {
      features.data.set(f, o);
      o += f.length;
    }
    const cfg = resolveTrainConfig({ ...preset.frozenTrain, seed: deriveSeed(preset.seed, 'probe-head', backbone) });
    const head = trainHead({ features, labels: ds.labels, train, validation, config: cfg });
    const headErr = probeError(predictHead(head.best, features, test), ds.labels, test, volumeOf);
    log(`  frozen protocol (Flatten ${dim}, Dense(3), ${cfg.epochs} epochs lr ${cfg.learningRate}, kept ${head.keptEpoch}): test MAE ${headErr.perPatch.overall.toFixed(3)} per patch, ${headErr.perVolume.overall.toFixed(3)} per volume`);

    // Baselines on the same rows.
    const hand = handcraftedFeatureMatrix(gatherPatches(ds, all), ds.size, ds.count);
    const handSel = fitRidgeSelected(hand, yAll, train, validation);
    const handErr = probeError(predictRidge(handSel.model, hand, test), ds.labels, test, volumeOf);
    const constErr = probeError(predictConstant(fitConstant(yAll, train), test.length), ds.labels, test, volumeOf);
    log(`  baselines: constant ${constErr.perPatch.overall.toFixed(3)} / ${constErr.perVolume.overall.toFixed(3)}, handcrafted ridge ${handErr.perPatch.overall.toFixed(3)} / ${handErr.perVolume.overall.toFixed(3)} (per patch / per volume)`);

    const result: ProbeResult = {
      schema: 'pet-iqa/probe@1',
      backbone,
      weightsKind: curve.kind,
      weightsLabel: curve.label,
      weights: provenance as unknown as Record<string, unknown>,
      preset: preset.name,
      fold: foldNo,
      n,
      trainPatients,
      validationPatients: fold.validation,
      testPatients: design.testPatients,
      patchSetHash: ds.key,
      points: results,
      frozenHead: { flattenSize: dim, keptEpoch: head.keptEpoch, epochs: cfg.epochs, learningRate: cfg.learningRate, test: headErr },
      baselines: { constant: constErr, handcrafted: { ...handErr, lambda: handSel.model.lambda } },
      backend: choice.backend,
      gitCommit: gitCommit(),
      seconds: (performance.now() - t0) / 1000,
      createdAt: new Date().toISOString(),
    };
    const file = path.join(path.resolve(args.out ?? resultsDirFor(preset.name)), 'probe', `${backbone}__${curve.kind}.json`);
    writeJsonAtomic(file, result);
    return { file, result };
  } finally {
    base.dispose();
  }
}

