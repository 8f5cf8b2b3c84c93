import type { Volume } from '../types';
import { Rng } from '../util/rng';
import { minMaxOf } from './normalize';

/** The three orthogonal planes patches are cut from. */
export const PLANES = ['sagittal', 'coronal', 'transverse'] as const;
export type Plane = (typeof PLANES)[number];

/** Settings of the paper's patch sampler. */
export interface PatchSamplerConfig {
  /** Patch height and width in voxels. Default 80. */
  size?: number;
  /** Random candidate positions per plane. Default 1000. */
  candidates?: number;
  /** Patches kept per plane, drawn at random from the survivors. Default 100. */
  keep?: number;
  /** A candidate is background when its mean is below this fraction of the volume mean. Default 1/8 (SPM's idea). */
  thresholdFraction?: number;
  /** Planes to sample. Default all three. */
  planes?: readonly Plane[];
  /**
   * What to do when fewer than `keep` candidates survive in a plane: 'error' (default) throws;
   * 'warn' keeps all survivors and reports a warning.
   */
  onTooFew?: 'error' | 'warn';
  /** Also return every candidate with its mean and verdict (for inspection and notebooks). Default false. */
  recordCandidates?: boolean;
}

export const DEFAULT_PATCH_SAMPLER_CONFIG: Required<PatchSamplerConfig> = {
  size: 80,
  candidates: 1000,
  keep: 100,
  thresholdFraction: 1 / 8,
  planes: PLANES,
  onTooFew: 'error',
  recordCandidates: false,
};

/** Where a patch came from. Pixel (r, c) of the patch is the voxel listed in `patchVoxel`. */
export interface PatchLocation {
  plane: Plane;
  /** Index along the axis normal to the plane (i for sagittal, j for coronal, k for transverse). */
  slice: number;
  /** First in-plane row (second in-plane axis: k for sagittal/coronal, j for transverse). */
  row: number;
  /** First in-plane column (first in-plane axis: j for sagittal, i for coronal/transverse). */
  col: number;
}

export interface PlaneStats {
  plane: Plane;
  candidates: number;
  survivors: number;
  kept: number;
}

export interface SampledPatches {
  size: number;
  /** count * size * size values, patch after patch, row-major. */
  data: Float32Array;
  locations: PatchLocation[];
  stats: PlaneStats[];
  warnings: string[];
  /** Mean of the whole volume, against which the threshold was applied. */
  volumeMean: number;
  /** The threshold patch means were compared with (thresholdFraction x volumeMean). */
  threshold: number;
  /** Every candidate with its mean, when recordCandidates is set. */
  candidates?: Array<PatchLocation & { mean: number; background: boolean }>;
}

/** In-plane axes (column axis, row axis) and the normal axis for each plane, as indices into dims. */
export function planeAxes(plane: Plane): { normal: 0 | 1 | 2; colAxis: 0 | 1 | 2; rowAxis: 0 | 1 | 2 } {
  switch (plane) {
    case 'sagittal':
      return { normal: 0, colAxis: 1, rowAxis: 2 };
    case 'coronal':
      return { normal: 1, colAxis: 0, rowAxis: 2 };
    case 'transverse':
      return { normal: 2, colAxis: 0, rowAxis: 1 };
  }
}

/** Voxel (i, j, k) of patch pixel (r, c) for a patch at `loc`. */
export function patchVoxel(loc: PatchLocation, r: number, c: number): [number, number, number] {
  const ax = planeAxes(loc.plane);
  const ijk: [number, number, number] = [0, 0, 0];
  ijk[ax.normal] = loc.slice;
  ijk[ax.colAxis] = loc.col + c;
  ijk[ax.rowAxis] = loc.row + r;
  return ijk;
}

/**
 * Summed-volume table: S[(i) + (nx+1)*((j) + (ny+1)*k)] = sum of voxels with indices < (i, j, k).
 * Any axis-aligned box sum then costs 8 look-ups, so 1000 candidates per plane are free to test.
 */
