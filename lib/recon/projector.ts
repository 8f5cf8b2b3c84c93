/**
 * 2-D parallel-beam projector for one transverse slice, as a precomputed sparse system matrix.
 *
 * Each square pixel projects onto the detector axis as a trapezoid (its exact chord-length
 * profile); the matrix entry is the mean chord length (mm) through the pixel over the width of the
 * bin ("strip integral"). Forward and back projection read the same entries, so they are exactly
 * adjoint. Bins are as wide as pixels, so a pixel's projection (at most sqrt(2) pixels wide) meets
 * at most 3 bins: every (angle, pixel) pair stores K = 3 consecutive bins starting at `start`.
 */
import { convolveLine, fwhmToSigma, gaussianTaps } from './filter';

/** Geometry of one slice and its sinogram. */
export interface ProjectorConfig {
  /** Pixels per side of the square slice grid (the reconstruction field of view). */
  n: number;
  /** Pixel size in mm. */
  pixelMm: number;
  /** Number of projection angles over [0, pi). Default: n (close to the mMR's 252 angles for 344 bins scaled by pi/2 sampling). */
  nAngles?: number;
  /** Number of radial bins. Default: enough to cover the inscribed circle, n * pixelMm / binMm + 2. */
  nBins?: number;
}

export class ParallelProjector {
  readonly n: number;
  readonly nPix: number;
  readonly pixelMm: number;
  readonly nAngles: number;
  /** Radial bin width in mm: pixelMm. */
  readonly binMm: number;
  readonly nBins: number;
  /** Bins per (angle, pixel) entry. */
  readonly K = 3;
  /** First bin of each (angle, pixel): start[a * nPix + p]. */
  readonly start: Int32Array;
  /** Weights, K per (angle, pixel): weights[(a * nPix + p) * K + k] (mm). */
  readonly weights: Float32Array;

  constructor(cfg: ProjectorConfig) {
    const { n, pixelMm } = cfg;
    if (!(Number.isInteger(n) && n >= 2)) throw new Error(`ParallelProjector: n must be an integer >= 2, got ${n}`);
    if (!(pixelMm > 0)) throw new Error(`ParallelProjector: pixelMm must be > 0, got ${pixelMm}`);
    this.n = n;
    this.nPix = n * n;
    this.pixelMm = pixelMm;
    this.nAngles = cfg.nAngles ?? n;
    this.binMm = pixelMm;
    this.nBins = cfg.nBins ?? Math.ceil((n * pixelMm) / this.binMm) + 2;
    if (!(Number.isInteger(this.nAngles) && this.nAngles >= 1)) throw new Error(`ParallelProjector: nAngles must be a positive integer, got ${this.nAngles}`);
    const { nPix, nAngles, nBins, K, binMm } = this;
    this.start = new Int32Array(nAngles * nPix);
    this.weights = new Float32Array(nAngles * nPix * K);
    const d = pixelMm;
    const c0 = (n - 1) / 2;
    const sMin = (-nBins / 2) * binMm; // left edge of bin 0
    for (let a = 0; a < nAngles; a++) {
      const th = (a * Math.PI) / nAngles;
      const ct = Math.cos(th);
      const st = Math.sin(th);
      const a1 = (Math.abs(Math.abs(ct) - Math.abs(st)) * d) / 2; // half plateau
      const a2 = ((Math.abs(ct) + Math.abs(st)) * d) / 2; // half base
      const cdf = trapezoidCdf(a1, a2, d * d);
      for (let iy = 0; iy < n; iy++) {
        const y = (iy - c0) * d;
        for (let ix = 0; ix < n; ix++) {
          const x = (ix - c0) * d;
          const s0 = x * ct + y * st;
          const idx = a * nPix + iy * n + ix;
          let b0 = Math.floor((s0 - a2 - sMin) / binMm);
          b0 = Math.max(0, Math.min(nBins - K, b0));
          this.start[idx] = b0;
          for (let k = 0; k < K; k++) {
            const lo = sMin + (b0 + k) * binMm - s0;
            const w = (cdf(lo + binMm) - cdf(lo)) / binMm;
            this.weights[idx * K + k] = w > 0 ? w : 0;
          }
        }
      }
    }
  }

