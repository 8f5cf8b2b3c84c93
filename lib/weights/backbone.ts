/**
 * A backbone with its weights: ImageNet (from the Keras cache), a given file, or a seeded random init.
 */
import * as tf from '@tensorflow/tfjs';
import type { WeightsProvenance } from '../types';
import { getBackboneSpec, type BackboneName } from '../backbones/registry';
import type { BackboneArgs } from '../backbones/common';
import { findWeights, weightsProvenance } from './cache';
import { loadKerasH5Weights } from './h5';
import { loadTfjsWeights } from './tfjs';

/** Options of loadBackboneWithWeights. */
export interface LoadBackboneArgs {
  /**
   * 'imagenet' (Keras cache or PET_IQA_WEIGHTS_DIR; random init with a loud warning when absent),
   * 'random' (seeded init), or a file path (Keras .h5 or TensorFlow.js model.json; errors are thrown).
   * Default 'imagenet'.
   */
  weights?: 'imagenet' | 'random' | string;
  /** Square input size. Default 80. */
  inputSize?: number;
  /** Seed of the random init. Default 0. */
  seed?: number;
  /** Keras cache folder (see findWeights). */
  cacheDir?: string;
  /** Extra weights folder (see findWeights). */
  weightsDir?: string;
  /** Where the missing-weights warning goes. Default: process.stderr. */
  warn?: (message: string) => void;
  /** Builder of the bare model; default: buildBackbone from lib/backbones. Tests pass a small double. */
  build?: (name: BackboneName, args: BackboneArgs) => tf.LayersModel;
}

type BuildFn = (name: BackboneName, args: BackboneArgs) => tf.LayersModel;

/** lib/backbones/index.ts is written by other helpers; load it lazily so this stage compiles without it. */
function defaultBuild(): BuildFn {
  let mod: { buildBackbone?: BuildFn };
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mod = require('../backbones');
  } catch (err) {
    throw new Error(`lib/backbones (buildBackbone) cannot be loaded: ${(err as Error).message}`);
  }
  if (typeof mod.buildBackbone !== 'function') throw new Error('lib/backbones does not export buildBackbone');
  return mod.buildBackbone;
}

/** Loads weights from a file into a model: TensorFlow.js when it ends in .json, Keras HDF5 otherwise. */
export async function loadWeightsFile(model: tf.LayersModel, file: string): Promise<void> {
  if (file.toLowerCase().endsWith('.json')) await loadTfjsWeights(model, file);
  else await loadKerasH5Weights(model, file);
}

/** Builds a backbone and gives it weights, returning where they came from. */
export async function loadBackboneWithWeights(
  name: BackboneName,
  args: LoadBackboneArgs = {},
): Promise<{ model: tf.LayersModel; provenance: WeightsProvenance }> {
  getBackboneSpec(name); // clear error for an unknown name before anything is built
  const weights = args.weights ?? 'imagenet';
  const seed = args.seed ?? 0;
  const build = args.build ?? defaultBuild();
  const warn = args.warn ?? ((m: string) => process.stderr.write(m + '\n'));
  const model = build(name, { inputSize: args.inputSize ?? 80, seed });
  try {
    if (weights === 'random') return { model, provenance: { kind: 'random init', seed } };
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
        return { model, provenance: { kind: 'random init', seed } };
      }
      await loadKerasH5Weights(model, found.path);
      const provenance = weightsProvenance(found.path);
      const expected = getBackboneSpec(name).md5;
      if (expected && provenance.kind === 'imagenet' && provenance.md5 !== expected) {
        warn(`WARNING: ${found.path} has md5 ${provenance.md5}, not Keras's ${expected} for ${name}; loaded anyway (its sha256 is recorded). Check with: npm run weights -- verify ${name}`);
      }
      return { model, provenance };
    }
    await loadWeightsFile(model, weights);
    return { model, provenance: weightsProvenance(weights) };
  } catch (err) {
    model.dispose();
    throw err;
  }
}