export function summedVolume(volume: Volume, scratch?: Float64Array): Float64Array {
  const [nx, ny, nz] = volume.dims;
  const sx = nx + 1;
  const sy = ny + 1;
  const n = sx * sy * (nz + 1);
  const S = scratch && scratch.length >= n ? scratch.subarray(0, n) : new Float64Array(n);
  // Only the three faces at index 0 need zeroing; every other entry is written below.
  S.fill(0, 0, sx * sy);
  for (let k = 1; k <= nz; k++) {
    S.fill(0, sx * sy * k, sx * sy * k + sx);
    for (let j = 1; j < sy; j++) S[sx * (j + sy * k)] = 0;
  }
  const d = volume.data;
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      let rowSum = 0;
      const src = nx * (j + ny * k);
      const dst = sx * (j + 1 + sy * (k + 1));
      const up = sx * (j + sy * (k + 1)); // (j, k+1)
      const back = sx * (j + 1 + sy * k); // (j+1, k)
      const upBack = sx * (j + sy * k); // (j, k)
      for (let i = 0; i < nx; i++) {
        rowSum += d[src + i];
        // Inclusion-exclusion over the j and k faces; the i direction is the running row sum.
        S[dst + i + 1] = rowSum + S[up + i + 1] + S[back + i + 1] - S[upBack + i + 1];
      }
    }
  }
  return S;
}

/** Sum of voxels in [i0, i1) x [j0, j1) x [k0, k1) from a summed-volume table. */
export function boxSum(
  S: Float64Array,
  dims: readonly [number, number, number],
  i0: number, i1: number, j0: number, j1: number, k0: number, k1: number,
): number {
  const sx = dims[0] + 1;
  const sy = dims[1] + 1;
  const at = (i: number, j: number, k: number) => S[i + sx * (j + sy * k)];
  return (
    at(i1, j1, k1) - at(i0, j1, k1) - at(i1, j0, k1) - at(i1, j1, k0) +
    at(i0, j0, k1) + at(i0, j1, k0) + at(i1, j0, k0) - at(i0, j0, k0)
  );
}

function resolveConfig(config: PatchSamplerConfig): Required<PatchSamplerConfig> {
  const cfg = { ...DEFAULT_PATCH_SAMPLER_CONFIG, ...config };
  const positiveInt = (v: number, name: string) => {
    if (!Number.isInteger(v) || v < 1) throw new Error(`patch sampler: ${name} must be a positive integer, got ${v}`);
  };
  positiveInt(cfg.size, 'size');
  positiveInt(cfg.candidates, 'candidates');
  positiveInt(cfg.keep, 'keep');
  if (!(cfg.thresholdFraction >= 0)) throw new Error(`patch sampler: thresholdFraction must be >= 0, got ${cfg.thresholdFraction}`);
  for (const p of cfg.planes) if (!PLANES.includes(p)) throw new Error(`patch sampler: unknown plane '${p}' (valid: ${PLANES.join(', ')})`);
  if (cfg.onTooFew !== 'error' && cfg.onTooFew !== 'warn') throw new Error(`patch sampler: onTooFew must be 'error' or 'warn', got '${cfg.onTooFew}'`);
  return cfg;
}

/**
 * The paper's sampler: per plane, `candidates` random positions; a candidate whose mean is below
 * `thresholdFraction` x the volume mean is background and rejected; `keep` survivors are drawn at
 * random. Expects a volume already normalised (see normalizeMinMax); `source` names it in errors.
 */
export function samplePatches(volume: Volume, config: PatchSamplerConfig, rng: Rng, source = 'volume'): SampledPatches {
  return sampleWithIntensityMap(volume, { min: 0, scale: 1 }, config, rng, source);
}

/**
 * The paper's pipeline in one pass: min-max normalisation of the whole volume to [0, 1], then
 * samplePatches. Equivalent to samplePatches(normalizeMinMax(volume), ...) but never materialises
 * the normalised copy: box sums of the raw volume are mapped through the same affine map, and only
 * the kept patches are normalised (a paper-size volume is 15 M voxels; this halves the work).
 */
export function sampleNormalizedPatches(volume: Volume, config: PatchSamplerConfig, rng: Rng, source = 'volume'): SampledPatches & { min: number; max: number } {
  const { min, max } = minMaxOf(volume.data, source);
  const scale = 1 / (max - min);
  return { ...sampleWithIntensityMap(volume, { min, scale }, config, rng, source), min, max };
}

let summedScratch: Float64Array | undefined;

