import * as fs from 'fs';
import { checkDesign, type StudyDesign } from './design';

/** Reads a study's design.json (written by the runner next to its results), checked; errors name the file. */
export function readDesign(file: string): StudyDesign {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`${file}: cannot read the study design (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); the study runner writes it`);
  }
  let design: StudyDesign;
  try {
    design = JSON.parse(text) as StudyDesign;
  } catch (err) {
    throw new Error(`${file}: not JSON (${(err as Error).message})`);
  }
  if (typeof design !== 'object' || design === null || !Array.isArray(design.folds) || !Array.isArray(design.testPatients)) {
    throw new Error(`${file}: not a study design (needs folds and testPatients)`);
  }
  checkDesign(design, file);
  return design;
}
