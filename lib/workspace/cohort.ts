/**
 * A preset's cohort on demand: used by the study runner, the notebooks and the tests, so it sits
 * below lib/study and lib/figures (it needs only lib/cohort).
 */
import * as fs from 'fs';
import * as path from 'path';
import { generateCohort } from '../cohort/generate';
import { getPreset as getCohortPreset } from '../cohort/presets';
import { cohortManifestPath } from './paths';

/** The cohort manifest of a preset, generating the cohort first when it is missing. */
export async function ensureCohort(preset: string, log: (m: string) => void = console.log): Promise<string> {
  const manifest = cohortManifestPath(preset);
  if (fs.existsSync(manifest)) return manifest;
  log(`no cohort at ${manifest}: generating the '${preset}' cohort (lib/cohort) ...`);
  // By name, as before: the preset object is looked up (and an unknown name reported) by lib/cohort.
  const res = await generateCohort({ preset: getCohortPreset(preset).name, outDir: path.dirname(manifest) });
  return res.manifestPath ?? manifest;
}