/** Samples as if every voxel were `(v - min) * scale` (scale > 0). */
function sampleWithIntensityMap(
  volume: Volume,
  map: { min: number; scale: number },
  config: PatchSamplerConfig,
  rng: Rng,
  source: string,
): SampledPatches {
  const cfg = resolveConfig(config);
  const { dims } = volume;
  const size = cfg.size;
  for (const plane of cfg.planes) {
    const ax = planeAxes(plane);
    if (dims[ax.colAxis] < size || dims[ax.rowAxis] < size) {
      throw new Error(
        `${source}: volume ${dims.join('x')} is smaller than a ${size}x${size} patch in the ${plane} plane ` +
          `(in-plane size ${dims[ax.colAxis]}x${dims[ax.rowAxis]})`,
      );
    }
  }
  // A paper-size table is 120 MB: reuse one per thread rather than allocate it per volume.
  if (!summedScratch || summedScratch.length < (dims[0] + 1) * (dims[1] + 1) * (dims[2] + 1)) {
    summedScratch = new Float64Array((dims[0] + 1) * (dims[1] + 1) * (dims[2] + 1));
  }
  const S = summedVolume(volume, summedScratch);
  // Sums of the mapped volume follow from sums of the raw one: sum((v - m) s) = s (sum(v) - m n).
  const mappedSum = (rawSum: number, n: number) => map.scale * (rawSum - map.min * n);
  const total = mappedSum(boxSum(S, dims, 0, dims[0], 0, dims[1], 0, dims[2]), volume.data.length);
  const volumeMean = total / volume.data.length;
  const threshold = cfg.thresholdFraction * volumeMean;
  const area = size * size;

  const locations: PatchLocation[] = [];
  const stats: PlaneStats[] = [];
  const warnings: string[] = [];
  const candidates: SampledPatches['candidates'] = cfg.recordCandidates ? [] : undefined;
  for (const plane of cfg.planes) {
    const ax = planeAxes(plane);
    const survivors: PatchLocation[] = [];
    for (let c = 0; c < cfg.candidates; c++) {
      const loc: PatchLocation = {
        plane,
        slice: rng.int(dims[ax.normal]),
        row: rng.int(dims[ax.rowAxis] - size + 1),
        col: rng.int(dims[ax.colAxis] - size + 1),
      };
      const lo: [number, number, number] = [0, 0, 0];
      const hi: [number, number, number] = [0, 0, 0];
      lo[ax.normal] = loc.slice;
      hi[ax.normal] = loc.slice + 1;
      lo[ax.colAxis] = loc.col;
      hi[ax.colAxis] = loc.col + size;
      lo[ax.rowAxis] = loc.row;
      hi[ax.rowAxis] = loc.row + size;
      const mean = mappedSum(boxSum(S, dims, lo[0], hi[0], lo[1], hi[1], lo[2], hi[2]), area) / area;
      const background = mean < threshold;
      if (!background) survivors.push(loc);
      candidates?.push({ ...loc, mean, background });
    }
    let kept: PatchLocation[];
    if (survivors.length < cfg.keep) {
      const msg = `${source}: only ${survivors.length} of ${cfg.candidates} candidates in the ${plane} plane passed the background threshold; ${cfg.keep} are needed`;
      if (cfg.onTooFew === 'error') throw new Error(`${msg} (set onTooFew: 'warn' to keep fewer)`);
      warnings.push(msg);
      kept = survivors;
    } else {
      kept = rng.sample(survivors, cfg.keep);
    }
    stats.push({ plane, candidates: cfg.candidates, survivors: survivors.length, kept: kept.length });
    locations.push(...kept);
  }

  const data = new Float32Array(locations.length * area);
  locations.forEach((loc, p) => extractPatch(volume, loc, size, data, p * area));
  if (map.scale !== 1 || map.min !== 0) {
    // The same float64 expression as normalizeMinMax, rounded once to float32.
    for (let i = 0; i < data.length; i++) data[i] = (data[i] - map.min) * map.scale;
  }
  return { size, data, locations, stats, warnings, volumeMean, threshold, candidates };
}

/** Copies one patch into `out` at `offset` (row-major, size x size). */
export function extractPatch(volume: Volume, loc: PatchLocation, size: number, out: Float32Array, offset = 0): Float32Array {
  const [nx, ny] = volume.dims;
  const d = volume.data;
  const stride = [1, nx, nx * ny];
  const ax = planeAxes(loc.plane);
  const base = loc.slice * stride[ax.normal] + loc.col * stride[ax.colAxis] + loc.row * stride[ax.rowAxis];
  const cs = stride[ax.colAxis];
  const rs = stride[ax.rowAxis];
  for (let r = 0; r < size; r++) {
    const rowBase = base + r * rs;
    const o = offset + r * size;
    for (let c = 0; c < size; c++) out[o + c] = d[rowBase + c * cs];
  }
  return out;
}
