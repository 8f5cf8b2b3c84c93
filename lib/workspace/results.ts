/**
 * A preset's study results on demand (the notebooks' entry point). The one part of lib/workspace
 * that sits above lib/study, since it runs the study: lib/study itself imports only ./paths and
 * ./cohort, never this file or the folder's index.
 */
import { ResultsDir } from '../records/results_dir';
import { runStudy } from '../study/runner';
import { resultsDirFor } from './paths';

/**
 * The results folder of a preset, running the study (as `npm run reproduce` does) when it holds
 * no runs yet. Expensive on 'quick' and 'paper'; seconds to minutes on 'smoke'.
 */
export async function ensureResults(preset: string, log: (m: string) => void = console.log): Promise<string> {
  const dir = resultsDirFor(preset);
  const results = new ResultsDir(dir);
  if (results.hasRuns()) return dir;
  log(`no runs in ${results.runs}: running the '${preset}' study (lib/study) ...`);
  await runStudy({ preset, out: dir, log });
  return dir;
}
