import * as fs from 'fs';
import * as path from 'path';
import { BACKBONES, BACKBONE_NAMES } from '../backbones/registry';
import type { StudyDesign } from '../design/design';
import type { Regime, RunRecord } from '../types';
import { mean, PAPER_RANDOM_LABEL_MAE } from './common';
import { ResultsDir, readDesign, tryReadBaselineRecord, tryReadRunRecord, type BaselineRecord } from '../records';

/** What the figures read: every run record of a results folder and the design it followed. */
export interface StudyResults {
  dir: string;
  runs: RunRecord[];
  /** Baseline records (`<dir>/baselines/*.json`): the constant and handcrafted predictors on the same splits. */
  baselines?: BaselineRecord[];
  /** Undefined when `<dir>/design.json` is absent; the figures then infer folds and sizes from the runs. */
  design?: StudyDesign;
  /** Problems met while reading (unreadable files, missing design). */
  warnings: string[];
}

/**
 * Reads `<dir>/runs/*.json` and `<dir>/design.json`. Throws, naming the folder, when there are no
 * runs at all; unreadable single records become warnings so one bad file does not hide the rest.
 */
export function loadResults(dir: string): StudyResults {
  const results = new ResultsDir(dir);
  const runsDir = results.runs;
  if (!fs.existsSync(runsDir)) {
    throw new Error(`loadResults: no folder ${runsDir}. Produce results first, e.g. \`npm run reproduce -- --preset quick\`.`);
  }
  const warnings: string[] = [];
  const runs: RunRecord[] = [];
  for (const file of results.runRecordFiles()) {
    const rec = tryReadRunRecord(file, (m) => warnings.push(`${m}; skipped`));
    if (rec) runs.push(rec);
  }
  const baselines: BaselineRecord[] = [];
  for (const file of results.baselineRecordFiles()) {
    const rec = tryReadBaselineRecord(file, (m) => warnings.push(`${m}; skipped`));
    if (rec) baselines.push(rec);
  }
  if (runs.length === 0) {
    throw new Error(`loadResults: ${runsDir} holds no run records (*.json). Produce results first, e.g. \`npm run reproduce -- --preset quick\`.`);
  }
  let design: StudyDesign | undefined;
  const designFile = results.design;
  if (fs.existsSync(designFile)) {
    design = readDesign(designFile);
  } else {
    warnings.push(`${designFile} is missing: folds and training sizes are inferred from the runs`);
  }
  return { dir, runs, baselines, design, warnings };
}

/** Folds, sizes and ensemble plan of a result set, from its design or, failing that, its runs. */
export function studyPlan(res: Pick<StudyResults, 'runs' | 'design'>): {
  folds: number[];
  sizes: number[];
  ensemble: { fold: number; repeats: number; sizes: number[] };
} {
  const uniq = (xs: number[]) => [...new Set(xs)].sort((a, b) => a - b);
  if (res.design) {
    return {
      folds: res.design.folds.map((f) => f.fold),
      sizes: res.design.trainingSizes.slice(),
      ensemble: { ...res.design.ensemble, sizes: res.design.ensemble.sizes.slice() },
    };
  }
  const foldRuns = res.runs.filter((r) => r.kind === 'fold');
  const ens = res.runs.filter((r) => r.kind === 'ensemble');
  return {
    folds: uniq(foldRuns.map((r) => r.fold)),
    sizes: uniq(foldRuns.map((r) => r.n)),
    ensemble: {
      fold: ens[0]?.fold ?? 0,
      repeats: ens.length ? Math.max(...ens.map((r) => r.repeat)) + 1 : 0,
      sizes: uniq(ens.map((r) => r.n)),
    },
  };
}

/**
 * The backbones a figure covers: the given list, or every backbone with at least one run
 * (in the registry's order), so a smoke study with two backbones draws two panels.
 */
