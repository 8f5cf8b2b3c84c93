/**
 * Batch scoring: every input volume with one model, a report row each, a PNG each; a volume that fails
 * gets only its error row and the batch goes on.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { FigureRenderer } from '../figures/render';
import { scoresDir } from '../records';
import { writeFileAtomic } from '../util/files';
import { scoreFigure } from './figure';
import type { ScoringModel } from './model';
import { describeTrainingData, type OodTolerance, type TrainingDataDescription } from './reference';
import { modelSummary, scoreVolume, writeScoreReport, type ScoreInput, type ScoreReport, type VolumeScore } from './score';

/** Something that turns a figure into PNG bytes (lib/figures' FigureRenderer). */
export interface PngRenderer {
  render(fig: import('../figures/common').Figure, formats: Array<'png' | 'svg'>, scale?: number): Promise<{ png?: Buffer }>;
  close?(): Promise<void>;
}

/** Arguments of scoreBatch. */
export interface ScoreBatchArgs {
  model: ScoringModel;
  inputs: ScoreInput[];
  /** Report folder. Default `<project>/results/scores/<model name>`. */
  out?: string;
  /** Write a PNG per volume (`<out>/png/<name>.png`). Default true. */
  png?: boolean;
  /** Renderer to use (and leave open); default: one headless Chromium opened on the first PNG, closed at the end. */
  renderer?: PngRenderer;
  /**
   * Training data description: a description, a cohort manifest to derive it from, or null for none.
   * Default: derived from the manifest and run records the model folder names.
   */
  reference?: TrainingDataDescription | string | null;
  /** Cache of derived descriptions; null disables. Default `<project>/results/cache/score-reference`. */
  referenceCacheDir?: string | null;
  tolerance?: OodTolerance;
  /** Whether manifest checksums were verified (expandInputs and the reference); recorded in the report. Default true. */
  verifyChecksums?: boolean;
  /** Backend name recorded in the report. Default tf.getBackend(). */
  backend?: string;
  /** Called after every volume. */
  onVolume?: (done: number, total: number, row: VolumeScore) => void;
}

export interface ScoreBatchResult {
  out: string;
  report: ScoreReport;
  json: string;
  csv: string;
  scored: number;
  failed: number;
  flagged: number;
}

/** Default report folder of a model: results/scores/<model name>. */
export function defaultScoreOut(model: Pick<ScoringModel, 'name'>): string {
  return scoresDir(model.name);
}

/** A file name for a volume's PNG, unique within the batch. */
function pngName(input: ScoreInput, used: Set<string>): string {
  const raw = input.id ?? path.basename(input.file).replace(/\.nii(\.gz)?$/i, '');
  const base = raw.replace(/[^A-Za-z0-9._-]+/g, '_') || 'volume';
  let name = base;
  for (let i = 2; used.has(name); i++) name = `${base}_${i}`;
  used.add(name);
  return name;
}

/**
 * Scores every input, writing `<out>/scores.json` and `<out>/scores.csv` after each volume (atomically,
 * so a stopped batch leaves a consistent report) and `<out>/png/<name>.png` per scored volume.
 */
export async function scoreBatch(args: ScoreBatchArgs): Promise<ScoreBatchResult> {
  const { model, inputs } = args;
  const out = path.resolve(args.out ?? defaultScoreOut(model));
  fs.mkdirSync(out, { recursive: true });
  let reference: ScoreReport['reference'];
  if (args.reference === null) reference = { reason: 'disabled' };
  else if (typeof args.reference === 'object') reference = { description: args.reference };
  else reference = describeTrainingData(model.dir, model.meta, { manifest: args.reference, cacheDir: args.referenceCacheDir, verifyChecksums: args.verifyChecksums });
  const report: ScoreReport = { schema: 'pet-iqa/scores@1', model: modelSummary(model), reference, backend: args.backend ?? tf.getBackend(), verifyChecksums: args.verifyChecksums ?? true, volumes: [] };
  const wantPng = args.png ?? true;
  let renderer = args.renderer;
  let ownRenderer = false;
  const used = new Set<string>();
  let scored = 0;
  let failed = 0;
  let flagged = 0;
  let paths = writeScoreReport(out, report);
  try {
    for (const input of inputs) {
      let row: VolumeScore;
      try {
        const { score, volume, patchScores } = scoreVolume(model, input, { reference: reference.description, tolerance: args.tolerance });
        if (!reference.description) score.flags.push({ code: 'no-reference', message: `no training data description to compare with: ${reference.reason}` });
        if (wantPng) {
          const name = pngName(input, used);
          try {
            if (!renderer) {
              renderer = await FigureRenderer.open();
              ownRenderer = true;
            }
            const img = await renderer.render(scoreFigure(volume, score, { patchScores, patchSize: model.inputSize }), ['png'], 1);
            if (!img.png) throw new Error('the renderer returned no PNG');
            const rel = path.join('png', `${name}.png`);
            writeFileAtomic(path.join(out, rel), img.png);
            score.png = rel;
          } catch (err) {
            // The scores stand; only the picture is missing, and the row says why.
            score.flags.push({ code: 'png-failed', message: `PNG not written: ${(err as Error).message.split('\n')[0]}` });
          }
        }
        row = score;
        scored++;
        if (score.flags.some((f) => f.code !== 'no-reference' && f.code !== 'png-failed')) flagged++;
      } catch (err) {
        row = {
          file: input.file,
          ...(input.id !== undefined ? { id: input.id, patient: input.patient, countPercent: input.countPercent } : {}),
          flags: [],
          error: (err as Error).message.split('\n').join(' '),
        };
        failed++;
      }
      report.volumes.push(row);
      paths = writeScoreReport(out, report);
      args.onVolume?.(report.volumes.length, inputs.length, row);
    }
  } finally {
    if (ownRenderer) await renderer?.close?.();
  }
  return { out, report, json: paths.json, csv: paths.csv, scored, failed, flagged };
}
