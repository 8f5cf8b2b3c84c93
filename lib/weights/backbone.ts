/**
 * A backbone with its weights: ImageNet (from the Keras cache, downloaded when missing), a given
 * file, pretext-pretrained weights (lib/pretext), or a seeded random init.
 */
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import * as cliProgress from 'cli-progress';
import type { WeightsProvenance } from '../types';
import { buildBackbone } from '../backbones';
import { getBackboneSpec, type BackboneName } from '../backbones/registry';
import type { BackboneArgs } from '../backbones/common';
import {
  cleanStaleDownloads,
  fetchWeights,
  findWeights,
  kerasCacheDir,
  weightsProvenance,
  weightsUrl,
  WeightsDownloadError,
  type FetchProgress,
  type FetchWeightsOptions,
  type WeightsLocationOptions,
} from './cache';
import { checkWeightsLayout, type BackboneBuilder } from './layout';
import { IMAGENET, pretextUnavailableError, provenanceFile, type PretextWeightsResolver, type WeightsSource } from './source';
import { loadKerasH5Weights } from './h5';
import { loadTfjsWeights } from './tfjs';

/** How missing ImageNet files are downloaded (as keras.applications does). */
export interface DownloadArgs extends Pick<FetchWeightsOptions, 'baseUrl' | 'connectTimeoutMs' | 'idleTimeoutMs' | 'onProgress'> {
  /** Download missing files. Default true, unless PET_IQA_OFFLINE=1. */
  enabled?: boolean;
}

/** Options of resolveWeights and ensureImagenetWeights. */
export interface ResolveWeightsArgs extends WeightsLocationOptions {
  /** Where the weights come from. Default { kind: 'imagenet' }. */
  weights?: WeightsSource;
  /** Seed of the random init. Default 0. */
  seed?: number;
  /** Where the banner, download progress (without a TTY) and md5 warnings go. Default: process.stderr. */
  warn?: (message: string) => void;
  /** Called with the chosen file before it is hashed, so that a bad file fails with the loader's message. */
  load?: (file: string) => Promise<unknown>;
  /** Downloading missing ImageNet files. Default: from Keras's storage, 5 s to connect. */
  download?: DownloadArgs;
  /** Makes pretext-pretrained weights (lib/pretext); without it a pretext source is a clear error. */
  pretext?: PretextWeightsResolver;
  /** Builder for the layout check of downloads without a published md5. Default buildBackbone. */
  layoutBuild?: BackboneBuilder;
  /** ImageNet files already located by ensureImagenetWeights (no search, download or banner again). */
  located?: ImagenetLocation;
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

/** One backbone's ImageNet file after looking for it and, when allowed, downloading it. */
export interface ImagenetLocation {
  name: BackboneName;
  /** The file; undefined when it is missing and could not be downloaded. */
  file?: string;
  /** True when it was downloaded just now. */
  downloaded?: boolean;
  /** Why it is missing: download disabled, or the download's error. */
  failure?: string;
  /** The server could not be reached at all (offline). */
  unreachable?: boolean;
  searched: string[];
}

/** A download progress display: a cli-progress bar on a TTY, else a line at every quarter. */
function progressDisplay(name: BackboneName, warn: (m: string) => void): { onProgress: (p: FetchProgress) => void; stop: () => void } {
  const mb = (n: number) => (n / 1e6).toFixed(1);
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar({ format: `${name.padEnd(18)} [{bar}] {percentage}% {value}/{total} MB`, stream: process.stderr }, cliProgress.Presets.shades_classic);
    let started = false;
    return {
      onProgress: (p) => {
        if (!started) bar.start(Number(mb(p.total ?? p.received)), 0);
        started = true;
        bar.update(Number(mb(p.received)));
      },
      stop: () => started && bar.stop(),
    };
  }
  let quarter = -1;
  return {
    onProgress: (p) => {
      const q = p.total ? Math.floor((4 * p.received) / p.total) : Math.floor(p.received / 25e6);
      if (q === quarter) return;
      quarter = q;
      warn(`${name}: downloaded ${mb(p.received)}${p.total ? ` of ${mb(p.total)}` : ''} MB`);
    },
    stop: () => undefined,
  };
}

/**
 * Finds the ImageNet files of `names` and downloads the missing ones into the Keras cache, as
 * keras.applications.X(weights='imagenet') does: progress display, md5 check (a layout check where
 * Keras publishes no md5), atomic write. An unreachable server fails fast (short connect timeout)
 * and is not asked again for the other backbones. Unless `banner` is false, those that stay
 * missing get ONE banner saying they will run on a random init.
 */