  /** Sinogram length (nAngles * nBins), laid out [angle][bin]. */
  get sinogramSize(): number {
    return this.nAngles * this.nBins;
  }

  /** Pixel indices inside the inscribed circle of the grid (the usual reconstruction FOV). */
  circlePixels(): Int32Array {
    const { n } = this;
    const c0 = (n - 1) / 2;
    const r2 = (n / 2) * (n / 2);
    const out: number[] = [];
    for (let iy = 0; iy < n; iy++) for (let ix = 0; ix < n; ix++) if ((ix - c0) ** 2 + (iy - c0) ** 2 <= r2) out.push(iy * n + ix);
    return Int32Array.from(out);
  }

  /** All pixel indices. */
  allPixels(): Int32Array {
    const out = new Int32Array(this.nPix);
    for (let i = 0; i < out.length; i++) out[i] = i;
    return out;
  }

  /** Angles of subset `s` of `nSubsets` (interleaved: s, s + nSubsets, ...). */
  subsetAngles(s: number, nSubsets: number): Int32Array {
    if (this.nAngles % nSubsets !== 0) {
      throw new Error(`ParallelProjector: nAngles ${this.nAngles} is not a multiple of ${nSubsets} subsets`);
    }
    const out = new Int32Array(this.nAngles / nSubsets);
    for (let i = 0; i < out.length; i++) out[i] = s + i * nSubsets;
    return out;
  }

  /** Adds A x to `out` for the given angles, reading only the given pixels. */
  forwardAdd(x: Float32Array, out: Float32Array, angles: ArrayLike<number>, pixels: Int32Array): void {
    const { nPix, nBins, start, weights } = this;
    for (let ai = 0; ai < angles.length; ai++) {
      const a = angles[ai];
      const rowOff = a * nBins;
      const base = a * nPix;
      for (let pi = 0; pi < pixels.length; pi++) {
        const p = pixels[pi];
        const v = x[p];
        if (v === 0) continue;
        const idx = base + p;
        const b = rowOff + start[idx];
        const w = idx * 3;
        out[b] += weights[w] * v;
        out[b + 1] += weights[w + 1] * v;
        out[b + 2] += weights[w + 2] * v;
      }
    }
  }

  /** Adds A^T y to `out` (only at the given pixels) for the given angles. */
  backAdd(y: Float32Array, out: Float32Array, angles: ArrayLike<number>, pixels: Int32Array): void {
    const { nPix, nBins, start, weights } = this;
    for (let ai = 0; ai < angles.length; ai++) {
      const a = angles[ai];
      const rowOff = a * nBins;
      const base = a * nPix;
      for (let pi = 0; pi < pixels.length; pi++) {
        const p = pixels[pi];
        const idx = base + p;
        const b = rowOff + start[idx];
        const w = idx * 3;
        out[p] += weights[w] * y[b] + weights[w + 1] * y[b + 1] + weights[w + 2] * y[b + 2];
      }
    }
  }

  /**
   * forwardAdd for L images at once, interleaved: image l's pixel p is x[p * L + l] and its bin i
   * is out[i * L + l]. Reads each matrix entry once for all L images (the count levels of a slice).
   */
  forwardAddMulti(x: Float32Array, out: Float32Array, L: number, angles: ArrayLike<number>, pixels: Int32Array): void {
    const { nPix, nBins, start, weights } = this;
    for (let ai = 0; ai < angles.length; ai++) {
      const a = angles[ai];
      const rowOff = a * nBins;
      const base = a * nPix;
      for (let pi = 0; pi < pixels.length; pi++) {
        const p = pixels[pi];
        const idx = base + p;
        const b = (rowOff + start[idx]) * L;
        const w = idx * 3;
        const w0 = weights[w], w1 = weights[w + 1], w2 = weights[w + 2];
        const xo = p * L;
        for (let l = 0; l < L; l++) {
          const v = x[xo + l];
          out[b + l] += w0 * v;
          out[b + L + l] += w1 * v;
          out[b + 2 * L + l] += w2 * v;
        }
      }
    }
  }

