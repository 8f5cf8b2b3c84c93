/**
 * Where a backbone's weights come from, as one typed value shared by every command that takes
 * `--weights`: Keras's ImageNet files, a seeded random init, weights pretrained on a pretext task
 * (made on demand by lib/pretext), or a given file.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { BackboneName } from '../backbones/registry';
import type { WeightsProvenance } from '../types';

/** Pretext tasks a backbone can be pretrained on (see docs of lib/pretext). */
export const PRETEXT_TASKS = ['count-level'] as const;
export type PretextTask = (typeof PRETEXT_TASKS)[number];

/** Where a backbone's weights come from. */
export type WeightsSource =
  /** Keras's ImageNet notop file (cache, PET_IQA_WEIGHTS_DIR, or downloaded when missing). */
  | { kind: 'imagenet' }
  /** Keras's seeded random initialisation. */
  | { kind: 'random' }
  /** Pretrained on a pretext task of the study's own training data (lib/pretext makes the file). */
  | { kind: 'pretext'; task: PretextTask }
  /** A Keras .h5 or TensorFlow.js model.json file (absolute path). */
  | { kind: 'file'; path: string };

/** The default: what keras.applications.X(weights='imagenet') gives. */
export const IMAGENET: WeightsSource = { kind: 'imagenet' };

/** What `--weights` accepts, for help texts and errors. */
export const WEIGHTS_SOURCE_SYNTAX = `imagenet | random | pretext | ${PRETEXT_TASKS.map((t) => `pretext:${t}`).join(' | ')} | FILE (a Keras .h5 or TensorFlow.js model.json)`;

/**
 * Parses a `--weights` value: imagenet | random | pretext | pretext:<task> | an existing file
 * (relative paths against `cwd`, default process.cwd()). Anything else throws an error that lists
 * the valid values, so a typo stops a command before it writes anything.
 */
export function parseWeightsSource(text: string, opts: { cwd?: string } = {}): WeightsSource {
  const t = text.trim();
  if (t === 'imagenet') return { kind: 'imagenet' };
  if (t === 'random') return { kind: 'random' };
  if (t === 'pretext') return { kind: 'pretext', task: PRETEXT_TASKS[0] };
  if (t.startsWith('pretext:')) {
    const task = t.slice('pretext:'.length);
    if ((PRETEXT_TASKS as readonly string[]).includes(task)) return { kind: 'pretext', task: task as PretextTask };
    throw new Error(`--weights '${text}': unknown pretext task '${task}'; valid tasks: ${PRETEXT_TASKS.join(', ')}`);
  }
  const abs = path.resolve(opts.cwd ?? process.cwd(), t);
  let isFile = false;
  try {
    isFile = t.length > 0 && fs.statSync(abs).isFile();
  } catch {
    /* not a file: reported below */
  }
  if (isFile) return { kind: 'file', path: abs };
  const near = nearestKeyword(t);
  throw new Error(
    `--weights '${text}' is neither a weights source nor an existing file${near ? ` (did you mean '${near}'?)` : ''}; valid values: ${WEIGHTS_SOURCE_SYNTAX}`,
  );
}

/** The keyword within edit distance 2 of `t`, if any ('imagnet' -> 'imagenet'). */
function nearestKeyword(t: string): string | undefined {
  const words = ['imagenet', 'random', 'pretext'];
  const lower = t.toLowerCase();
  let best: { w: string; d: number } | undefined;
  for (const w of words) {
    const d = editDistance(lower, w);
    if (d <= 2 && (!best || d < best.d)) best = { w, d };
  }
  return best?.w;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

/** One line for logs and figure stamps: 'ImageNet (Keras)', 'random init', 'pretext count-level', 'file /x/y.h5'. */
export function describeWeightsSource(source: WeightsSource): string {
  switch (source.kind) {
    case 'imagenet':
      return 'ImageNet (Keras)';
    case 'random':
      return 'random init';
    case 'pretext':
      return `pretext ${source.task}`;
    case 'file':
      return `file ${source.path}`;
  }
}

/** The `--weights` text that parses back to `source`. */
export function formatWeightsSource(source: WeightsSource): string {
  return source.kind === 'pretext' ? `pretext:${source.task}` : source.kind === 'file' ? source.path : source.kind;
}

/**
 * Makes (or finds) a backbone's pretext-pretrained weights file. lib/pretext provides it; the caller
 * (the study runner) closes over what the resolution needs (data, design, output folder, log).
 */
export type PretextWeightsResolver = (
  backbone: BackboneName,
  source: Extract<WeightsSource, { kind: 'pretext' }>,
) => Promise<{ file: string; provenance: WeightsProvenance }>;

/** The error for a pretext source when no resolver is plugged in. */
export function pretextUnavailableError(source: Extract<WeightsSource, { kind: 'pretext' }>): Error {
  return new Error(
    `--weights pretext:${source.task}: pretext pretraining is not available in this command (no pretext resolver; lib/pretext provides it); ` +
      `use --weights imagenet, random or a weights file`,
  );
}

/** The file of a resolved provenance that a worker loads (none for a random init). */
export function provenanceFile(p: WeightsProvenance): string | undefined {
  return 'file' in p && typeof p.file === 'string' ? p.file : undefined;
}
