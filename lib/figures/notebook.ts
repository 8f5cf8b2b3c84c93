import * as fs from 'fs';
import * as path from 'path';
import { ResultsDir, cohortManifestPath as recordsCohortManifestPath } from '../records';

/**
 * Small helpers the notebooks share: which preset they run on, and making the data they need
 * when it does not exist yet (via lib/cohort and lib/study, loaded lazily).
 */

/** The notebooks' preset: $PRESET, default 'quick' ('smoke' in CI: `npm run notebooks` sets it). */
export function notebookPreset(): string {
  return process.env.PRESET || 'quick';
}

/** results/cohorts/<preset>/manifest.json: where lib/cohort writes a preset's cohort. */
export function cohortManifestPath(preset: string): string {
  return recordsCohortManifestPath(preset);
}

/** results/<preset>/: where the study runner writes a preset's runs and design. */
export function resultsDirFor(preset: string): string {
  return ResultsDir.forPreset(preset).root;
}

/** The cohort manifest of a preset, generating the cohort first when it is missing. */
export async function ensureCohort(preset: string, log: (m: string) => void = console.log): Promise<string> {
  const manifest = cohortManifestPath(preset);
  if (fs.existsSync(manifest)) return manifest;
  log(`no cohort at ${manifest}: generating the '${preset}' cohort (lib/cohort) ...`);
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const cohort = require('../cohort') as { generateCohort?: (a: { preset: string; outDir?: string }) => Promise<{ manifestPath: string }> };
  if (typeof cohort.generateCohort !== 'function') throw new Error('ensureCohort: lib/cohort has no generateCohort(); run `npm run cohort -- --preset ' + preset + '`');
  const res = await cohort.generateCohort({ preset, outDir: path.dirname(manifest) });
  return res.manifestPath ?? manifest;
}

/**
 * The results folder of a preset, running the study (lib/study, as `npm run reproduce` does)
 * when it holds no runs yet. Expensive on 'quick' and 'paper'; seconds to minutes on 'smoke'.
 */
export async function ensureResults(preset: string, log: (m: string) => void = console.log): Promise<string> {
  const dir = resultsDirFor(preset);
  const runs = new ResultsDir(dir).runs;
  if (new ResultsDir(dir).hasRuns()) return dir;
  log(`no runs in ${runs}: running the '${preset}' study (lib/study) ...`);
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const study = require('../study') as Record<string, unknown>;
  const fn = (study.reproduce ?? study.runStudy) as ((a: { preset: string; out?: string; log?: (m: string) => void }) => Promise<unknown>) | undefined;
  if (typeof fn !== 'function') {
    throw new Error(`ensureResults: lib/study exports no reproduce()/runStudy(); run \`npm run reproduce -- --preset ${preset}\` first`);
  }
  await fn({ preset, out: dir, log });
  return dir;
}
