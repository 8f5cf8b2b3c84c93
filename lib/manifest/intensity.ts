/**
 * Is a volume's intensity scale plausible for the units the manifest gives it? The rule, for brain
 * [18F]FDG PET: convert the volume's 99th percentile to a body-weight SUV with the patient's
 * injected activity and weight from the manifest,
 *
 *   SUV_p99 = p99 [Bq/ml] / (injectedMBq x 1e6 [Bq] / (weightKg x 1000 [g]))
 *
 * (no decay correction: it changes SUV by less than 2x for scans up to ~2 h after injection). The
 * brightest 1 % of a brain FDG volume sits at SUV 2-15 (the synthetic cohort: 2-6; real grey matter:
 * 5-12), so SUV_p99 outside [0.3, 60] means the stated units are off by a large factor: a kBq/ml
 * volume declared Bq/ml reads 1000x too low (SUV ~0.003), a Bq/ml volume declared kBq/ml 1000x too
 * high. The rule only applies to activity-concentration units it knows (Bq/ml, kBq/ml, MBq/ml, also
 * written /cc or /cm3) and to SUV (g/ml); other units are not checked. A unit recorded in the NIfTI
 * header (`units=` in descrip, see lib/io) that differs from the manifest's is reported too.
 */
import type { Volume } from '../types';

/** SUV_p99 must lie in this range for the stated units to be plausible. */
export const PLAUSIBLE_SUV_P99: readonly [number, number] = [0.3, 60];

/** Bq/ml per unit of the stated units, or undefined for units the rule does not know. */
export function becquerelPerMlOf(units: string): number | undefined {
  const m = /^\s*(k|M)?Bq\s*\/\s*(ml|cc|cm3|cm\^3)\s*$/i.exec(units);
  if (!m) return undefined;
  return m[1] === undefined ? 1 : m[1].toLowerCase() === 'k' ? 1e3 : m[1] === 'M' ? 1e6 : undefined;
}

const isSuv = (units: string) => /^\s*(suv(bw)?|g\s*\/\s*ml)\s*$/i.test(units);

/** The 99th percentile of a volume's voxels (from a strided subsample of at most ~1M voxels). */
export function voxelP99(v: Pick<Volume, 'data'>): number {
  const d = v.data;
  const stride = Math.max(1, Math.floor(d.length / 1_000_000));
  const sub = new Float32Array(Math.ceil(d.length / stride));
  for (let i = 0, j = 0; i < d.length; i += stride, j++) sub[j] = d[i];
  sub.sort();
  return sub[Math.min(sub.length - 1, Math.floor(0.99 * (sub.length - 1)))];
}

export interface IntensityCheckInput {
  /** Units the manifest states. */
  units: string;
  /** Units recorded in the file's header, if any. */
  headerUnits?: string;
  /** 99th percentile of the voxels, in the file's values. */
  p99: number;
  patient: { injectedMBq: number; weightKg: number };
}

/** Problems with a volume's intensity scale (empty when plausible or not checkable), each a full sentence. */
export function intensityProblems(input: IntensityCheckInput): string[] {
  const out: string[] = [];
  const { units, headerUnits, p99, patient } = input;
  if (headerUnits !== undefined && headerUnits.trim() !== units.trim()) {
    out.push(`the file's header says units=${headerUnits} but the manifest says ${units}`);
  }
  const perUnit = becquerelPerMlOf(units);
  const suvScale = patient.injectedMBq * 1e6 / (patient.weightKg * 1000);
  const suv = perUnit !== undefined ? (p99 * perUnit) / suvScale : isSuv(units) ? p99 : undefined;
  if (suv === undefined || !Number.isFinite(suv)) return out;
  const [lo, hi] = PLAUSIBLE_SUV_P99;
  if (suv < lo || suv > hi) {
    const factor = suv < lo ? lo / suv : suv / hi;
    const hint =
      perUnit === 1 && suv < lo && suv * 1000 >= lo ? ' (kBq/ml values declared as Bq/ml?)'
      : perUnit === 1e3 && suv > hi && suv / 1000 <= hi ? ' (Bq/ml values declared as kBq/ml?)'
      : '';
    out.push(
      `intensity implausible for ${units}: the 99th percentile ${+p99.toPrecision(4)} ${units} is SUV ${+suv.toPrecision(3)} ` +
        `for ${patient.injectedMBq} MBq and ${patient.weightKg} kg, ${suv < lo ? 'below' : 'above'} the plausible ${lo}-${hi} for brain FDG by ${factor >= 10 ? `${Math.round(factor)}x` : `${factor.toFixed(1)}x`}${hint}`,
    );
  }
  return out;
}
