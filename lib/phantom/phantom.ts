/**
 * A patient's FDG activity and attenuation phantom on a PET grid box.
 */
import { Box, gridAffine, patientToTemplate, PatientTransform, PetGrid } from './geometry';
import { dilate } from './morphology';
import { resampleTemplate } from './resample';
import { CH, NCH, TemplateSet } from './template';

/** Everything that makes one patient's phantom differ from the template. */
export interface PatientPhantomParams {
  transform: PatientTransform;
  /** SUV of white matter (global metabolism); grey matter is uptake.gm times this. Default-ish 2.1. */
  wmSuv: number;
  /** Depth of the AD-like hypometabolism at region weight 1 (0 = none, 0.3 = 30 % lower uptake). */
  adSeverity: number;
  /** Left and right multipliers of the severity (asymmetry), e.g. [1.2, 0.8]. */
  adAsymmetry: [number, number];
  /** Injected FDG (MBq), body weight (kg) and scan start after injection (min): set the Bq/ml scale. */
  injectedMBq: number;
  weightKg: number;
  scanStartMin: number;
}

/** How the head around the brain is modelled. */
export interface HeadModelConfig {
  /** Skull + scalp thickness around the brain mask, mm. Default 10. */
  shellMm?: number;
  /** Uptake of the shell relative to white matter (scalp, muscle, bone marrow). Default 0.3. */
  shellUptake?: number;
  /** Linear attenuation coefficient of the water-equivalent head, 1/cm. Default 0.096 (511 keV water). */
  muPerCm?: number;
  /**
   * Sub-samples per axis when averaging the template into a PET voxel. Default 1: the template
   * handed in is already box-averaged to the PET voxel (boxAverageTemplate), so one sample averages.
   */
  supersample?: number;
  /** Half-life of the tracer in minutes (decay from injection to scan start). Default 109.77 (18F). */
  halfLifeMin?: number;
}
export const DEFAULT_HEAD: Required<HeadModelConfig> = { shellMm: 10, shellUptake: 0.3, muPerCm: 0.096, supersample: 1, halfLifeMin: 109.77 };

export interface Phantom {
  grid: PetGrid;
  box: Box;
  /** Activity concentration at scan start, Bq/ml, per box voxel. */
  activity: Float32Array;
  /** Linear attenuation coefficient, 1/mm. */
  mu: Float32Array;
  /** Partial-volume fractions of grey and white matter and the brain mask. */
  gm: Float32Array;
  wm: Float32Array;
  brain: Float32Array;
  /** Hypometabolism region weight per voxel (0..1, left and right together), independent of severity. */
  adWeight: Float32Array;
  /** Head (brain + shell) mask. */
  head: Uint8Array;
  /** Bq/ml of uptake 1 (white matter) in this patient. */
  bqPerUptake: number;
}

/** Bq/ml per SUV: injected activity decayed to scan start, per gram of body (1 g = 1 ml). */
export function bqPerMlPerSuv(injectedMBq: number, weightKg: number, scanStartMin: number, halfLifeMin = DEFAULT_HEAD.halfLifeMin): number {
  if (!(injectedMBq > 0)) throw new Error(`bqPerMlPerSuv: injectedMBq must be > 0, got ${injectedMBq}`);
  if (!(weightKg > 0)) throw new Error(`bqPerMlPerSuv: weightKg must be > 0, got ${weightKg}`);
  return (injectedMBq * 1e6 * Math.exp((-Math.LN2 * scanStartMin) / halfLifeMin)) / (weightKg * 1000);
}

/** Builds the phantom of one patient on `box` of `grid`. */
export function buildPhantom(tpl: TemplateSet, grid: PetGrid, box: Box, params: PatientPhantomParams, cfg: HeadModelConfig = {}): Phantom {
  const head = { ...DEFAULT_HEAD, ...cfg };
  const A = gridAffine(grid);
  const boxToWorld = [0, 1, 2].map((r) => [A[r][0], A[r][1], A[r][2], A[r][3] + A[r][0] * box.offset[0] + A[r][1] * box.offset[1] + A[r][2] * box.offset[2]]);
  const w2t = patientToTemplate(params.transform, grid.centreMm);
  const ch = resampleTemplate(tpl, box.dims, boxToWorld, w2t, head.supersample);
  const n = box.dims[0] * box.dims[1] * box.dims[2];
  const activity = new Float32Array(n);
  const mu = new Float32Array(n);
  const gm = new Float32Array(n);
  const wm = new Float32Array(n);
  const brain = new Float32Array(n);
  const adWeight = new Float32Array(n);
  const brainMask = new Uint8Array(n);
  for (let v = 0; v < n; v++) {
    const o = v * NCH;
    gm[v] = ch[o + CH.gm];
    wm[v] = ch[o + CH.wm];
    brain[v] = ch[o + CH.brain];
    brainMask[v] = brain[v] >= 0.5 ? 1 : 0;
    const adGm = ch[o + CH.adLeft] + ch[o + CH.adRight];
    adWeight[v] = gm[v] > 1e-3 ? Math.min(1, adGm / (tpl.uptake.gm * gm[v])) : 0;
  }
  const vox: [number, number, number] = [grid.voxelMm, grid.voxelMm, grid.voxelMm];
  const headMask = dilate(brainMask, box.dims, vox, head.shellMm);
  const bqPerUptake = params.wmSuv * bqPerMlPerSuv(params.injectedMBq, params.weightKg, params.scanStartMin, head.halfLifeMin);
  const [aL, aR] = params.adAsymmetry;
  const muMm = head.muPerCm / 10;
  for (let v = 0; v < n; v++) {
    if (!headMask[v] && brain[v] === 0 && ch[v * NCH + CH.uptake] === 0) continue;
    const o = v * NCH;
    const deficit = params.adSeverity * (aL * ch[o + CH.adLeft] + aR * ch[o + CH.adRight]);
    const brainUptake = Math.max(0, ch[o + CH.uptake] - deficit);
    // Outside the brain the shell fills the rest of the voxel.
    const shell = headMask[v] ? head.shellUptake * (1 - Math.min(1, brain[v])) : 0;
    activity[v] = bqPerUptake * (brainUptake + shell);
    mu[v] = headMask[v] ? muMm : muMm * Math.min(1, brain[v]);
  }
  return { grid, box, activity, mu, gm, wm, brain, adWeight, head: headMask, bqPerUptake };
}
