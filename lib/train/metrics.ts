/**
 * Evaluation of one run: MAE per metric, CoV of predictions, random-label MAE and the
 * failed-to-train decision.
 */
import { METRICS, type MetricTriple } from '../types';

export type MaeSummary = MetricTriple & { overall: number };

/** Thresholds of the failed-to-train decision. */
export interface FailCriteria {
  /**
   * A run failed when its training MAE (overall) is at least this fraction of the random-label MAE
   * of its training labels. Default 0.9: the paper's failed backbones sit at the random level (~1.3).
   */
  maeFraction?: number;
  /** A run failed when the CoV of its test predictions is below this for any metric (constant on that metric, as the paper's failed backbones). Default 0.01. */
  minCoV?: number;
}

export const DEFAULT_FAIL_CRITERIA: Required<FailCriteria> = { maeFraction: 0.9, minCoV: 0.01 };

function checkShapes(pred: Float32Array, labels: Float32Array, indices: ArrayLike<number> | undefined, fn: string): number {
  const n = indices ? indices.length : labels.length / 3;
  if (pred.length !== n * 3) throw new Error(`${fn}: ${pred.length / 3} predictions for ${n} rows`);
  if (n === 0) throw new Error(`${fn}: empty set`);
  return n;
}

/**
 * MAE per metric and overall (mean over the 3). `pred` holds rows in the order of `indices`;
 * `labels` is the full rows x 3 label array (or, without indices, aligned with pred).
 */
export function maeOf(pred: Float32Array, labels: Float32Array, indices?: ArrayLike<number>): MaeSummary {
  const n = checkShapes(pred, labels, indices, 'maeOf');
  const s = [0, 0, 0];
  for (let i = 0; i < n; i++) {
    const r = (indices ? indices[i] : i) * 3;
    for (let m = 0; m < 3; m++) s[m] += Math.abs(pred[i * 3 + m] - labels[r + m]);
  }
  const per = s.map((v) => v / n);
  return { GQR: per[0], PR: per[1], DC: per[2], overall: (per[0] + per[1] + per[2]) / 3 };
}

/** Per-volume MAE: `volumes` distinct reconstructions in the set. */
export type VolumeMaeSummary = MaeSummary & { volumes: number };

/**
 * Per-volume MAE: the predictions of each volume's patches are averaged and compared with the
 * volume's label (its patches' mean label), per metric; overall is the mean over the 3.
 * `pred` holds rows in the order of `indices`; `volumeOf[row]` names the volume of a dataset row.
 */
export function volumeMaeOf(pred: Float32Array, labels: Float32Array, indices: ArrayLike<number>, volumeOf: ArrayLike<string>): VolumeMaeSummary {
  const n = checkShapes(pred, labels, indices, 'volumeMaeOf');
  const sums = new Map<string, { count: number; pred: number[]; label: number[] }>();
  for (let i = 0; i < n; i++) {
    const r = indices[i];
    const v = volumeOf[r];
    if (v === undefined) throw new Error(`volumeMaeOf: no volume for row ${r}`);
    let s = sums.get(v);
    if (!s) sums.set(v, (s = { count: 0, pred: [0, 0, 0], label: [0, 0, 0] }));
    s.count++;
    for (let m = 0; m < 3; m++) {
      s.pred[m] += pred[i * 3 + m];
      s.label[m] += labels[r * 3 + m];
    }
  }
  const per = [0, 0, 0];
  for (const s of sums.values()) for (let m = 0; m < 3; m++) per[m] += Math.abs(s.pred[m] - s.label[m]) / s.count;
  const k = sums.size;
  return { GQR: per[0] / k, PR: per[1] / k, DC: per[2] / k, overall: (per[0] + per[1] + per[2]) / (3 * k), volumes: k };
}

/** Coefficient of variation (population std / mean) of the predictions per metric; NaN-free (mean 0 gives Infinity or 0). */
export function covOf(pred: Float32Array): MetricTriple {
  const n = pred.length / 3;
  if (!(n >= 1) || !Number.isInteger(n)) throw new Error(`covOf: prediction array length ${pred.length} is not a positive multiple of 3`);
  const out: number[] = [];
  for (let m = 0; m < 3; m++) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += pred[i * 3 + m];
    mean /= n;
    let v = 0;
    for (let i = 0; i < n; i++) v += (pred[i * 3 + m] - mean) ** 2;
    const std = Math.sqrt(v / n);
    out.push(std === 0 ? 0 : Math.abs(mean) === 0 ? Infinity : std / Math.abs(mean));
  }
  return { GQR: out[0], PR: out[1], DC: out[2] };
}

/**
 * E|y - y'| for y, y' drawn independently from the given labels (per metric, then averaged):
 * the MAE of a model that outputs random labels from the training distribution. Computed exactly
 * from the sorted values: sum_{i,j} |y_i - y_j| = 2 sum_i (2i - n + 1) y_(i).
 */
export function randomLabelMAE(labels: Float32Array, indices?: ArrayLike<number>): MaeSummary {
  const n = indices ? indices.length : labels.length / 3;
  if (!(n >= 1) || !Number.isInteger(n)) throw new Error('randomLabelMAE: no labels');
  const per: number[] = [];
  for (let m = 0; m < 3; m++) {
    const v = new Float64Array(n);
    for (let i = 0; i < n; i++) v[i] = labels[(indices ? indices[i] : i) * 3 + m];
    v.sort();
    let s = 0;
    for (let i = 0; i < n; i++) s += (2 * i - n + 1) * v[i];
    per.push((2 * s) / (n * n));
  }
  return { GQR: per[0], PR: per[1], DC: per[2], overall: (per[0] + per[1] + per[2]) / 3 };
}

/** The failed-to-train decision with its reason. */
export function failedToTrain(
  trainMAE: MaeSummary,
  testCoV: MetricTriple,
  randomMAE: number,
  criteria: FailCriteria = {},
): { failed: boolean; reason?: string } {
  const c = { ...DEFAULT_FAIL_CRITERIA, ...criteria };
  const reasons: string[] = [];
  if (randomMAE > 0 && trainMAE.overall >= c.maeFraction * randomMAE) {
    reasons.push(
      `training MAE ${trainMAE.overall.toFixed(3)} >= ${c.maeFraction} x random-label MAE ${randomMAE.toFixed(3)}`,
    );
  }
  const flat = METRICS.filter((m) => testCoV[m] < c.minCoV);
  if (flat.length > 0) {
    reasons.push(`CoV of test predictions < ${c.minCoV} for ${flat.join(', ')} (constant on ${flat.length === 1 ? 'that metric' : 'those metrics'})`);
  }
  return reasons.length ? { failed: true, reason: reasons.join('; ') } : { failed: false };
}
