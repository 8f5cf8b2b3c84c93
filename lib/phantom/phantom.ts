/**
 * A patient's FDG activity and attenuation phantom on a PET grid box.
 */
import { Box, gridAffine, patientToTemplate, PatientTransform, PetGrid } from './geometry';
import { bodyTissue, DEFAULT_BODY, type BodyModelConfig } from './body';
import { distanceTransformSq } from './morphology';
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

/** How the head around the brain and the body in the field of view are modelled. */
export interface HeadModelConfig {
  /** CSF, skull, scalp, face, neck and shoulders (lib/phantom/body.ts). Default DEFAULT_BODY. */
  body?: BodyModelConfig;
  /**
   * Sub-samples per axis when averaging the template into a PET voxel. Default 1: the template
   * handed in is already box-averaged to the PET voxel (boxAverageTemplate), so one sample averages.
   */
  supersample?: number;
  /** Half-life of the tracer in minutes (decay from injection to scan start). Default 109.77 (18F). */
  halfLifeMin?: number;
}
export const DEFAULT_HEAD: Required<Omit<HeadModelConfig, 'body'>> = { supersample: 1, halfLifeMin: 109.77 };

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
  /** Body mask: brain, cranial layers, face, neck and shoulders (air cavities inside included). */
  head: Uint8Array;
  /** Bq/ml of uptake 1 (white matter) in this patient. */
  bqPerUptake: number;
}

/** 511 keV attenuation of brain (water-equivalent), 1/cm. */
const WATER_MU_PER_CM = 0.096;

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
  const body = { ...DEFAULT_BODY, ...cfg.body };
  const brainDist2 = distanceTransformSq(brainMask, box.dims, vox);
  const headMask = new Uint8Array(n);
  const bqPerUptake = params.wmSuv * bqPerMlPerSuv(params.injectedMBq, params.weightKg, params.scanStartMin, head.halfLifeMin);
  const [aL, aR] = params.adAsymmetry;
  const [nx, ny] = box.dims;
  const q = [0, 0, 0];
  for (let v = 0; v < n; v++) {
    const o = v * NCH;
    const i = v % nx;
    const j = Math.floor(v / nx) % ny;
    const k = Math.floor(v / (nx * ny));
    // Voxel centre in template mm (the body shapes live there, so they move with the patient).
    const p0 = boxToWorld[0][0] * i + boxToWorld[0][1] * j + boxToWorld[0][2] * k + boxToWorld[0][3];
    const p1 = boxToWorld[1][0] * i + boxToWorld[1][1] * j + boxToWorld[1][2] * k + boxToWorld[1][3];
    const p2 = boxToWorld[2][0] * i + boxToWorld[2][1] * j + boxToWorld[2][2] * k + boxToWorld[2][3];
    for (let r = 0; r < 3; r++) q[r] = w2t[r][0] * p0 + w2t[r][1] * p1 + w2t[r][2] * p2 + w2t[r][3];
    const tissue = bodyTissue(q, Math.sqrt(brainDist2[v]), body);
    const b = Math.min(1, brain[v]);
    if (!tissue && b === 0 && ch[o + CH.uptake] === 0) continue;
    if (tissue || brainMask[v]) headMask[v] = 1;
    const deficit = params.adSeverity * (aL * ch[o + CH.adLeft] + aR * ch[o + CH.adRight]);
    const brainUptake = Math.max(0, ch[o + CH.uptake] - deficit);
    // Outside the brain the surrounding tissue fills the rest of the voxel.
    const rest = tissue ? 1 - b : 0;
    activity[v] = bqPerUptake * (brainUptake + (tissue ? tissue.uptake * rest : 0));
    mu[v] = (WATER_MU_PER_CM * b + (tissue ? tissue.muPerCm * rest : 0)) / 10;
  }
  return { grid, box, activity, mu, gm, wm, brain, adWeight, head: headMask, bqPerUptake };
}
