/**
 * Simulated clinical raters. Each scores GQR, PR and DC (0-3, half points) from measurable image
 * properties, through a latent "true quality" shared by both raters plus each rater's own bias
 * and noise. See docs/synthetic-cohort.md for the model and its calibration.
 */
import { labelsOf, metricsNeedingConsensus } from '../manifest/labels';
import { METRICS, type MetricTriple } from '../types';
import type { Rng } from '../util/rng';
import type { ImageMetrics } from './image-metrics';

/** The count-level groups of the paper; each patient is scored at one level of each. */
export const LEVEL_GROUPS: ReadonlyArray<{ name: 'low' | 'medium' | 'high'; levels: readonly number[] }> = [
  { name: 'low', levels: [0.5, 1] },
  { name: 'medium', levels: [5, 10] },
  { name: 'high', levels: [25, 50, 100] },
];

/** One level from each group, drawn with `rng` (low, medium, high order). */
export function chooseRatedLevels(rng: Rng): number[] {
  return LEVEL_GROUPS.map((g) => g.levels[rng.int(g.levels.length)]);
}

export interface RaterProfile {
  name: string;
  /** Added to the latent score, per metric. */
  bias: MetricTriple;
  /** SD of the rater's per-score noise. */
  sd: number;
}

/** How image properties become latent scores. */
export interface RatingModelConfig {
  /** WM noise at which the noise term of GQR is half (GQR* = 1.5 with full contrast). Default 0.2. */
  noiseHalf?: number;
  /** Steepness of GQR's fall with noise. Default 3. */
  noisePower?: number;
  /** Smallest pattern depth a reader must be able to see (to rule a pattern out). Default 0.12. */
  minPatternDepth?: number;
  /** Relative noise a reader perceives at the scale of a gyrus, as a fraction of the voxel WM noise. Default 0.25. */
  regionalNoiseFactor?: number;
  /** Detectability index at which PR is 1.5 (half the scale). Default 2.2. */
  detectabilityHalf?: number;
  /** DC weights of GQR and PR. Default [0.4, 0.6]. */
  dcWeights?: [number, number];
  raters?: RaterProfile[];
  /** SD of the consensus session's score around the latent score. Default 0.15. */
  consensusSd?: number;
  /**
   * SD of a patient's reading effect, shared by both raters and all three metrics (some patients
   * read harsher: anatomy, atrophy, motion the phantom does not model). Default 0.3.
   */
  patientSd?: number;
  /** Correlation of one rater's errors across GQR, PR and DC within one reading. Default 0.5. */
  errorCorrelation?: number;
  /**
   * Detectability index at which a rater sees the patient's hypometabolism pattern with
   * probability 1/2 (probit slope 1 per unit). Only patients with a pattern. Default 1.5.
   */
  visibleHalf?: number;
  /** PR shift when the rater sees the pattern (+) or misses a pattern that is there (-). Default 0.35. */
  visibilityShift?: number;
}

export const DEFAULT_RATING_MODEL: Required<RatingModelConfig> = {
  noiseHalf: 0.2,
  noisePower: 3,
  minPatternDepth: 0.12,
  regionalNoiseFactor: 0.25,
  detectabilityHalf: 2.2,
  dcWeights: [0.4, 0.6],
  raters: [
    { name: 'A', bias: { GQR: 0.1, PR: -0.05, DC: 0.05 }, sd: 0.32 },
    { name: 'B', bias: { GQR: -0.1, PR: 0.1, DC: -0.05 }, sd: 0.32 },
  ],
  consensusSd: 0.15,
  patientSd: 0.3,
  errorCorrelation: 0.5,
  visibleHalf: 1.5,
  visibilityShift: 0.35,
};

/** A patient's reading effect (added to every score of the patient, both raters), drawn once per patient. */
export function drawPatientEffect(rng: Rng, cfg: RatingModelConfig = {}): number {
  const c = { ...DEFAULT_RATING_MODEL, ...cfg };
  return Math.max(-2.5, Math.min(2.5, rng.normal())) * c.patientSd;
}

/** Standard normal CDF (Abramowitz-Stegun 7.1.26 through erf; |error| < 1.5e-7). */
function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-z * z);
  return x >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

/** Nearest half point in [0, 3]. */
export function roundHalf(x: number): number {
  return Math.min(3, Math.max(0, Math.round(x * 2) / 2));
}

/** The latent (rater-independent) quality of an image, continuous in [0, 3]. */
export function latentScores(m: ImageMetrics, cfg: RatingModelConfig = {}): MetricTriple {
  const c = { ...DEFAULT_RATING_MODEL, ...cfg };
  // Sharpness relative to what this reconstruction protocol gives without noise.
  const sharp = Math.min(1, Math.max(0, m.relativeContrast));
  const noiseTerm = 1 / (1 + Math.pow(Math.max(m.wmNoise, 0) / c.noiseHalf, c.noisePower));
  const GQR = 3 * noiseTerm * (0.8 + 0.2 * sharp);
  const d = detectability(m, Math.max(m.patternDepth, c.minPatternDepth), c);
  const PR = 3 * (1 - Math.pow(0.5, Math.pow(d / c.detectabilityHalf, 2)));
  const DC = c.dcWeights[0] * GQR + c.dcWeights[1] * PR;
  return { GQR, PR, DC };
}

