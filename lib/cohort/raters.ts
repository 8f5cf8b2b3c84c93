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
}

export const DEFAULT_RATING_MODEL: Required<RatingModelConfig> = {
  noiseHalf: 0.2,
  noisePower: 3,
  minPatternDepth: 0.12,
  regionalNoiseFactor: 0.25,
  detectabilityHalf: 2.2,
  dcWeights: [0.4, 0.6],
  raters: [
    { name: 'A', bias: { GQR: 0.1, PR: -0.05, DC: 0.05 }, sd: 0.35 },
    { name: 'B', bias: { GQR: -0.1, PR: 0.1, DC: -0.05 }, sd: 0.35 },
  ],
  consensusSd: 0.15,
};

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
  // Pattern detectability: depth seen through the contrast recovery over the regional noise
  // (plus any misstatement of the pattern relative to the patient's own full-count image).
  const depth = Math.max(m.patternDepth, c.minPatternDepth);
  const regionalNoise = Math.hypot(c.regionalNoiseFactor * m.wmNoise, m.deficitError);
  const d = (depth * Math.max(sharp, 0.05)) / Math.max(regionalNoise, 1e-6);
  const PR = 3 * (1 - Math.pow(0.5, Math.pow(d / c.detectabilityHalf, 2)));
  const DC = c.dcWeights[0] * GQR + c.dcWeights[1] * PR;
  return { GQR, PR, DC };
}

export interface RatedScores {
  ratings: Array<{ rater: string } & MetricTriple>;
  /** Present when the raters differ by >= 1 on some metric: the consensus session's scores. */
  consensus?: MetricTriple;
  latent: MetricTriple;
}

/** Both raters score one image; a consensus is simulated where they differ by >= 1. */
export function rateImage(m: ImageMetrics, rng: Rng, cfg: RatingModelConfig = {}): RatedScores {
  const c = { ...DEFAULT_RATING_MODEL, ...cfg };
  const latent = latentScores(m, c);
  const ratings = c.raters.map((r) => {
    const s = { rater: r.name } as { rater: string } & MetricTriple;
    for (const k of METRICS) s[k] = roundHalf(latent[k] + r.bias[k] + rng.normal(0, r.sd));
    return s;
  });
  const out: RatedScores = { ratings, latent };
  const disputed = metricsNeedingConsensus(out);
  if (disputed.length > 0) {
    const cons = {} as MetricTriple;
    for (const k of METRICS) {
      // Where they agree the consensus keeps their (rounded) mean; where they differ it is re-decided.
      cons[k] = disputed.includes(k) ? roundHalf(latent[k] + rng.normal(0, c.consensusSd)) : roundHalf((ratings[0][k] + ratings[1][k]) / 2);
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
