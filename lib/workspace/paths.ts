/**
 * Where a preset's data and results live in this project, and which preset the notebooks use.
 * tfjs-free and below every stage: the study, the figures, scoring and the notebooks all ask here.
 */
import { ResultsDir } from '../records/results_dir';

// The results layout (results/<preset>/, results/cohorts/<preset>/, caches) is owned by lib/records.
export { cohortManifestPath } from '../records/results_dir';

/** The notebooks' preset: $PRESET, default 'quick' ('smoke' in CI: `npm run notebooks` sets it). */
export function notebookPreset(): string {
  return process.env.PRESET || 'quick';
}

/** results/<preset>/: where the study runner writes a preset's runs and design. */
export function resultsDirFor(preset: string): string {
  return ResultsDir.forPreset(preset).root;
}
