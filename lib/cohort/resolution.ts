/**
 * Resolution and noise texture of the simulated scanner + reconstruction: the point-source FWHM
 * along x, y and z through the cohort's own chain (acquisition with radial and axial detector
 * blur, OSEM, post-filter), and the width of the noise autocorrelation in a reconstruction.
 */
import { countsPerBqMlMm, DEFAULT_ACQUISITION, expectVolume, gaussianFilter3d, ParallelProjector, SliceReconstructor, type AcquisitionConfig, type OsemConfig } from '../recon';
import type { CohortPreset } from './presets';

/** 511 keV attenuation of water, 1/mm. */
const DEFAULT_WATER_MU_PER_MM = 0.0096;

/** Options of {@link measurePointSourceFwhm}. */
export interface PointSourceArgs {
  /** In-plane grid side (voxels) of the small test volume. Default min(preset.fovSide, 48). */
  n?: number;
  /** Slices of the test volume. Default 17. */
  nz?: number;
  /** Point source offset from the slice centre, voxels (x, y). Default [4, 3] (off the rotation centre). */
  offset?: [number, number];
  /** Point activity relative to the warm water cylinder it sits in. Default 50. */
  contrast?: number;
}

/** FWHM (mm) along each axis; inPlane = mean of x and y. */
export interface AxisFwhm {
  x: number;
  y: number;
  z: number;
  inPlane: number;
  axial: number;
}

/**
 * Point source in a warm water cylinder on a small volume with the preset's voxel size, angles,
 * acquisition, OSEM and post-filter, noise-free (expected data); the cylinder alone is
 * reconstructed too and subtracted, so the profile is the point's response in a warm background.
 * FWHM per axis as NEMA NU 2 reads it: parabolic peak, linear interpolation at half maximum.
 */
export function measurePointSourceFwhm(preset: CohortPreset, args: PointSourceArgs = {}): AxisFwhm {
  const n = args.n ?? Math.min(preset.fovSide, 48);
  const nz = args.nz ?? 17;
  const [ox, oy] = args.offset ?? [4, 3];
  const contrast = args.contrast ?? 50;
  const d = preset.grid.voxelMm;
  const projector = new ParallelProjector({ n, pixelMm: d, nAngles: preset.nAngles });
  const acq = { ...DEFAULT_ACQUISITION, ...(preset.acquisition as AcquisitionConfig | undefined) };
  const kappa = countsPerBqMlMm(acq, projector.binMm, d, projector.nAngles);
  const size = n * n * nz;
  const warm = new Float32Array(size);
  const mu = new Float32Array(size);
  const support = new Uint8Array(size);
  const c0 = (n - 1) / 2;
  const radius = 0.4 * n;
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < n; j++) {
      for (let i = 0; i < n; i++) {
        if ((i - c0) ** 2 + (j - c0) ** 2 > radius * radius) continue;
        const v = i + n * (j + n * k);
        warm[v] = 1000;
        mu[v] = DEFAULT_WATER_MU_PER_MM;
        support[v] = 1;
      }
    }
  }
  const pi = Math.round(c0) + ox;
  const pj = Math.round(c0) + oy;
  const pk = Math.floor(nz / 2);
  const hot = Float32Array.from(warm);
  hot[pi + n * (pj + n * pk)] += 1000 * contrast;
  const recon = (activity: Float32Array): Float32Array => {
    const out = new Float32Array(size);
    for (const e of expectVolume(projector, activity, mu, support, nz, kappa, acq, d)) {
      const y = new Float32Array(e.trues.length);
      for (let i = 0; i < y.length; i++) y[i] = e.trues[i] + e.background[i];
      const r = new SliceReconstructor(projector, e.att, e.pixels, (preset.osem ?? {}) as OsemConfig);
      out.set(r.reconstruct(y, kappa, e.background), e.k * n * n);
    }
    return gaussianFilter3d(out, [n, n, nz], preset.postFilterFwhmMm, [d, d, d]);
  };
  const a = recon(hot);
  const b = recon(warm);
  const diff = new Float32Array(size);
  for (let v = 0; v < size; v++) diff[v] = a[v] - b[v];
  const at = (i: number, j: number, k: number) => diff[i + n * (j + n * k)];
  const profile = (axis: 0 | 1 | 2) => {
    const len = axis === 2 ? nz : n;
    return Array.from({ length: len }, (_, t) => (axis === 0 ? at(t, pj, pk) : axis === 1 ? at(pi, t, pk) : at(pi, pj, t)));
  };
  const x = profileFwhm(profile(0)) * d;
  const y = profileFwhm(profile(1)) * d;
  const z = profileFwhm(profile(2)) * d;
  return { x, y, z, inPlane: (x + y) / 2, axial: z };
}

