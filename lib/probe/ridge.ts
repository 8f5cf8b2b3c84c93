/**
 * Ridge probes on wide activation features: lib/baselines' ridge (standardised features, unpenalised
 * intercept, penalty chosen on validation), solved in its dual form when features outnumber the
 * training rows (a MobileNet block has up to 2 x 1280 features for ~700 patches), which gives the
 * same coefficients: W = Z^T (Z Z^T + lambda I)^-1 Yc.
 */
import { choleskySolve, DEFAULT_RIDGE_LAMBDAS, fitRidgeSelected, type Matrix, type RidgeModel, type RidgeSelection } from '../baselines/ridge';
import { METRICS, type MetricTriple } from '../types';

/** fitRidgeSelected's answer, in the dual form when the features outnumber the training rows. */
export function fitRidgeProbe(x: Matrix, y: Matrix, train: ArrayLike<number>, validation: ArrayLike<number>, lambdas: readonly number[] = DEFAULT_RIDGE_LAMBDAS): RidgeSelection {
  const rows = Array.from(train);
  if (x.dim <= rows.length) return fitRidgeSelected(x, y, train, validation, lambdas);
  if (lambdas.length === 0) throw new Error('fitRidgeProbe: no penalties to try');
  const val = Array.from(validation);
  if (val.length === 0 || rows.length === 0) throw new Error('fitRidgeProbe: empty training or validation rows');
  if (x.rows !== y.rows) throw new Error(`fitRidgeProbe: ${x.rows} feature rows, ${y.rows} label rows`);
  const d = x.dim;
  const k = y.dim;
  const n = rows.length;
  const mu = new Float64Array(d);
  const sd = new Float64Array(d);
  const ym = new Array(k).fill(0);
  for (const r of rows) {
    for (let j = 0; j < d; j++) mu[j] += x.data[r * d + j];
    for (let c = 0; c < k; c++) ym[c] += y.data[r * k + c];
  }
  for (let j = 0; j < d; j++) mu[j] /= n;
  for (let c = 0; c < k; c++) ym[c] /= n;
  for (const r of rows) for (let j = 0; j < d; j++) sd[j] += (x.data[r * d + j] - mu[j]) ** 2;
  for (let j = 0; j < d; j++) sd[j] = Math.sqrt(sd[j] / n);
  const live = Array.from({ length: d }, (_, j) => j).filter((j) => sd[j] > 1e-12 * Math.max(1, Math.abs(mu[j])));
  const m = live.length;
  const standardise = (rs: number[]) => {
    const z = new Float64Array(rs.length * m);
    rs.forEach((r, i) => {
      for (let a = 0; a < m; a++) z[i * m + a] = (x.data[r * d + live[a]] - mu[live[a]]) / sd[live[a]];
    });
    return z;
  };
  const zt = standardise(rows);
  const zv = standardise(val);
  const gram = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let a = 0; a < m; a++) s += zt[i * m + a] * zt[j * m + a];
      gram[i * n + j] = s;
      gram[j * n + i] = s;
    }
  }
  const kv = new Float64Array(val.length * n);
  for (let i = 0; i < val.length; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let a = 0; a < m; a++) s += zv[i * m + a] * zt[j * m + a];
      kv[i * n + j] = s;
    }
  }
  const yc = new Float64Array(n * k);
  rows.forEach((r, i) => {
    for (let c = 0; c < k; c++) yc[i * k + c] = y.data[r * k + c] - ym[c];
  });
  const path: RidgeSelection['path'] = [];
  let best: { lambda: number; alpha: Float64Array; loss: number } | undefined;
  for (const lambda of lambdas) {
    const a = Float64Array.from(gram);
    for (let i = 0; i < n; i++) a[i * n + i] += lambda === 0 ? 1e-10 * n : lambda;
    const alpha = choleskySolve(a, yc, n, k);
    let se = 0;
    for (let i = 0; i < val.length; i++) {
      for (let c = 0; c < k; c++) {
        let p = ym[c];
        for (let j = 0; j < n; j++) p += kv[i * n + j] * alpha[j * k + c];
        se += (p - y.data[val[i] * k + c]) ** 2;
      }
    }
    const loss = se / (val.length * k);
    path.push({ lambda, validationMSE: loss });
    if (!best || loss <= best.loss) best = { lambda, alpha, loss };
  }
  const weights = new Array(d * k).fill(0);
  live.forEach((j, a) => {
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += zt[i * m + a] * best!.alpha[i * k + c];
      weights[j * k + c] = s;
    }
  });
  const model: RidgeModel = { lambda: best!.lambda, featureMean: Array.from(mu), featureStd: Array.from(sd), weights, intercept: ym, outputs: k };
  return { model, path };
}

/** Test error of predictions (rows in `rows` order): per patch and per volume (mean prediction of a volume's patches against its label). */
export interface ProbeError {
  perPatch: MetricTriple & { overall: number };
  perVolume: MetricTriple & { overall: number };
  volumes: number;
}

/** MAE per patch and per volume; `pred` holds rows x 3 in the order of `rows`, `volumeOf` names each row's volume. */
export function probeError(pred: ArrayLike<number>, labels: ArrayLike<number>, rows: ArrayLike<number>, volumeOf: (row: number) => string): ProbeError {
  const patchSum = [0, 0, 0];
  const byVol = new Map<string, { sum: number[]; label: number[]; n: number }>();
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    const v = volumeOf(r);
    let e = byVol.get(v);
    if (!e) byVol.set(v, (e = { sum: [0, 0, 0], label: [labels[r * 3], labels[r * 3 + 1], labels[r * 3 + 2]], n: 0 }));
    e.n++;
    for (let c = 0; c < 3; c++) {
      patchSum[c] += Math.abs(pred[i * 3 + c] - labels[r * 3 + c]);
      e.sum[c] += pred[i * 3 + c];
    }
  }
  const volSum = [0, 0, 0];
  for (const e of byVol.values()) for (let c = 0; c < 3; c++) volSum[c] += Math.abs(e.sum[c] / e.n - e.label[c]);
  const triple = (s: number[], n: number) => {
    const t = Object.fromEntries(METRICS.map((m, c) => [m, s[c] / n])) as MetricTriple;
    return { ...t, overall: (s[0] + s[1] + s[2]) / (3 * n) };
  };
  return { perPatch: triple(patchSum, rows.length), perVolume: triple(volSum, byVol.size), volumes: byVol.size };
}

