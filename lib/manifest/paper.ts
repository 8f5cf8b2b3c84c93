/**
 * The paper's cohort (Hopson et al., Table I) and a manifest template for it: real patient
 * data are not public, so the data holder fills in paths, checksums and scores.
 */
import { COUNT_LEVELS } from '../types';
import { COHORT_SCHEMA_ID, type CohortManifest, type Patient } from './schema';

/** Table I: patient number, sex, age (years), weight (kg), injected FDG (MBq). */
export const PAPER_PATIENTS: readonly Patient[] = [
  { id: '1', sex: 'F', age: 61, weightKg: 64, injectedMBq: 221.71 },
  { id: '3', sex: 'F', age: 64, weightKg: 58, injectedMBq: 240.0 },
  { id: '5', sex: 'F', age: 71, weightKg: 51, injectedMBq: 213.18 },
  { id: '6', sex: 'M', age: 68, weightKg: 100, injectedMBq: 234.8 },
  { id: '10', sex: 'M', age: 51, weightKg: 74, injectedMBq: 244.37 },
  { id: '17', sex: 'M', age: 58, weightKg: 83, injectedMBq: 189.76 },
  { id: '27', sex: 'F', age: 51, weightKg: 77, injectedMBq: 242.72 },
  { id: '32', sex: 'M', age: 62, weightKg: 92, injectedMBq: 229.15 },
  { id: '37', sex: 'M', age: 46, weightKg: 91, injectedMBq: 233.41 },
  { id: '48', sex: 'F', age: 58, weightKg: 94, injectedMBq: 212.82 },
  { id: '54', sex: 'M', age: 61, weightKg: 103, injectedMBq: 246.0 },
  { id: '60', sex: 'M', age: 43, weightKg: 77, injectedMBq: 234.34 },
  { id: '64', sex: 'M', age: 77, weightKg: 80, injectedMBq: 228.75 },
];

/** Reconstruction id of a patient at a count level, as used by the template: "1-0.5pct". */
export function paperReconstructionId(patient: string, countPercent: number): string {
  return `${patient}-${countPercent}pct`;
}

/** The template manifest: 13 patients x 7 count levels, placeholder paths, no scores. */
export function paperCohortTemplate(): CohortManifest {
  return {
    $schema: './schema.json',
    schema: COHORT_SCHEMA_ID,
    name: 'hopson-trpms-fdg-brain',
    synthetic: false,
    description:
      'TEMPLATE for the data holder. 13 memory-clinic patients (Table I of Hopson et al.), Siemens Biograph mMR, ' +
      '[18F]FDG, OSEM 2 iterations 21 subsets, 344x344x127, 2.09 mm voxels, 4 mm FWHM Gaussian post-filter; ' +
      'list-mode resampled to 7 count levels. Replace each path with the real file (relative to this manifest), ' +
      'add sha256, and add ratings (two raters, 3 count levels per patient: one low, one medium, one high) with a ' +
      'consensus where the raters differ by >= 1. Then save it as manifest.json next to the volumes.',
    raters: ['A', 'B'],
    patients: PAPER_PATIENTS.map((p) => ({ ...p })),
    reconstructions: PAPER_PATIENTS.flatMap((p) =>
      COUNT_LEVELS.map((c) => ({
        id: paperReconstructionId(p.id, c),
        patient: p.id,
        countPercent: c,
        path: `volumes/patient-${p.id}/patient-${p.id}_${c}pct.nii.gz`,
        units: 'Bq/ml',
        notes: 'placeholder path: replace with the real file',
      })),
    ),
  };
}
