/**
 * The paper's freeze rule for the partial regime, in one place (tfjs-free: tables, plans and notebooks
 * use it without loading TensorFlow.js; lib/backbones/transfer re-exports it).
 */

/** Fraction of the base's layers the paper's partial regime freezes. */
export const PAPER_FROZEN_FRACTION = 0.6;

/**
 * The one freeze rule: the partial regime freezes the first round(fraction x N) layers of the base
 * (InputLayer included); the paper's fraction is 0.6. Training, Tables II/III and the notebooks call this.
 */
export function frozenLayerCount(baseLayers: number, fraction: number = PAPER_FROZEN_FRACTION): number {
  if (!Number.isInteger(baseLayers) || baseLayers < 1) {
    throw new Error(`frozenLayerCount: the layer count must be a positive integer, got ${baseLayers}`);
  }
  if (!(fraction >= 0 && fraction <= 1)) throw new Error(`frozenLayerCount: the fraction must lie in [0, 1], got ${fraction}`);
  // 0.6 N is never exactly k + 0.5 for integer N, so Math.round agrees with Python's round().
  return Math.round(fraction * baseLayers);
}