/**
 * FWHM (samples) of a single-peaked profile: the peak from a parabola through the maximum and its
 * neighbours, the half-maximum crossings by linear interpolation (NEMA NU 2).
 */
export function profileFwhm(p: readonly number[]): number {
  let m = 0;
  for (let i = 1; i < p.length; i++) if (p[i] > p[m]) m = i;
  if (m === 0 || m === p.length - 1) throw new Error(`profileFwhm: the maximum lies on the profile's edge (sample ${m} of ${p.length})`);
  const [l, c, r] = [p[m - 1], p[m], p[m + 1]];
  const denom = l - 2 * c + r;
  const peak = denom < 0 ? c - ((r - l) * (r - l)) / (8 * denom) : c;
  const half = peak / 2;
  let lo = m;
  while (lo > 0 && p[lo] > half) lo--;
  let hi = m;
  while (hi < p.length - 1 && p[hi] > half) hi++;
  if (p[lo] > half || p[hi] > half) throw new Error('profileFwhm: the profile does not fall to half its maximum on both sides');
  const left = lo + (half - p[lo]) / (p[lo + 1] - p[lo]);
  const right = hi - 1 + (p[hi - 1] - half) / (p[hi - 1] - p[hi]);
  return right - left;
}

/** Noise autocorrelation of a reconstruction along x, y and z. */
export interface NoiseCorrelation {
  /** Correlation of the noise (image - noise-free image) between neighbouring voxels. */
  lag1: { x: number; y: number; z: number };
  /** FWHM (mm) of a Gaussian autocorrelation with that lag-1 value: 2.355 d / sqrt(-2 ln rho). */
  fwhmMm: AxisFwhm;
}

/**
 * Lag-1 autocorrelation of `img - noiseFree` over voxel pairs that both lie in `mask`, per axis,
 * and the autocorrelation width it implies.
 */
export function noiseCorrelation(img: Float32Array, noiseFree: Float32Array, mask: Uint8Array, dims: readonly [number, number, number], voxelMm: number): NoiseCorrelation {
  const [nx, ny, nz] = dims;
  if (img.length !== nx * ny * nz || noiseFree.length !== img.length || mask.length !== img.length) {
    throw new Error(`noiseCorrelation: img, noiseFree and mask must hold ${dims.join('x')} voxels`);
  }
  const strides = [1, nx, nx * ny];
  const rho = [0, 1, 2].map((axis) => {
    const stride = strides[axis];
    let sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0, cnt = 0;
    for (let k = 0; k < nz; k++) {
      for (let j = 0; j < ny; j++) {
        for (let i = 0; i < nx; i++) {
          if ((axis === 0 && i === nx - 1) || (axis === 1 && j === ny - 1) || (axis === 2 && k === nz - 1)) continue;
          const v = i + nx * (j + ny * k);
          const w = v + stride;
          if (!mask[v] || !mask[w]) continue;
          const a = img[v] - noiseFree[v];
          const b = img[w] - noiseFree[w];
          sa += a; sb += b; saa += a * a; sbb += b * b; sab += a * b; cnt++;
        }
      }
    }
    if (cnt < 2) return NaN;
    const cov = sab / cnt - (sa / cnt) * (sb / cnt);
    const va = saa / cnt - (sa / cnt) ** 2;
    const vb = sbb / cnt - (sb / cnt) ** 2;
    return cov / Math.sqrt(va * vb);
  });
  const width = (r: number) => (r > 0 && r < 1 ? (2 * Math.sqrt(2 * Math.LN2) * voxelMm) / Math.sqrt(-2 * Math.log(r)) : NaN);
  const [x, y, z] = rho.map(width);
  return { lag1: { x: rho[0], y: rho[1], z: rho[2] }, fwhmMm: { x, y, z, inPlane: (x + y) / 2, axial: z } };
}
