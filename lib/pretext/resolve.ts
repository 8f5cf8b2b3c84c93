/**
 * Resolution of `--weights pretext` (and of a preset's offline fallback) for the study, scoring and
 * notebooks: the pretext file is made on demand from the study's own cohort with its test patients
 * excluded, cached by everything that determines it.
 */
import type { BackboneName } from '../backbones/registry';
import type { StudyPreset } from '../study/presets';
import type { WeightsProvenance } from '../types';
import { findWeights, type WeightsLocationOptions } from '../weights/cache';
import { resolveWeights, type ImagenetLocation } from '../weights/backbone';
import { parseWeightsSource, type PretextWeightsResolver, type WeightsSource } from '../weights/source';
import type { PretextTask } from './data';
import { ensurePretextWeights, type PretextSpec } from './cache';

/** The pretext task of a `--weights` value ('pretext' or 'pretext:<task>'), undefined for other sources. */
export function pretextTaskOf(weights: string): PretextTask | undefined {
  if (weights !== 'pretext' && !weights.startsWith('pretext:')) return undefined;
  const source = parseWeightsSource(weights);
  return source.kind === 'pretext' ? source.task : undefined;
}

/** Arguments of resolveStudyWeights. */
export interface ResolveStudyWeightsArgs extends WeightsLocationOptions {
  /** Where the weights come from. */
  weights: WeightsSource;
  /** The ImageNet file already found or downloaded (lib/study prepareStudyWeights), if any. */
  located?: ImagenetLocation;
  preset: Pick<StudyPreset, 'name' | 'patches' | 'seed' | 'pretext' | 'offlineWeights'>;
  /** The study's cohort manifest; pretext weights need one. */
  manifestPath?: string;
  /** The study's test patients: never read by pretraining. */
  testPatients: readonly string[];
  seed?: number;
  log?: (line: string) => void;
  /** Pretext cache folder (default results/cache/pretext). */
  pretextCacheDir?: string;
  backend?: string;
}

/** The pretext spec a preset gives for a backbone on a cohort. */
export function presetPretextSpec(backbone: BackboneName, args: Pick<ResolveStudyWeightsArgs, 'preset' | 'testPatients'> & { manifestPath: string; task?: PretextTask }): PretextSpec {
  const p = args.preset;
  const { onTooFew: _t, ...patches } = p.patches as typeof p.patches & { onTooFew?: string };
  return {
    backbone,
    task: args.task ?? 'count-level',
    manifestPath: args.manifestPath,
    excludePatients: [...args.testPatients],
    patchConfig: { ...patches, keep: p.pretext?.keep ?? p.patches.keep, onTooFew: 'warn' },
    train: { seed: p.seed, ...(p.pretext?.train ?? {}) },
  };
}

/**
 * Weights of a backbone for a study: pretext weights made on demand for 'pretext[:task]', and for
 * 'imagenet' when the file is missing and the preset falls back to pretext (said in the log);
 * anything else as lib/weights resolves it.
 */
export async function resolveStudyWeights(backbone: BackboneName, args: ResolveStudyWeightsArgs): Promise<{ file?: string; provenance: WeightsProvenance }> {
  const log = args.log ?? ((s: string) => process.stderr.write(s + '\n'));
  let source = args.weights;
  const imagenetMissing = source.kind === 'imagenet' && !(args.located ? args.located.file : findWeights(backbone, args).path);
  if (imagenetMissing && args.preset.offlineWeights === 'pretext') {
    log(`${backbone}: no ImageNet weights file here; the '${args.preset.name}' preset uses pretext weights instead (count level, pretrained on this cohort's non-test patients; cached). Fetch ImageNet weights with: npm run weights -- fetch ${backbone}`);
    source = { kind: 'pretext', task: 'count-level' };
  }
  return resolveWeights(backbone, { weights: source, seed: args.seed, warn: log, cacheDir: args.cacheDir, weightsDir: args.weightsDir, located: args.located, pretext: studyPretextResolver(args) });
}

/** A PretextWeightsResolver that pretrains on the study's cohort (its test patients excluded), cached. */
export function studyPretextResolver(args: Omit<ResolveStudyWeightsArgs, 'weights' | 'located'>): PretextWeightsResolver {
  const log = args.log ?? ((s: string) => process.stderr.write(s + '\n'));
  return async (backbone, source) => {
    if (!args.manifestPath) throw new Error(`--weights pretext needs the study's cohort manifest (a dataset file has no count levels to pretrain on)`);
    const spec = presetPretextSpec(backbone, { ...args, manifestPath: args.manifestPath, task: source.task });
    const made = await ensurePretextWeights(spec, { cacheDir: args.pretextCacheDir, log, backend: args.backend });
    log(`${backbone}: ${made.provenance.label}${made.cached ? ' (cached)' : ''}: ${made.file}`);
    return { file: made.file, provenance: made.provenance };
  };
}
