/**
 * Handcrafted image-quality features of one patch: the reference the CNN backbones must beat
 * (the paper names "comparing to handcrafted features" as future work). Patches are square,
 * row-major (x[r * size + c]), values in [0, 1] after the volume's min-max normalisation.
 */

/** Below this (normalised) value a pixel counts as background. */
export const BACKGROUND_THRESHOLD = 0.05;
/** Bins of the intensity histogram over [0, 1] behind the entropy. */
export const ENTROPY_BINS = 32;
/** Added before taking logs, so flat patches (zero energies) stay finite. */
export const LOG_EPSILON = 1e-6;

/** The raw features, in the order of the feature vector. */
export const RAW_FEATURE_NAMES = [
  'mean',
  'std',
  'cov',
  'laplacianEnergy',
  'gradientEnergy',
  'highPassEnergy',
  'backgroundFraction',
  'entropy',
  'noiseSigma',
] as const;
/** Raw features whose log is also a feature (the positive, scale-like ones). */
const LOGGED = ['mean', 'std', 'cov', 'laplacianEnergy', 'gradientEnergy', 'highPassEnergy', 'noiseSigma'] as const;

/** Every feature, in the order of `handcraftedFeatures`' output: the raw ones, then `log_<name>`. */
export const HANDCRAFTED_FEATURE_NAMES: readonly string[] = [...RAW_FEATURE_NAMES, ...LOGGED.map((n) => `log_${n}`)];

export type RawFeatures = Record<(typeof RAW_FEATURE_NAMES)[number], number>;

/**
 * The raw features of one size x size patch:
 * - mean, std (population), cov = std / mean (0 when the mean is 0);
 * - laplacianEnergy: mean over interior pixels of the squared 4-neighbour Laplacian;
 * - gradientEnergy: mean squared horizontal difference + mean squared vertical difference;
 * - highPassEnergy: mean over interior pixels of (x - its 3 x 3 box mean)^2;
 * - backgroundFraction: fraction of pixels below BACKGROUND_THRESHOLD;
 * - entropy: Shannon entropy (bits) of an ENTROPY_BINS-bin histogram over [0, 1];
 * - noiseSigma: Immerkaer's fast noise estimate, sqrt(pi/2) / (6 (W-2)(H-2)) * sum |x conv N|,
 *   N = [[1,-2,1],[-2,4,-2],[1,-2,1]] (Immerkaer 1996, CVIU 64:300).
 */
export function rawFeatures(patch: ArrayLike<number>, size: number): RawFeatures {
  const n = size * size;
  if (patch.length !== n) throw new Error(`rawFeatures: patch of ${patch.length} values, expected ${size} x ${size}`);
  if (size < 3) throw new Error(`rawFeatures: patch size ${size} < 3 (the 3 x 3 filters need an interior)`);
  let sum = 0;
  let background = 0;
  const hist = new Float64Array(ENTROPY_BINS);
  for (let i = 0; i < n; i++) {
    const v = patch[i];
    sum += v;
    if (v < BACKGROUND_THRESHOLD) background++;
    hist[Math.min(ENTROPY_BINS - 1, Math.max(0, Math.floor(v * ENTROPY_BINS)))]++;
  }
  const mean = sum / n;
  let v2 = 0;
  for (let i = 0; i < n; i++) v2 += (patch[i] - mean) ** 2;
  const std = Math.sqrt(v2 / n);
  let entropy = 0;
  for (const h of hist) if (h > 0) entropy -= (h / n) * Math.log2(h / n);

  let gx = 0;
  let gy = 0;
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) {
      const v = patch[r * size + c];
      if (c + 1 < size) gx += (patch[r * size + c + 1] - v) ** 2;
      if (r + 1 < size) gy += (patch[(r + 1) * size + c] - v) ** 2;
    }
  }
  const pairs = size * (size - 1);
  let lap = 0;
  let hp = 0;
  let noise = 0;
  for (let r = 1; r < size - 1; r++) {
    for (let c = 1; c < size - 1; c++) {
      const at = (dr: number, dc: number) => patch[(r + dr) * size + c + dc];
      const x = at(0, 0);
      const edges = at(-1, 0) + at(1, 0) + at(0, -1) + at(0, 1);
      const corners = at(-1, -1) + at(-1, 1) + at(1, -1) + at(1, 1);
      lap += (edges - 4 * x) ** 2;
      hp += (x - (x + edges + corners) / 9) ** 2;
      noise += Math.abs(corners - 2 * edges + 4 * x);
    }
  }
  const interior = (size - 2) * (size - 2);
  return {
    mean,
    std,
    cov: mean === 0 ? 0 : std / Math.abs(mean),
    laplacianEnergy: lap / interior,
    gradientEnergy: gx / pairs + gy / pairs,
    highPassEnergy: hp / interior,
    backgroundFraction: background / n,
    entropy,
    noiseSigma: (Math.sqrt(Math.PI / 2) * noise) / (6 * interior),
  };
}

/** The feature vector of one patch, in HANDCRAFTED_FEATURE_NAMES order. */
export function handcraftedFeatures(patch: ArrayLike<number>, size: number): Float64Array {
  const raw = rawFeatures(patch, size);
  const out = new Float64Array(HANDCRAFTED_FEATURE_NAMES.length);
  RAW_FEATURE_NAMES.forEach((k, i) => (out[i] = raw[k]));
  LOGGED.forEach((k, i) => (out[RAW_FEATURE_NAMES.length + i] = Math.log(LOG_EPSILON + raw[k])));
  return out;
}

/** Rows x features matrix of every patch of a set (`patches` holds count * size * size values). */
export function handcraftedFeatureMatrix(patches: Float32Array, size: number, count: number): { data: Float64Array; rows: number; dim: number } {
  const per = size * size;
  if (patches.length !== count * per) throw new Error(`handcraftedFeatureMatrix: ${patches.length} values for ${count} patches of ${size} x ${size}`);
  const dim = HANDCRAFTED_FEATURE_NAMES.length;
  const data = new Float64Array(count * dim);
  for (let i = 0; i < count; i++) data.set(handcraftedFeatures(patches.subarray(i * per, (i + 1) * per), size), i * dim);
  return { data, rows: count, dim };
}
