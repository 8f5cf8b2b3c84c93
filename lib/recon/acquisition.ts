/**
 * The acquisition model of one transverse slice and its count realisations.
 *
 * Expected prompts per bin: ybar = kappa * att .* B(A x) + scatter + randoms, with A the strip
 * projector (mm), B the detector blur (radial per slice, axial across slices: axialBlurSinograms), att = exp(-A mu) and x in Bq/ml. kappa turns
 * Bq/ml * mm into counts, so the image scale is absolute (see `countsPerBqMlMm`).
 */
import type { Rng } from '../util/rng';
import { fwhmToSigma, gaussianTaps } from './filter';
import { ParallelProjector, RadialBlur } from './projector';

/** Physics and protocol of the simulated scan. */
export interface AcquisitionConfig {
  /**
   * Detected true coincidences per decay in the brain before attenuation. Default 0.03: the mMR's
   * NEMA sensitivity (15 cps/kBq for a 70 cm line, about 40 cps/kBq for activity inside its
   * 25.8 cm axial FOV, higher at the centre where the head lies), less dead time.
   */
  sensitivity?: number;
  /** Scan duration in s. Default 900 (15 min; the paper's cohort started 98 min p.i.). */
  durationS?: number;
  /** Scatter fraction of (trues + scatter). Default 0.30 (3-D brain). */
  scatterFraction?: number;
  /** Randoms as a fraction of trues. Default 0.15 (late scan, low singles rate). */
  randomsFraction?: number;
  /** FWHM (mm) of the scatter distribution along the radial axis. Default 100. */
  scatterFwhmMm?: number;
  /** Detector resolution FWHM (mm) applied in projection space. Default 4.5 (mMR ~4.3 mm at centre). */
  detectorFwhmMm?: number;
  /**
   * Detector resolution FWHM (mm) along the scanner axis, applied to the stack of slice sinograms
   * (see axialBlurSinograms). Default 4.5, as in-plane: the mMR's axial resolution is about the same.
   */
  axialFwhmMm?: number;
  /** Half-life of the tracer (s); decay during the scan is folded into the counts. Default 6586.2 (18F). */
  halfLifeS?: number;
  /**
   * Fraction of the true scatter that the reconstruction's scatter estimate misses (see
   * reconstructionBackground). The data hold all of it; OSEM models scatter x (1 - this) + randoms, so
   * the rest is reconstructed as activity: a smooth haze in and around the body. Default 0.
   */
  residualScatterFraction?: number;
}

export const DEFAULT_ACQUISITION: Required<AcquisitionConfig> = {
  sensitivity: 0.03,
  durationS: 900,
  scatterFraction: 0.3,
  randomsFraction: 0.15,
  scatterFwhmMm: 100,
  detectorFwhmMm: 4.5,
  axialFwhmMm: 4.5,
  halfLifeS: 6586.2,
  residualScatterFraction: 0,
};

/**
 * kappa: expected counts per bin for a line integral of 1 Bq/ml * mm. A slice of thickness dz
 * holding total activity Q (Bq) gives sensitivity * T * decay * Q counts summed over all bins and
 * angles, since the projector sums to pixelArea / binMm per angle.
 */
export function countsPerBqMlMm(cfg: Required<AcquisitionConfig>, binMm: number, sliceMm: number, nAngles: number): number {
  const lambda = Math.LN2 / cfg.halfLifeS;
  const decayInScan = (1 - Math.exp(-lambda * cfg.durationS)) / (lambda * cfg.durationS);
  return (cfg.sensitivity * cfg.durationS * decayInScan * binMm * sliceMm) / 1000 / nAngles;
}

/** The expected data of one slice at 100 % counts, split into its parts. */
export interface SliceExpectation {
  /** Attenuation factors per bin, exp(-A mu). */
  att: Float32Array;
  /** Expected trues per bin. */
  trues: Float32Array;
  /** Expected scatter + randoms per bin (smooth additive background). */
  background: Float32Array;
  /** The scatter part of `background`. */
  scatter: Float32Array;
}

/**
 * Expected prompts of one slice at 100 % counts.
 * @param activity Bq/ml per pixel; @param mu attenuation coefficient per pixel in 1/mm.
 */