  /** backAdd for L interleaved sinograms/images (see forwardAddMulti). */
  backAddMulti(y: Float32Array, out: Float32Array, L: number, angles: ArrayLike<number>, pixels: Int32Array): void {
    const { nPix, nBins, start, weights } = this;
    for (let ai = 0; ai < angles.length; ai++) {
      const a = angles[ai];
      const rowOff = a * nBins;
      const base = a * nPix;
      for (let pi = 0; pi < pixels.length; pi++) {
        const p = pixels[pi];
        const idx = base + p;
        const b = (rowOff + start[idx]) * L;
        const w = idx * 3;
        const w0 = weights[w], w1 = weights[w + 1], w2 = weights[w + 2];
        const xo = p * L;
        for (let l = 0; l < L; l++) out[xo + l] += w0 * y[b + l] + w1 * y[b + L + l] + w2 * y[b + 2 * L + l];
      }
    }
  }

  /** A x over all angles and pixels, as a new sinogram. */
  forward(x: Float32Array, pixels: Int32Array = this.allPixels()): Float32Array {
    this.checkImage(x);
    const out = new Float32Array(this.sinogramSize);
    this.forwardAdd(x, out, allAngles(this.nAngles), pixels);
    return out;
  }

  /** A^T y over all angles, as a new image. */
  back(y: Float32Array, pixels: Int32Array = this.allPixels()): Float32Array {
    if (y.length !== this.sinogramSize) throw new Error(`ParallelProjector.back: sinogram length ${y.length}, expected ${this.sinogramSize}`);
    const out = new Float32Array(this.nPix);
    this.backAdd(y, out, allAngles(this.nAngles), pixels);
    return out;
  }

  private checkImage(x: Float32Array): void {
    if (x.length !== this.nPix) throw new Error(`ParallelProjector: image length ${x.length}, expected ${this.nPix} (${this.n}x${this.n})`);
  }
}

export function allAngles(nAngles: number): Int32Array {
  const out = new Int32Array(nAngles);
  for (let i = 0; i < nAngles; i++) out[i] = i;
  return out;
}

/**
 * Cumulative integral of a trapezoid centred at 0 with half plateau a1, half base a2 and the
 * given area; a box when a1 == a2.
 */
function trapezoidCdf(a1: number, a2: number, area: number): (t: number) => number {
  const h = area / (a1 + a2);
  const ramp = a2 - a1;
  if (ramp < 1e-9 * a2) {
    return (t) => (t <= -a2 ? 0 : t >= a2 ? area : h * (t + a2));
  }
  return (t) => {
    if (t <= -a2) return 0;
    if (t <= -a1) return (h * (t + a2) * (t + a2)) / (2 * ramp);
    if (t <= a1) return (h * ramp) / 2 + h * (t + a1);
    if (t < a2) return area - (h * (a2 - t) * (a2 - t)) / (2 * ramp);
    return area;
  };
}

/**
 * Symmetric 1-D Gaussian blur along the radial bins of every angle (the detector response).
 * Zero boundary and a symmetric kernel make it self-adjoint: B^T = B.
 */
export class RadialBlur {
  readonly kernel: Float32Array;
  readonly radius: number;
  constructor(readonly nAngles: number, readonly nBins: number, fwhmMm: number, binMm: number) {
    const taps = gaussianTaps(fwhmToSigma(fwhmMm) / binMm);
    this.kernel = taps.kernel;
    this.radius = taps.radius;
  }

  /** Returns B y (a new array). Only the listed angles are blurred; other rows are copied. */
  apply(y: Float32Array, angles: ArrayLike<number> = allAngles(this.nAngles)): Float32Array {
    const out = new Float32Array(y.length);
    if (this.radius === 0) {
      out.set(y);
      return out;
    }
    const { nBins, kernel, radius } = this;
    for (let ai = 0; ai < angles.length; ai++) {
      const off = angles[ai] * nBins;
      convolveLine(y, off, nBins, kernel, radius, out, off, 1);
    }
    return out;
  }
}
