/**
 * Measurable image properties that the simulated raters look at.
 */
import type { Phantom } from '../phantom';

/** What a reader could perceive in one reconstruction (all relative, unitless unless stated). */
export interface ImageMetrics {
  /** Mean (Bq/ml) in white matter (WM fraction >= 0.9) and grey matter (GM fraction >= 0.6). */
  wmMean: number;
  gmMean: number;
  /** Noise: std of (image - noise-free reconstruction) in white matter / mean of the noise-free image there. */
  wmNoise: number;
  /** Coefficient of variation (std / mean) of the image in white matter (noise plus true structure). */
  wmCoV: number;
  /** GM/WM contrast recovery: (gm/wm - 1) / (true gm/wm - 1), true from the phantom with the same masks. */
  contrastRecovery: number;
  /** contrastRecovery relative to that of the noise-free reconstruction (1 = no loss from noise). */
  relativeContrast: number;
  /** Regional deficit 1 - mean(pattern regions)/mean(other cortex), in this image. */
  regionalDeficit: number;
  /** |regionalDeficit - regionalDeficit of the patient's 100 % image|: how far this image misstates the pattern. */
  deficitError: number;
  /** Depth of the patient's AD-like pattern (true, from the phantom parameters; 0 when none). */
  patternDepth: number;
}

/** Region masks of a phantom used for the metrics. */
export interface MetricMasks {
  wm: Int32Array;
  gm: Int32Array;
  pattern: Int32Array;
  reference: Int32Array;
}

export function metricMasks(ph: Phantom): MetricMasks {
  const wm: number[] = [], gm: number[] = [], pattern: number[] = [], reference: number[] = [];
  for (let v = 0; v < ph.activity.length; v++) {
    if (ph.wm[v] >= 0.9) wm.push(v);
    if (ph.gm[v] >= 0.6) gm.push(v);
    if (ph.gm[v] >= 0.5 && ph.adWeight[v] >= 0.5) pattern.push(v);
    if (ph.gm[v] >= 0.5 && ph.adWeight[v] <= 0.05) reference.push(v);
  }
  const out = { wm: Int32Array.from(wm), gm: Int32Array.from(gm), pattern: Int32Array.from(pattern), reference: Int32Array.from(reference) };
  for (const [k, m] of Object.entries(out)) if (m.length < 10) throw new Error(`metricMasks: the ${k} mask has only ${m.length} voxels; the grid is too coarse or misplaced`);
  return out;
}

function meanStd(img: Float32Array, idx: Int32Array): [number, number] {
  let s = 0, s2 = 0;
  for (let i = 0; i < idx.length; i++) {
    const v = img[idx[i]];
    s += v;
    s2 += v * v;
  }
  const m = s / idx.length;
  return [m, Math.sqrt(Math.max(0, s2 / idx.length - m * m))];
}

/**
 * Metrics of `img` (Bq/ml on the phantom's box) given the patient's 100 % image `ref` and the
 * noise-free reconstruction `noiseFree` (same system, expected data).
 */
export function imageMetrics(
  img: Float32Array,
  ref: Float32Array,
  noiseFree: Float32Array,
  ph: Phantom,
  masks: MetricMasks,
  patternDepth: number,
): ImageMetrics {
  const [wmMean, wmStd] = meanStd(img, masks.wm);
  const [gmMean] = meanStd(img, masks.gm);
  const [tw] = meanStd(ph.activity, masks.wm);
  const [tg] = meanStd(ph.activity, masks.gm);
  const [nfw] = meanStd(noiseFree, masks.wm);
  const [nfg] = meanStd(noiseFree, masks.gm);
  let s2 = 0;
  for (let i = 0; i < masks.wm.length; i++) s2 += (img[masks.wm[i]] - noiseFree[masks.wm[i]]) ** 2;
  const residual = Math.sqrt(s2 / masks.wm.length);
  const cr = (gmMean / wmMean - 1) / (tg / tw - 1);
  const crNoiseFree = (nfg / nfw - 1) / (tg / tw - 1);
  const deficit = (x: Float32Array) => 1 - meanStd(x, masks.pattern)[0] / meanStd(x, masks.reference)[0];
  const regionalDeficit = deficit(img);
  return {
    wmMean,
    gmMean,
    wmNoise: residual / nfw,
    wmCoV: wmStd / wmMean,
    contrastRecovery: cr,
    relativeContrast: cr / crNoiseFree,
    regionalDeficit,
    deficitError: Math.abs(regionalDeficit - deficit(ref)),
    patternDepth,
  };
}