export function expectSlice(
  projector: ParallelProjector,
  activity: Float32Array,
  mu: Float32Array,
  kappa: number,
  cfg: Required<AcquisitionConfig>,
  pixels: Int32Array,
): SliceExpectation {
  const att = attenuationFactors(projector, mu, pixels);
  const detector = new RadialBlur(projector.nAngles, projector.nBins, cfg.detectorFwhmMm, projector.binMm);
  const proj = projector.forward(activity, pixels);
  const blurred = detector.apply(proj);
  const trues = new Float32Array(blurred.length);
  let trueSum = 0;
  for (let i = 0; i < trues.length; i++) {
    trues[i] = kappa * att[i] * blurred[i];
    trueSum += trues[i];
  }
  // Scatter: the attenuated emission projection spread by a wide kernel (smooth, extends past the head).
  const wide = new RadialBlur(projector.nAngles, projector.nBins, cfg.scatterFwhmMm, projector.binMm).apply(trues);
  let wideSum = 0;
  for (let i = 0; i < wide.length; i++) wideSum += wide[i];
  const scatterTotal = (trueSum * cfg.scatterFraction) / (1 - cfg.scatterFraction);
  const randomsPerBin = (trueSum * cfg.randomsFraction) / trues.length;
  const background = new Float32Array(trues.length);
  const scatter = new Float32Array(trues.length);
  const sScale = wideSum > 0 ? scatterTotal / wideSum : 0;
  for (let i = 0; i < background.length; i++) {
    scatter[i] = sScale * wide[i];
    background[i] = sScale * wide[i] + randomsPerBin;
  }
  return { att, trues, background, scatter };
}

/**
 * The scatter + randoms the reconstruction assumes: the expected background less the scatter its
 * estimate misses (cfg.residualScatterFraction of the true scatter; 0 gives the exact background,
 * the same array, which callers only read).
 */
export function reconstructionBackground(e: SliceExpectation, cfg: Required<AcquisitionConfig>): Float32Array {
  const r = cfg.residualScatterFraction;
  if (!(r >= 0 && r < 1)) throw new Error(`residualScatterFraction must be in [0, 1), got ${r}`);
  if (e.scatter.length !== e.background.length) throw new Error(`reconstructionBackground: scatter has ${e.scatter.length} bins, background ${e.background.length}`);
  if (r === 0) return e.background;
  const out = new Float32Array(e.background.length);
  for (let i = 0; i < out.length; i++) out[i] = e.background[i] - r * e.scatter[i];
  return out;
}

/**
 * The detector's resolution along the scanner axis: each bin of slice k becomes the Gaussian-
 * weighted sum of the same bin in the neighbouring slices (slice pitch `sliceMm`). With the
 * in-plane radial blur this is the separable 3-D detector response (A (x) G_z) for direct planes:
 * the expected data of a 3-D blurred-LOR model, after attenuation, as a real detector blurs them.
 * Slices beyond the stack are empty (their counts leave the axial FOV). Returns new arrays.
 */
export function axialBlurSinograms(sinograms: readonly Float32Array[], fwhmMm: number, sliceMm: number): Float32Array[] {
  if (!(fwhmMm >= 0)) throw new Error(`axialBlurSinograms: fwhmMm must be >= 0, got ${fwhmMm}`);
  if (!(sliceMm > 0)) throw new Error(`axialBlurSinograms: sliceMm must be > 0, got ${sliceMm}`);
  const nz = sinograms.length;
  if (nz === 0) return [];
  const len = sinograms[0].length;
  for (const [k, s] of sinograms.entries()) if (s.length !== len) throw new Error(`axialBlurSinograms: sinogram ${k} has ${s.length} bins, expected ${len}`);
  const { kernel, radius } = gaussianTaps(fwhmToSigma(fwhmMm) / sliceMm);
  return sinograms.map((_, k) => {
    const out = new Float32Array(len);
    for (let dk = -radius; dk <= radius; dk++) {
      const src = sinograms[k + dk];
      if (!src) continue;
      const w = kernel[dk + radius];
      for (let i = 0; i < len; i++) out[i] += w * src[i];
    }
    return out;
  });
}

/** The expected data of one simulated slice of a volume (after the axial blur). */
export interface VolumeSliceExpectation extends SliceExpectation {
  /** Slice index k in the volume. */
  k: number;
  /** Pixels (indices within the slice) that are reconstructed. */
  pixels: Int32Array;
}

/**
 * Expected prompts at 100 % of every slice of a volume that holds reconstructed pixels: per slice
 * projection, attenuation, radial blur, scatter and randoms (expectSlice), then the axial detector
 * blur across the slices (trues and background alike; the background is linear in the trues).
 * `activity` and `mu` are [n, n, nz] volumes on the projector's grid, `support` marks the pixels
 * to reconstruct (inside the projector's circle), `sliceMm` the slice pitch.
 */