export async function ensureImagenetWeights(names: BackboneName[], args: ResolveWeightsArgs & { banner?: boolean } = {}): Promise<Map<BackboneName, ImagenetLocation>> {
  const warn = args.warn ?? ((m: string) => process.stderr.write(m + '\n'));
  const enabled = args.download?.enabled ?? process.env.PET_IQA_OFFLINE !== '1';
  const cacheDir = kerasCacheDir(args.cacheDir);
  const removed = cleanStaleDownloads(cacheDir);
  if (removed.length) warn(`removed ${removed.length} stale temporary file(s) of interrupted downloads: ${removed.join(', ')}`);
  const out = new Map<BackboneName, ImagenetLocation>();
  let unreachable: string | undefined;
  for (const name of names) {
    if (out.has(name)) continue;
    const found = findWeights(name, args);
    const loc: ImagenetLocation = { name, file: found.path, searched: found.searched };
    out.set(name, loc);
    if (loc.file) continue;
    if (!enabled) {
      loc.failure = args.download?.enabled === false ? 'downloads are off' : 'downloads are off (PET_IQA_OFFLINE=1)';
      continue;
    }
    if (unreachable) {
      Object.assign(loc, { failure: unreachable, unreachable: true });
      continue;
    }
    const url = weightsUrl(name, args.download?.baseUrl);
    warn(`${name}: ImageNet weights not in the cache; downloading ${url}`);
    const display = args.download?.onProgress ? { onProgress: args.download.onProgress, stop: () => undefined } : progressDisplay(name, warn);
    try {
      loc.file = await fetchWeights(name, {
        ...args.download,
        cacheDir: args.cacheDir,
        onProgress: display.onProgress,
        verify: (tmp) => checkWeightsLayout(name, tmp, { build: args.layoutBuild }),
      });
      loc.downloaded = true;
      display.stop();
      warn(`${name}: saved ${loc.file}`);
    } catch (err) {
      display.stop();
      loc.failure = (err as Error).message;
      if (err instanceof WeightsDownloadError && err.reason === 'unreachable') {
        unreachable = loc.failure;
        loc.unreachable = true;
      }
    }
  }
  const missing = [...out.values()].filter((l) => !l.file);
  if (missing.length && args.banner !== false) warn(missingWeightsBanner(missing, args.seed ?? 0));
  return out;
}

/** What is missing and why: a headline, then one line per backbone. */
export function missingWeightsLines(missing: ImagenetLocation[]): string[] {
  const offline = missing.every((l) => l.unreachable);
  return [
    `no ImageNet weights for ${missing.map((l) => l.name).join(', ')}${offline ? ': the download server cannot be reached (offline?)' : ''}.`,
    ...missing.map((l) => `  ${l.name}: ${getBackboneSpec(l.name).weightsFile}: ${offline ? 'not in ' + l.searched.join(', ') : (l.failure ?? 'missing')}`),
    ...(offline ? [`  (${missing[0].failure})`] : []),
  ];
}

/** The one banner for backbones whose ImageNet weights stay missing. */
export function missingWeightsBanner(missing: ImagenetLocation[], seed: number): string {
  const names = missing.map((l) => l.name);
  const [headline, ...details] = missingWeightsLines(missing);
  return [
    '!'.repeat(78),
    `WARNING: ${headline}`,
    ...details,
    `  These backbones get a RANDOM initialisation (seed ${seed}) instead; results are NOT ImageNet transfer learning`,
    '  (every record says "random init"; the study calibrates their BatchNormalization statistics on training patches).',
    `  Get the files with: npm run weights -- fetch ${names.join(' ')}   (or copy them into ${path.dirname(missing[0].searched[0])} or PET_IQA_WEIGHTS_DIR)`,
    '!'.repeat(78),
  ].join('\n');
}

/**
 * Which weights file a backbone gets (none for a random init) and their provenance. Missing
 * ImageNet weights are downloaded (ensureImagenetWeights); when that fails the backbone gets a
 * random init with a loud banner. An ImageNet file whose md5 is not Keras's is used with a warning.
 * A pretext source is resolved by `args.pretext` (lib/pretext).
 */
export async function resolveWeights(name: BackboneName, args: ResolveWeightsArgs = {}): Promise<{ file?: string; provenance: WeightsProvenance }> {
  const source = args.weights ?? IMAGENET;
  const seed = args.seed ?? 0;
  const warn = args.warn ?? ((m: string) => process.stderr.write(m + '\n'));
  let file: string;
  switch (source.kind) {
    case 'random':
      return { provenance: { kind: 'random init', seed } };
    case 'pretext': {
      if (!args.pretext) throw pretextUnavailableError(source);
      const made = await args.pretext(name, source);
      await args.load?.(made.file);
      return made;
    }
    case 'file':
      file = source.path;
      break;
    case 'imagenet': {
      const loc = args.located ?? (await ensureImagenetWeights([name], args)).get(name)!;
      if (!loc.file) return { provenance: { kind: 'random init', seed } };
      file = loc.file;
      break;
    }
  }
  await args.load?.(file);
  const provenance = weightsProvenance(file);
  const expected = getBackboneSpec(name).md5;
  if (source.kind === 'imagenet' && expected && provenance.kind === 'imagenet' && provenance.md5 !== expected) {
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
      const file = provenanceFile(args.provenance);
      if (file) await load(file);
      return { model, provenance: args.provenance };
    }
    const { provenance } = await resolveWeights(name, { ...args, load });
    return { model, provenance };
  } catch (err) {
    model.dispose();
    throw err;
  }
}
