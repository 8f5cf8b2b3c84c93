/**
 * A backbone with its weights: ImageNet (from the Keras cache), a given file, or a seeded random init.
 */
import * as tf from '@tensorflow/tfjs';
import type { WeightsProvenance } from '../types';
import { buildBackbone } from '../backbones';
import { getBackboneSpec, type BackboneName } from '../backbones/registry';
import type { BackboneArgs } from '../backbones/common';
import { findWeights, weightsProvenance, type WeightsLocationOptions } from './cache';
import { loadKerasH5Weights } from './h5';
import { loadTfjsWeights } from './tfjs';

/** Options of resolveWeights. */
export interface ResolveWeightsArgs extends WeightsLocationOptions {
  /**
   * 'imagenet' (Keras cache or PET_IQA_WEIGHTS_DIR; random init with a loud warning when absent),
   * 'random' (seeded init), or a file path (Keras .h5 or TensorFlow.js model.json).
   * Default 'imagenet'.
   */
  weights?: 'imagenet' | 'random' | string;
  /** Seed of the random init. Default 0. */
  seed?: number;
  /** Where the missing-weights and md5 warnings go. Default: process.stderr. */
  warn?: (message: string) => void;
  /** Called with the chosen file before it is hashed, so that a bad file fails with the loader's message. */
  load?: (file: string) => Promise<unknown>;
}

/** Options of loadBackboneWithWeights. */
export interface LoadBackboneArgs extends Omit<ResolveWeightsArgs, 'load'> {
  /** Square input size. Default 80. */
  inputSize?: number;
  /** Builder of the bare model; default: buildBackbone from lib/backbones. Tests pass a small double. */
  build?: (name: BackboneName, args: BackboneArgs) => tf.LayersModel;
  /** Weights already resolved (resolveWeights): load them as they are, without finding or hashing again. */
  provenance?: WeightsProvenance;
}

/** Loads weights from a file into a model: TensorFlow.js when it ends in .json, Keras HDF5 otherwise. */
export async function loadWeightsFile(model: tf.LayersModel, file: string): Promise<void> {
  if (file.toLowerCase().endsWith('.json')) await loadTfjsWeights(model, file);
  else await loadKerasH5Weights(model, file);
}

/**
 * Which weights file a backbone gets (none for a random init) and their provenance. Missing ImageNet
 * weights give a random init with a loud warning; an ImageNet file whose md5 is not Keras's is used
 * with a warning.
 */
export async function resolveWeights(name: BackboneName, args: ResolveWeightsArgs = {}): Promise<{ file?: string; provenance: WeightsProvenance }> {
  const weights = args.weights ?? 'imagenet';
  const seed = args.seed ?? 0;
  const warn = args.warn ?? ((m: string) => process.stderr.write(m + '\n'));
  if (weights === 'random') return { provenance: { kind: 'random init', seed } };
  let file = weights;
  if (weights === 'imagenet') {
    const found = findWeights(name, { cacheDir: args.cacheDir, weightsDir: args.weightsDir });
    if (!found.path) {
      warn(
        [
          '!'.repeat(78),
          `WARNING: ImageNet weights for ${name} are missing: ${getBackboneSpec(name).weightsFile}`,
          `  searched: ${found.searched.join(', ')}`,
          `  Using a RANDOM initialisation (seed ${seed}) instead; results are not ImageNet transfer learning.`,
          `  Fetch the weights with: npm run weights -- fetch ${name}`,
          '!'.repeat(78),
        ].join('\n'),
      );
      return { provenance: { kind: 'random init', seed } };
    }
    file = found.path;
  }
  await args.load?.(file);
  const provenance = weightsProvenance(file);
  const expected = getBackboneSpec(name).md5;
  if (weights === 'imagenet' && expected && provenance.kind === 'imagenet' && provenance.md5 !== expected) {
    warn(`WARNING: ${file} has md5 ${provenance.md5}, not Keras's ${expected} for ${name}; loaded anyway (its sha256 is recorded). Check with: npm run weights -- verify ${name}`);
  }
  return { file, provenance };
}

/** Builds a backbone and gives it weights, returning where they came from. */
export async function loadBackboneWithWeights(
  name: BackboneName,
  args: LoadBackboneArgs = {},
): Promise<{ model: tf.LayersModel; provenance: WeightsProvenance }> {
  getBackboneSpec(name); // clear error for an unknown name before anything is built
  const build = args.build ?? buildBackbone;
  const model = build(name, { inputSize: args.inputSize ?? 80, seed: args.seed ?? 0 });
  try {
    const load = (file: string) => loadWeightsFile(model, file);
    if (args.provenance) {
      if (args.provenance.kind === 'imagenet' || args.provenance.kind === 'pretext') await load(args.provenance.file);
      return { model, provenance: args.provenance };
    }
    const { provenance } = await resolveWeights(name, { ...args, load });
    return { model, provenance };
  } catch (err) {
    model.dispose();
    throw err;
  }
}
