/**
 * PET image grids and the patient's rigid + scaling transform relative to the template.
 * World coordinates are template (MNI-like, RAS) millimetres; the scanner frame is the same.
 */
import type { Rng } from '../util/rng';

/** The reconstructed image grid (the NIfTI written) and the box inside it that holds the head. */
export interface PetGrid {
  /** Full matrix, e.g. [344, 344, 127]. */
  dims: [number, number, number];
  /** Isotropic voxel size in mm. */
  voxelMm: number;
  /** World point (mm) at the centre of the grid (the brain centre of the template). */
  centreMm: [number, number, number];
}

/** Default grid centre: roughly the centre of the ICBM brain plus scalp (MNI mm). */
export const DEFAULT_CENTRE_MM: [number, number, number] = [0, -18, 6];

/** Index -> world affine (4 x 4, row-major) of a grid. */
export function gridAffine(grid: PetGrid): number[][] {
  const d = grid.voxelMm;
  const o = [0, 1, 2].map((a) => grid.centreMm[a] - (d * (grid.dims[a] - 1)) / 2);
  return [
    [d, 0, 0, o[0]],
    [0, d, 0, o[1]],
    [0, 0, d, o[2]],
    [0, 0, 0, 1],
  ];
}

/** A sub-box of a grid: voxel (i, j, k) of the box is voxel (i + offset[0], ...) of the grid. */
export interface Box {
  offset: [number, number, number];
  dims: [number, number, number];
}

/** The centred transverse square of side n over all slices of the grid. */
export function centredBox(grid: PetGrid, n: number): Box {
  if (n > grid.dims[0] || n > grid.dims[1]) throw new Error(`centredBox: box side ${n} exceeds the grid ${grid.dims.join('x')}`);
  return {
    offset: [Math.floor((grid.dims[0] - n) / 2), Math.floor((grid.dims[1] - n) / 2), 0],
    dims: [n, n, grid.dims[2]],
  };
}

/** Seeded anatomical variation of one patient around the template. */
export interface PatientTransform {
  /** Scale factors along x, y, z. */
  scale: [number, number, number];
  /** Rotations about x, y, z in degrees. */
  rotationDeg: [number, number, number];
  /** Translation in mm. */
  shiftMm: [number, number, number];
}

export const IDENTITY_TRANSFORM: PatientTransform = { scale: [1, 1, 1], rotationDeg: [0, 0, 0], shiftMm: [0, 0, 0] };

/** How much patients vary (standard deviations). */
export interface AnatomyVariation {
  /** SD of the per-axis scale. Default 0.03. */
  scaleSd?: number;
  /** SD of each rotation in degrees. Default 3. */
  rotationSdDeg?: number;
  /** SD of each shift in mm. Default 3. */
  shiftSdMm?: number;
}
export const DEFAULT_ANATOMY_VARIATION: Required<AnatomyVariation> = { scaleSd: 0.03, rotationSdDeg: 3, shiftSdMm: 3 };

/** Draws a patient transform (normal draws truncated at 2.5 SD so no head leaves the FOV). */
export function randomTransform(rng: Rng, v: AnatomyVariation = {}): PatientTransform {
  const cfg = { ...DEFAULT_ANATOMY_VARIATION, ...v };
  const t = (sd: number) => Math.max(-2.5 * sd, Math.min(2.5 * sd, rng.normal(0, sd)));
  return {
    scale: [1 + t(cfg.scaleSd), 1 + t(cfg.scaleSd), 1 + t(cfg.scaleSd)],
    rotationDeg: [t(cfg.rotationSdDeg), t(cfg.rotationSdDeg), t(cfg.rotationSdDeg)],
    shiftMm: [t(cfg.shiftSdMm), t(cfg.shiftSdMm), t(cfg.shiftSdMm)],
  };
}

/**
 * The 3 x 4 matrix mapping a patient (scanner) world point p to the template world point q:
 * p = c + shift + R S (q - c)  =>  q = c + S^-1 R^T (p - c - shift), with c the rotation centre.
 */
export function patientToTemplate(t: PatientTransform, centre: [number, number, number]): number[][] {
  const [ax, ay, az] = t.rotationDeg.map((d) => (d * Math.PI) / 180);
  const rx = [[1, 0, 0], [0, Math.cos(ax), -Math.sin(ax)], [0, Math.sin(ax), Math.cos(ax)]];
  const ry = [[Math.cos(ay), 0, Math.sin(ay)], [0, 1, 0], [-Math.sin(ay), 0, Math.cos(ay)]];
  const rz = [[Math.cos(az), -Math.sin(az), 0], [Math.sin(az), Math.cos(az), 0], [0, 0, 1]];
  const R = mul3(rz, mul3(ry, rx));
  // M = S^-1 R^T
  const M = [0, 1, 2].map((r) => [0, 1, 2].map((c) => R[c][r] / t.scale[r]));
  const shifted = [0, 1, 2].map((a) => centre[a] + t.shiftMm[a]);
  return [0, 1, 2].map((r) => {
    const off = centre[r] - (M[r][0] * shifted[0] + M[r][1] * shifted[1] + M[r][2] * shifted[2]);
    return [M[r][0], M[r][1], M[r][2], off];
  });
}

function mul3(a: number[][], b: number[][]): number[][] {
  return [0, 1, 2].map((r) => [0, 1, 2].map((c) => a[r][0] * b[0][c] + a[r][1] * b[1][c] + a[r][2] * b[2][c]));
}
