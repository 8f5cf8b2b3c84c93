/**
 * Where a preset's data and results live in this project, and which preset the notebooks use.
 * tfjs-free and below every stage: the study, the figures, scoring and the notebooks all ask here.
 */
import * as path from 'path';
import { projectRoot } from '../util/files';

/** The notebooks' preset: $PRESET, default 'quick' ('smoke' in CI: `npm run notebooks` sets it). */
export function notebookPreset(): string {
  return process.env.PRESET || 'quick';
}

/** results/cohorts/<preset>/manifest.json: where lib/cohort writes a preset's cohort. */
export function cohortManifestPath(preset: string): string {
  return path.join(projectRoot(), 'results', 'cohorts', preset, 'manifest.json');
}

/** results/<preset>/: where the study runner writes a preset's runs and design. */
export function resultsDirFor(preset: string): string {
  return path.join(projectRoot(), 'results', preset);
}
