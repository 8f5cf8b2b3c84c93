/**
 * OSEM for one slice with the same system model as the acquisition:
 * ybar = kappa * att .* A x + background, restricted to a pixel support.
 */
import { ParallelProjector } from './projector';

/** How a slice is reconstructed. */
export interface OsemConfig {
  /** Full iterations. Default 2 (the paper's clinical protocol). */
  iterations?: number;
  /** Ordered subsets. Default 21. */
  subsets?: number;
}

export const DEFAULT_OSEM: Required<OsemConfig> = { iterations: 2, subsets: 21 };

/** Precomputes the per-subset sensitivity of one slice's system; reconstructs any count level of it. */
export class SliceReconstructor {
  private readonly subsetAngles: Int32Array[];
  /** A_s^T att per subset (kappa = 1). */
  private readonly sens: Float32Array[];
  /** The sum of every subset's sensitivity over the support. */
  private readonly sensAll: number;
  readonly cfg: Required<OsemConfig>;

  constructor(
    readonly projector: ParallelProjector,
    readonly att: Float32Array,
    readonly pixels: Int32Array,
    cfg: OsemConfig = {},
  ) {
    this.cfg = { ...DEFAULT_OSEM, ...cfg };
    if (att.length !== projector.sinogramSize) throw new Error(`SliceReconstructor: att length ${att.length}, expected ${projector.sinogramSize}`);
    const S = this.cfg.subsets;
    this.subsetAngles = [];
    this.sens = [];
    let sensAll = 0;
    for (let s = 0; s < S; s++) {
      const angles = projector.subsetAngles(s, S);
      this.subsetAngles.push(angles);
      const sens = new Float32Array(projector.nPix);
      projector.backAdd(att, sens, angles, pixels);
      this.sens.push(sens);
      for (let pi = 0; pi < pixels.length; pi++) sensAll += sens[pixels[pi]];
    }
    this.sensAll = sensAll;
  }

  /**
   * OSEM from a uniform start that matches the net counts.
   * @param counts measured prompts per bin; @param kappa counts per Bq/ml*mm at this count level;
   * @param background expected scatter + randoms at this count level;
   * @param onIteration called with a copy of the image after every full iteration.
   */
  reconstruct(
    counts: Float32Array,
    kappa: number,
    background: Float32Array,
    onIteration?: (iteration: number, image: Float32Array) => void,
  ): Float32Array {
    return this.reconstructMany([counts], [kappa], [background], onIteration && ((it, images) => onIteration(it, images[0])))[0];
  }

  /**
   * Reconstructs several count levels of the slice at once (same result as calling reconstruct
   * for each, faster: every system-matrix entry is read once for all of them).
   * @param onIteration called with a copy of every level's image after every full iteration.
   */
  reconstructMany(
    counts: Float32Array[],
    kappas: number[],
    backgrounds: Float32Array[],
    onIteration?: (iteration: number, images: Float32Array[]) => void,
  ): Float32Array[] {
    const L = counts.length;
    if (kappas.length !== L || backgrounds.length !== L) throw new Error('SliceReconstructor.reconstructMany: counts, kappas and backgrounds must have the same length');
    const { projector, att, pixels, sensAll } = this;
    const n = projector.sinogramSize;
    const nb = projector.nBins;
    const Y = new Float32Array(n * L);
    const BG = new Float32Array(n * L);
    const X = new Float32Array(projector.nPix * L);
    for (let l = 0; l < L; l++) {
      const c = counts[l], bg = backgrounds[l];
      if (c.length !== n || bg.length !== n) throw new Error(`SliceReconstructor.reconstructMany: counts/background ${l} must have ${n} bins`);
      if (!(kappas[l] > 0)) throw new Error(`SliceReconstructor.reconstructMany: kappa ${l} must be > 0, got ${kappas[l]}`);
      let net = 0;
      for (let i = 0; i < n; i++) {
        Y[i * L + l] = c[i];
        BG[i * L + l] = bg[i];
        net += c[i] - bg[i];
      }
      const init = Math.max(net, 1e-3 * n) / (kappas[l] * sensAll);
      for (let pi = 0; pi < pixels.length; pi++) X[pixels[pi] * L + l] = init;
    }
    /** The images, de-interleaved (zero outside the support). */
    const images = (): Float32Array[] =>
      counts.map((_, l) => {
        const x = new Float32Array(projector.nPix);
        for (let pi = 0; pi < pixels.length; pi++) x[pixels[pi]] = X[pixels[pi] * L + l];
        return x;
      });
    const FWD = new Float32Array(n * L);
    const RATIO = new Float32Array(n * L);
    const BACK = new Float32Array(projector.nPix * L);
    for (let it = 1; it <= this.cfg.iterations; it++) {
      for (let s = 0; s < this.subsetAngles.length; s++) {
        const angles = this.subsetAngles[s];
        for (let ai = 0; ai < angles.length; ai++) FWD.fill(0, angles[ai] * nb * L, (angles[ai] + 1) * nb * L);
        projector.forwardAddMulti(X, FWD, L, angles, pixels);
        for (let ai = 0; ai < angles.length; ai++) {
          const off = angles[ai] * nb;
          for (let b = off; b < off + nb; b++) {
            const ab = att[b];
            for (let l = 0; l < L; l++) {
              const i = b * L + l;
              const ybar = kappas[l] * ab * FWD[i] + BG[i];
              RATIO[i] = ybar > 0 ? (Y[i] / ybar) * ab : 0;
            }
          }
        }
        for (let pi = 0; pi < pixels.length; pi++) BACK.fill(0, pixels[pi] * L, pixels[pi] * L + L);
        projector.backAddMulti(RATIO, BACK, L, angles, pixels);
        const sens = this.sens[s];
        for (let pi = 0; pi < pixels.length; pi++) {
          const p = pixels[pi];
          const sp = sens[p];
          for (let l = 0; l < L; l++) {
            const i = p * L + l;
            X[i] = sp > 0 ? (X[i] * BACK[i]) / sp : 0;
          }
        }
      }
      if (onIteration) onIteration(it, images());
    }
    return images();
  }
}
