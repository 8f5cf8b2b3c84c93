/**
 * A study's weights before it writes anything: ImageNet files found or downloaded for its backbones
 * (one banner for those that stay missing), the paper preset's refusal to run on a random init
 * unless asked for, and a pretext source's resolver.
 */
import { getBackboneSpec, type BackboneName } from '../backbones/registry';
import {
  ensureImagenetWeights,
  missingWeightsLines,
  pretextUnavailableError,
  type DownloadArgs,
  type ImagenetLocation,
  type PretextWeightsResolver,
  type WeightsSource,
} from '../weights';
import type { StudyPreset } from './presets';

/** Presets that are a reproduction of the paper only with pretrained weights. */
export const PRESETS_REQUIRING_PRETRAINED_WEIGHTS: readonly string[] = ['paper'];

/** Arguments of prepareStudyWeights. */
export interface PrepareStudyWeightsArgs {
  preset: StudyPreset;
  backbones: readonly string[];
  weights: WeightsSource;
  log: (line: string) => void;
  /** Makes pretext weights (lib/pretext); required for a pretext source. */
  pretext?: PretextWeightsResolver;
  /** Downloads of missing ImageNet files (default: Keras's storage). */
  download?: DownloadArgs;
  /** Keras cache folder (default: PET_IQA_KERAS_CACHE or ~/.keras/models). */
  cacheDir?: string;
}

/**
 * Checks and fetches what a study's weights need, before anything is written. Returns the ImageNet
 * locations (empty unless the source is imagenet) for resolveWeights' `located`. Throws when the
 * preset needs pretrained weights and some are missing, or when a pretext source has no resolver.
 */
export async function prepareStudyWeights(args: PrepareStudyWeightsArgs): Promise<Map<BackboneName, ImagenetLocation>> {
  const { weights, preset } = args;
  if (weights.kind === 'pretext' && !args.pretext) throw pretextUnavailableError(weights);
  if (weights.kind !== 'imagenet') return new Map();
  const names = args.backbones.map((b) => getBackboneSpec(b).name);
  const strict = PRESETS_REQUIRING_PRETRAINED_WEIGHTS.includes(preset.name);
  const located = await ensureImagenetWeights(names, { seed: preset.seed, warn: args.log, download: args.download, cacheDir: args.cacheDir, banner: !strict && preset.offlineWeights !== 'pretext' });
  // A preset with a pretext fallback says per backbone what it uses instead (lib/pretext resolveStudyWeights).
  const missing = [...located.values()].filter((l) => !l.file);
  if (!strict && missing.length > 0 && preset.offlineWeights === 'pretext') {
    args.log(`${missingWeightsLines(missing)[0]} The '${preset.name}' preset pretrains pretext weights for them instead (below); these results are NOT ImageNet transfer learning.`);
  }
  if (strict && missing.length > 0) {
    throw new Error(
      `--preset ${preset.name} reproduces the paper's ImageNet transfer learning and will not run on a random init: ` +
        missingWeightsLines(missing).join('\n') +
        `\n  Fetch them (npm run weights -- fetch ${missing.map((l) => l.name).join(' ')}), or run on a random init explicitly with --weights random.`,
    );
  }
  return located;
}
