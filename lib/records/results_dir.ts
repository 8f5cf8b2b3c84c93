/**
 * Where results live. `resultsRoot()` is `<project>/results`; a `ResultsDir` is one study's folder
 * (`results/<preset>/` by default) and names everything in it, so no stage builds these paths by hand.
 */
import * as fs from 'fs';
import * as path from 'path';
import { projectRoot } from '../util/files';

/** `<project>/results`: everything generated (git-ignored). */
export function resultsRoot(): string {
  return path.join(projectRoot(), 'results');
}

/** `results/cohorts/<preset>/`: where lib/cohort writes a preset's cohort. */
export function cohortDir(preset: string): string {
  return path.join(resultsRoot(), 'cohorts', preset);
}

/** `results/cohorts/<preset>/manifest.json`. */
export function cohortManifestPath(preset: string): string {
  return path.join(cohortDir(preset), 'manifest.json');
}

/** `results/cache/<kind>/`: content-addressed caches (patches, features, score-reference, baselines). */
export function cacheDir(kind: 'patches' | 'features' | 'score-reference' | 'baselines'): string {
  return path.join(resultsRoot(), 'cache', kind);
}

/** `results/scores/<name>/`: a scoring report. */
export function scoresDir(name: string): string {
  return path.join(resultsRoot(), 'scores', name);
}

/** One study's results folder and the paths inside it. */
export class ResultsDir {
  /** Absolute path of the folder. */
  readonly root: string;
  constructor(root: string) {
    this.root = path.resolve(root);
  }
  /** `results/<preset>/`: where the study runner writes a preset's results by default. */
  static forPreset(preset: string): ResultsDir {
    return new ResultsDir(path.join(resultsRoot(), preset));
  }
  /** `runs/`: one `<id>.json` record (and `<id>.model/`) per training run. */
  get runs(): string {
    return path.join(this.root, 'runs');
  }
  runRecord(id: string): string {
    return path.join(this.runs, `${id}.json`);
  }
  runModel(id: string): string {
    return path.join(this.runs, `${id}.model`);
  }
  /** Run record files present, sorted by name (not checked). */
  runRecordFiles(): string[] {
    if (!fs.existsSync(this.runs)) return [];
    return fs
      .readdirSync(this.runs)
      .filter((f) => f.endsWith('.json') && !f.startsWith('.'))
      .sort()
      .map((f) => path.join(this.runs, f));
  }
  /** `baselines/`: one `<id>.json` record per baseline predictor and split. */
  get baselines(): string {
    return path.join(this.root, 'baselines');
  }
  baselineRecord(id: string): string {
    return path.join(this.baselines, `${id}.json`);
  }
  /** Baseline record files present, sorted by name (not checked). */
  baselineRecordFiles(): string[] {
    if (!fs.existsSync(this.baselines)) return [];
    return fs
      .readdirSync(this.baselines)
      .filter((f) => f.endsWith('.json') && !f.startsWith('.'))
      .sort()
      .map((f) => path.join(this.baselines, f));
  }
  /** `models/`: kept models for scoring. */
  get models(): string {
    return path.join(this.root, 'models');
  }
  model(name: string): string {
    return path.join(this.models, name);
  }
  get design(): string {
    return path.join(this.root, 'design.json');
  }
  get summaryCsv(): string {
    return path.join(this.root, 'summary.csv');
  }
  get summaryJson(): string {
    return path.join(this.root, 'summary.json');
  }
  /** `figures/`: tables and figures (HTML, PNG, SVG, CSV) and index.html. */
  get figures(): string {
    return path.join(this.root, 'figures');
  }
  /** `calibration/`: random-init backbones' measured BatchNormalization statistics. */
  get calibration(): string {
    return path.join(this.root, 'calibration');
  }
  /** A backbone's calibration file, relative to the results folder (models carry it at the same relative path). */
  static calibrationFile(backbone: string): string {
    return path.join('calibration', `${backbone}.bn.json`);
  }
  /** True when the folder holds at least one run record. */
  hasRuns(): boolean {
    return this.runRecordFiles().length > 0;
  }
}

/**
 * The most recently updated results folder under `root` (a folder with run records, searched two
 * levels deep: `results/<preset>/` and `results/<group>/<name>/`), or undefined when there is none.
 */
export function latestResultsDir(root: string = resultsRoot()): ResultsDir | undefined {
  if (!fs.existsSync(root)) return undefined;
  const candidates: Array<{ dir: ResultsDir; time: number }> = [];
  const consider = (dir: string) => {
    const r = new ResultsDir(dir);
    const files = r.runRecordFiles();
    if (files.length === 0) return;
    candidates.push({ dir: r, time: Math.max(...files.map((f) => fs.statSync(f).mtimeMs)) });
  };
  consider(root);
  for (const d of fs.readdirSync(root, { withFileTypes: true })) {
    if (!d.isDirectory() || d.name === 'cache' || d.name === 'cohorts') continue;
    const sub = path.join(root, d.name);
    consider(sub);
    for (const e of fs.readdirSync(sub, { withFileTypes: true })) if (e.isDirectory() && e.name !== 'runs' && e.name !== 'models') consider(path.join(sub, e.name));
  }
  candidates.sort((a, b) => b.time - a.time);
  return candidates[0]?.dir;
}