/**
 * Pattern detectability: depth seen through the contrast recovery over the regional noise (plus
 * any misstatement of the pattern relative to the patient's own full-count image).
 */
function detectability(m: ImageMetrics, depth: number, c: Required<RatingModelConfig>): number {
  const sharp = Math.min(1, Math.max(0, m.relativeContrast));
  const regionalNoise = Math.hypot(c.regionalNoiseFactor * m.wmNoise, m.deficitError);
  return (depth * Math.max(sharp, 0.05)) / Math.max(regionalNoise, 1e-6);
}

/** Probability that a rater sees the patient's own pattern in this image (0 without a pattern). */
export function patternVisibility(m: ImageMetrics, cfg: RatingModelConfig = {}): number {
  const c = { ...DEFAULT_RATING_MODEL, ...cfg };
  if (!(m.patternDepth > 0)) return 0;
  return normalCdf(detectability(m, m.patternDepth, c) - c.visibleHalf);
}

export interface RatedScores {
  ratings: Array<{ rater: string } & MetricTriple>;
  /** Present when the raters differ by >= 1 on some metric: the consensus session's scores. */
  consensus?: MetricTriple;
  latent: MetricTriple;
}

/**
 * Both raters score one image; a consensus is simulated where they differ by >= 1. Each reading:
 * latent + rater bias + the patient's effect (shared) + errors correlated across the three metrics
 * (a common and an own part per metric); for a patient with a pattern, PR (and DC through it,
 * with its weight) moves up when this rater sees the pattern and down when they miss it.
 */
export function rateImage(m: ImageMetrics, rng: Rng, cfg: RatingModelConfig = {}, patientEffect = 0): RatedScores {
  const c = { ...DEFAULT_RATING_MODEL, ...cfg };
  const latent = latentScores(m, c);
  const visible = patternVisibility(m, c);
  const rho = Math.min(1, Math.max(0, c.errorCorrelation));
  const ratings = c.raters.map((r) => {
    const s = { rater: r.name } as { rater: string } & MetricTriple;
    const common = rng.normal();
    let pr = 0;
    if (m.patternDepth > 0) pr = rng.uniform(0, 1) < visible ? c.visibilityShift : -c.visibilityShift;
    const shift: MetricTriple = { GQR: 0, PR: pr, DC: c.dcWeights[1] * pr };
    for (const k of METRICS) {
      const err = r.sd * (Math.sqrt(rho) * common + Math.sqrt(1 - rho) * rng.normal());
      s[k] = roundHalf(latent[k] + r.bias[k] + patientEffect + shift[k] + err);
    }
    return s;
  });
  const out: RatedScores = { ratings, latent };
  const disputed = metricsNeedingConsensus(out);
  if (disputed.length > 0) {
    const cons = {} as MetricTriple;
    for (const k of METRICS) {
      // Where they agree the consensus keeps their (rounded) mean; where they differ it is re-decided.
      cons[k] = disputed.includes(k) ? roundHalf(latent[k] + patientEffect + rng.normal(0, c.consensusSd)) : roundHalf((ratings[0][k] + ratings[1][k]) / 2);
    }
    out.consensus = cons;
  }
  return out;
}

/** The paper's label rule per metric (labelsOf): consensus where the raters differ by >= 1, else their mean. */
export function labelFromScores(s: Pick<RatedScores, 'ratings' | 'consensus'>): MetricTriple {
  const labels = labelsOf(s);
  if (!labels) throw new Error('labelFromScores: no ratings and no consensus');
  return labels;
}

/** Agreement statistics over many rated images. */
export interface AgreementStats {
  scores: number;
  /** Fraction of scores where the raters differ by <= 0.5. */
  within05: number;
  /** Scores that needed the consensus (differ by >= 1). */
  consensusScores: number;
  /** Mean absolute error of random labels: E|L - L'| for L, L' drawn independently from the labels. */
  randomLabelMAE: number;
  labelMean: number;
  labelSd: number;
  /** Histogram of labels over 0, 0.25, ..., 3. */
  labelHistogram: Record<string, number>;
}

export function agreementStats(rated: Array<Pick<RatedScores, 'ratings' | 'consensus'>>): AgreementStats {
  let n = 0, within = 0, cons = 0;
  const labels: number[] = [];
  for (const r of rated) {
    const lab = labelFromScores(r);
    for (const k of METRICS) {
      n++;
      const d = Math.abs(r.ratings[0][k] - r.ratings[1][k]);
      if (d <= 0.5) within++;
      else cons++;
      labels.push(lab[k]);
    }
  }
  let mae = 0;
  for (const a of labels) for (const b of labels) mae += Math.abs(a - b);
  mae /= Math.max(1, labels.length * labels.length);
  const mean = labels.reduce((s, v) => s + v, 0) / Math.max(1, labels.length);
  const sd = Math.sqrt(labels.reduce((s, v) => s + (v - mean) ** 2, 0) / Math.max(1, labels.length));
  const hist: Record<string, number> = {};
  for (const l of labels) hist[String(l)] = (hist[String(l)] ?? 0) + 1;
  return { scores: n, within05: n ? within / n : 0, consensusScores: cons, randomLabelMAE: mae, labelMean: mean, labelSd: sd, labelHistogram: hist };
}
