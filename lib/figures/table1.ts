import { mean, missingFigure, std, type Figure } from './common';
import { tableFigure } from './table';

/** A patient row of the cohort manifest (lib/manifest), the part Table I needs. */
export interface PatientRow {
  id: string;
  sex: string;
  age: number;
  weightKg: number;
  injectedMBq: number;
}

/** Table I: demographics of the cohort, one row per patient, plus a mean (sd) row. */
export function table1(patients: PatientRow[], opts: { synthetic?: boolean } = {}): Figure {
  const title = `Table I. Patient demographics${opts.synthetic ? ' (synthetic cohort)' : ''}`;
  if (patients.length === 0) return missingFigure(title, 'The cohort manifest lists no patients', ['patients: []'], 'Generate a cohort: npm run cohort -- --preset quick');
  const rows: Array<Array<string | number>> = patients.map((p) => [p.id, p.sex, p.age, p.weightKg, round2(p.injectedMBq)]);
  const ms = (xs: number[]) => `${mean(xs).toFixed(1)} (${std(xs).toFixed(1)})`;
  const female = patients.filter((p) => p.sex.toUpperCase().startsWith('F')).length;
  rows.push(['mean (sd)', `${female} F / ${patients.length - female} M`, ms(patients.map((p) => p.age)), ms(patients.map((p) => p.weightKg)), ms(patients.map((p) => p.injectedMBq))]);
  return tableFigure(title, ['Patient', 'Sex', 'Age (years)', 'Weight (kg)', 'Injected FDG (MBq)'], rows);
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
