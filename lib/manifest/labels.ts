/**
 * The label rule of the paper: per metric, where the two raters differ by >= 1 point the
 * consensus score is the label; otherwise the mean of the two. With one rater, that rater's score.
 */
import { METRICS, type MetricName, type MetricTriple } from '../types';
import type { MetricScores, Rating } from './schema';

/** Disagreement (absolute difference, points) from which the consensus score decides the label. */
export const CONSENSUS_THRESHOLD = 1;

/** What labelsOf needs from a reconstruction. */
export interface Scored {
  id?: string;
  ratings?: Rating[];
  consensus?: MetricScores;
}

/** Metrics on which two raters differ by >= 1 (so a consensus score is required); [] for 0 or 1 rater. */
export function metricsNeedingConsensus(recon: Scored): MetricName[] {
  const r = recon.ratings ?? [];
  if (r.length !== 2) return [];
  return METRICS.filter((m) => Math.abs(r[0][m] - r[1][m]) >= CONSENSUS_THRESHOLD);
}

/**
 * The training labels of a reconstruction, or undefined when it was not scored.
 * No ratings but a consensus: the consensus. Throws when the rule cannot be applied (more than
 * two ratings, or a needed consensus is missing); validated manifests never do.
 */
export function labelsOf(recon: Scored): MetricTriple | undefined {
  const ratings = recon.ratings ?? [];
  const name = recon.id !== undefined ? `reconstruction "${recon.id}"` : 'reconstruction';
  if (ratings.length === 0) return recon.consensus ? pick(recon.consensus) : undefined;
  if (ratings.length === 1) return pick(ratings[0]);
  if (ratings.length > 2) throw new Error(`labelsOf: ${name} has ${ratings.length} ratings; the label rule is defined for 1 or 2 raters`);
  const [a, b] = ratings;
  const disputed = metricsNeedingConsensus(recon);
  const { consensus } = recon;
  if (disputed.length > 0 && !consensus) {
    const m = disputed[0];
    throw new Error(`labelsOf: ${name}: raters differ by >= ${CONSENSUS_THRESHOLD} on ${m} (${a[m]} vs ${b[m]}) and there is no consensus score`);
  }
  const out = {} as MetricTriple;
  for (const m of METRICS) out[m] = consensus && disputed.includes(m) ? consensus[m] : (a[m] + b[m]) / 2;
  return out;
}

function pick(s: MetricScores): MetricTriple {
  return { GQR: s.GQR, PR: s.PR, DC: s.DC };
}