export function backbonesOf(runs: RunRecord[], only?: readonly string[]): string[] {
  if (only && only.length) return only.slice();
  const present = new Set(runs.map((r) => r.backbone));
  const known = (BACKBONE_NAMES as readonly string[]).filter((b) => present.has(b));
  const unknown = [...present].filter((b) => !(BACKBONE_NAMES as readonly string[]).includes(b)).sort();
  return [...known, ...unknown];
}

/** Backbones of the registry that have no run at all (reported, not drawn). */
export function absentBackbones(runs: RunRecord[]): string[] {
  const present = new Set(runs.map((r) => r.backbone));
  return (BACKBONE_NAMES as readonly string[]).filter((b) => !present.has(b));
}

export function findRun(
  runs: RunRecord[],
  q: { backbone: string; regime: Regime; kind: 'fold' | 'ensemble'; fold?: number; n?: number; repeat?: number },
): RunRecord | undefined {
  return runs.find(
    (r) =>
      r.backbone === q.backbone &&
      r.regime === q.regime &&
      r.kind === q.kind &&
      (q.fold === undefined || r.fold === q.fold) &&
      (q.n === undefined || r.n === q.n) &&
      (q.repeat === undefined || r.repeat === q.repeat),
  );
}

/**
 * A backbone "failed to train" (paper: MAE oscillating near the random-label level) when at least
 * half of its frozen fold runs say so.
 */
export function failedBackbones(runs: RunRecord[], regime: Regime = 'frozen'): Set<string> {
  const out = new Set<string>();
  const by = new Map<string, RunRecord[]>();
  for (const r of runs.filter((r) => r.regime === regime)) {
    if (!by.has(r.backbone)) by.set(r.backbone, []);
    by.get(r.backbone)!.push(r);
  }
  for (const [b, rs] of by) {
    const failed = rs.filter((r) => r.metrics.failedToTrain).length;
    if (failed * 2 >= rs.length && failed > 0) out.add(b);
  }
  return out;
}

/** Mean random-label MAE over the records (the paper's ~1.3 when none carries one). */
export function randomLabelMAE(runs: RunRecord[]): number {
  const vals = runs.map((r) => r.metrics.randomLabelMAE).filter((v) => Number.isFinite(v) && v > 0);
  return vals.length ? mean(vals) : PAPER_RANDOM_LABEL_MAE;
}

/**
 * Trainable parameters of a backbone in a regime: from its runs when any, else (frozen only)
 * the paper's Table II value from the registry; undefined when unknown.
 */
export function trainableParams(runs: RunRecord[], backbone: string, regime: Regime): number | undefined {
  const r = runs.find((r) => r.backbone === backbone && r.regime === regime && r.trainableParams > 0);
  if (r) return r.trainableParams;
  if (regime === 'frozen') return (BACKBONES as Record<string, { tableIITrainable: number }>)[backbone]?.tableIITrainable;
  return undefined;
}

/** Backbones sorted by frozen-regime trainable parameters, fewest first (ties alphabetical). */
export function orderByParams(runs: RunRecord[], backbones: string[], regime: Regime = 'frozen'): string[] {
  return backbones.slice().sort((a, b) => {
    const pa = trainableParams(runs, a, regime) ?? Infinity;
    const pb = trainableParams(runs, b, regime) ?? Infinity;
    return pa !== pb ? pa - pb : a.localeCompare(b);
  });
}

/** "frozen ResNet50 fold 2 n=4" — how missing runs are named in annotations and warnings. */
export function describeRun(q: { backbone: string; regime: Regime; kind: string; fold?: number; n?: number; repeat?: number }): string {
  const parts = [q.regime, q.backbone];
  if (q.kind === 'ensemble') parts.push(`ensemble rep ${q.repeat}`);
  if (q.fold !== undefined) parts.push(`fold ${q.fold}`);
  if (q.n !== undefined) parts.push(`n=${q.n}`);
  return parts.join(' ');
}
