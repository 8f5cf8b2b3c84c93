/**
 * The 13 synthetic patients: Table I demographics (copied from the paper, as metadata of
 * digital phantoms) and their seeded anatomical and metabolic variation.
 */
import { PAPER_PATIENTS } from '../manifest/paper';
import type { Patient } from '../manifest/schema';
import type { PatientPhantomParams } from '../phantom';
import { randomTransform, AnatomyVariation } from '../phantom';
import { deriveSeed, Rng } from '../util/rng';

/** How the synthetic patients differ. */
export interface PatientVariationConfig {
  anatomy?: AnatomyVariation;
  /** White-matter SUV of an average patient. Default 1.7 (grey matter then ~6.8, brain ~10 % of the dose). */
  wmSuv?: number;
  /** SD of log global metabolism. Default 0.12. */
  metabolismLogSd?: number;
  /** How many of the 13 patients carry an AD-like pattern. Default 7. */
  nWithPattern?: number;
  /** Range of the pattern's depth at region weight 1. Default [0.08, 0.35]. */
  severityRange?: [number, number];
  /** Max left/right asymmetry of the pattern. Default 0.25. */
  asymmetry?: number;
  /** Scan start after injection, min: mean and SD (the paper: 98 +/- 26). Default [98, 26]. */
  scanStartMin?: [number, number];
}
export const DEFAULT_PATIENT_VARIATION: Required<PatientVariationConfig> = {
  anatomy: {},
  wmSuv: 1.7,
  metabolismLogSd: 0.12,
  nWithPattern: 7,
  severityRange: [0.08, 0.35],
  asymmetry: 0.25,
  scanStartMin: [98, 26],
};

export interface SyntheticPatient {
  /** Manifest entry (Table I demographics, marked synthetic). */
  meta: Patient;
  phantom: PatientPhantomParams;
}

/** The 13 synthetic patients of a seed. Each patient's draws use its own stream. */
export function syntheticPatients(seed: number, cfg: PatientVariationConfig = {}): SyntheticPatient[] {
  const c = { ...DEFAULT_PATIENT_VARIATION, ...cfg };
  const ids = PAPER_PATIENTS.map((p) => p.id);
  const withPattern = new Set(new Rng(deriveSeed(seed, 'ad-patients')).sample(ids, Math.min(c.nWithPattern, ids.length)));
  return PAPER_PATIENTS.map((p) => {
    const rng = new Rng(deriveSeed(seed, 'patient', p.id));
    const transform = randomTransform(rng, c.anatomy);
    const metabolism = Math.exp(Math.max(-2.5, Math.min(2.5, rng.normal())) * c.metabolismLogSd);
    const scanStartMin = Math.max(60, Math.min(150, rng.normal(c.scanStartMin[0], c.scanStartMin[1])));
    const sev = rng.uniform(c.severityRange[0], c.severityRange[1]);
    const asym = rng.uniform(-c.asymmetry, c.asymmetry);
    const has = withPattern.has(p.id);
    const notes =
      `synthetic: digital phantom with the demographics of patient ${p.id} of Table I; ` +
      (has ? `AD-like hypometabolism depth ${sev.toFixed(3)} (L x${(1 + asym).toFixed(2)}, R x${(1 - asym).toFixed(2)})` : 'no hypometabolism pattern') +
      `; scan start ${scanStartMin.toFixed(0)} min p.i.; WM SUV ${(c.wmSuv * metabolism).toFixed(2)}`;
    return {
      meta: { ...p, synthetic: true, notes },
      phantom: {
        transform,
        wmSuv: c.wmSuv * metabolism,
        adSeverity: has ? sev : 0,
        adAsymmetry: [1 + asym, 1 - asym],
        injectedMBq: p.injectedMBq,
        weightKg: p.weightKg,
        scanStartMin,
      },
    };
  });
}