export function expectVolume(
  projector: ParallelProjector,
  activity: Float32Array,
  mu: Float32Array,
  support: Uint8Array,
  nz: number,
  kappa: number,
  cfg: Required<AcquisitionConfig>,
  sliceMm: number,
): VolumeSliceExpectation[] {
  const sliceSize = projector.nPix;
  if (activity.length !== sliceSize * nz || mu.length !== activity.length || support.length !== activity.length) {
    throw new Error(`expectVolume: activity, mu and support must hold ${sliceSize} x ${nz} voxels (got ${activity.length}, ${mu.length}, ${support.length})`);
  }
  const circle = new Uint8Array(sliceSize);
  for (const p of projector.circlePixels()) circle[p] = 1;
  const slices: VolumeSliceExpectation[] = [];
  for (let k = 0; k < nz; k++) {
    const off = k * sliceSize;
    const pix: number[] = [];
    for (let p = 0; p < sliceSize; p++) if (circle[p] && support[off + p]) pix.push(p);
    if (pix.length === 0) continue;
    const pixels = Int32Array.from(pix);
    const e = expectSlice(projector, activity.subarray(off, off + sliceSize), mu.subarray(off, off + sliceSize), kappa, cfg, pixels);
    slices.push({ k, pixels, ...e });
  }
  // Neighbours in the stack must be neighbours in the volume for the axial blur.
  for (let i = 1; i < slices.length; i++) {
    if (slices[i].k !== slices[i - 1].k + 1) throw new Error(`expectVolume: the support's slices must be contiguous (slice ${slices[i - 1].k} is followed by ${slices[i].k})`);
  }
  const trues = axialBlurSinograms(slices.map((s) => s.trues), cfg.axialFwhmMm, sliceMm);
  const background = axialBlurSinograms(slices.map((s) => s.background), cfg.axialFwhmMm, sliceMm);
  const scatter = axialBlurSinograms(slices.map((s) => s.scatter), cfg.axialFwhmMm, sliceMm);
  slices.forEach((s, i) => {
    s.trues = trues[i];
    s.background = background[i];
    s.scatter = scatter[i];
  });
  return slices;
}

/** exp(-A mu) per bin. */
export function attenuationFactors(projector: ParallelProjector, mu: Float32Array, pixels: Int32Array): Float32Array {
  const line = projector.forward(mu, pixels);
  const att = new Float32Array(line.length);
  for (let i = 0; i < line.length; i++) att[i] = Math.exp(-line[i]);
  return att;
}

/** One Poisson realisation of the expected prompts (the 100 % list mode, histogrammed). */
export function poissonRealisation(expected: Float32Array, rng: Rng): Float32Array {
  const out = new Float32Array(expected.length);
  for (let i = 0; i < expected.length; i++) out[i] = expected[i] > 0 ? rng.poisson(expected[i]) : 0;
  return out;
}

/** Keeps each count independently with probability p (list-mode event thinning, histogrammed). */
export function binomialThin(counts: Float32Array, p: number, rng: Rng): Float32Array {
  if (!(p >= 0 && p <= 1)) throw new Error(`binomialThin: p must be in [0, 1], got ${p}`);
  const out = new Float32Array(counts.length);
  for (let i = 0; i < counts.length; i++) {
    const n = counts[i];
    if (!Number.isInteger(n) || n < 0) throw new Error(`binomialThin: counts[${i}] = ${n} is not a non-negative integer`);
    out[i] = n > 0 ? rng.binomial(n, p) : 0;
  }
  return out;
}

/**
 * Nested count levels: the 100 % realisation thinned down level by level, so every lower level's
 * events are a subset of the next higher one's (as list-mode resampling makes them).
 * @param levels percents, any order; must include 100.
 */
export function thinToLevels(full: Float32Array, levels: readonly number[], rng: Rng): Map<number, Float32Array> {
  const sorted = [...levels].sort((a, b) => b - a);
  if (sorted[0] !== 100) throw new Error(`thinToLevels: levels must include 100 (got ${levels.join(', ')})`);
  const out = new Map<number, Float32Array>();
  let prev = full;
  let prevLevel = 100;
  out.set(100, full);
  for (const level of sorted.slice(1)) {
    if (!(level > 0)) throw new Error(`thinToLevels: levels must be > 0, got ${level}`);
    prev = binomialThin(prev, level / prevLevel, rng);
    prevLevel = level;
    out.set(level, prev);
  }
  return out;
}

