/**
 * Multi-output ridge regression on standardised features with an unpenalised intercept, its
 * penalty chosen on a validation set; and the constant predictor (the training labels' mean).
 */

/** A row-major rows x dim matrix. */
export interface Matrix {
  data: Float64Array | Float32Array;
  rows: number;
  dim: number;
}

export interface RidgeModel {
  /** Penalty on the standardised coefficients. */
  lambda: number;
  /** Per feature: training mean and std (std 0 features get weight 0). */
  featureMean: number[];
  featureStd: number[];
  /** dim x outputs coefficients on standardised features, row-major. */
  weights: number[];
  /** Per output: the intercept (the training labels' mean). */
  intercept: number[];
  outputs: number;
}

/** Default penalties tried: 10^-4 .. 10^4 in half decades. */
export const DEFAULT_RIDGE_LAMBDAS: readonly number[] = Array.from({ length: 17 }, (_, i) => 10 ** (-4 + i / 2));

/**
 * Solves A x = b for a symmetric positive-definite n x n A (row-major) by Cholesky, for each of the
 * `k` right-hand sides in b (n x k, row-major). Throws when A is not positive definite.
 */
export function choleskySolve(a: ArrayLike<number>, b: ArrayLike<number>, n: number, k: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j];
      for (let p = 0; p < j; p++) s -= l[i * n + p] * l[j * n + p];
      if (i === j) {
        if (!(s > 0)) throw new Error(`choleskySolve: matrix is not positive definite (pivot ${i} is ${s})`);
        l[i * n + i] = Math.sqrt(s);
      } else l[i * n + j] = s / l[j * n + j];
    }
  }
  const x = new Float64Array(n * k);
  for (let c = 0; c < k; c++) {
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = b[i * k + c];
      for (let p = 0; p < i; p++) s -= l[i * n + p] * y[p];
      y[i] = s / l[i * n + i];
    }
    for (let i = n - 1; i >= 0; i--) {
      let s = y[i];
      for (let p = i + 1; p < n; p++) s -= l[p * n + i] * x[p * k + c];
      x[i * k + c] = s / l[i * n + i];
    }
  }
  return x;
}

function rowsOf(m: Matrix, indices?: ArrayLike<number>): number[] {
  return indices ? Array.from(indices) : Array.from({ length: m.rows }, (_, i) => i);
}

/**
 * Fits ridge regression of `y` (rows x outputs, row-major; rows selected by `indices`) on `x`:
 * features standardised by the training rows' mean and std, outputs centred, so the intercept is
 * the outputs' training mean and is not penalised. Minimises |Yc - Z W|^2 + lambda |W|^2.
 */
export function fitRidge(x: Matrix, y: Matrix, lambda: number, indices?: ArrayLike<number>): RidgeModel {
  if (x.rows !== y.rows) throw new Error(`fitRidge: ${x.rows} feature rows, ${y.rows} label rows`);
  if (!(lambda >= 0)) throw new Error(`fitRidge: lambda must be >= 0, got ${lambda}`);
  const rows = rowsOf(x, indices);
  if (rows.length === 0) throw new Error('fitRidge: no training rows');
  const d = x.dim;
  const k = y.dim;
  const mu = new Array(d).fill(0);
  const sd = new Array(d).fill(0);
  const ym = new Array(k).fill(0);
  for (const r of rows) {
    for (let j = 0; j < d; j++) mu[j] += x.data[r * d + j];
    for (let c = 0; c < k; c++) ym[c] += y.data[r * k + c];
  }
  for (let j = 0; j < d; j++) mu[j] /= rows.length;
  for (let c = 0; c < k; c++) ym[c] /= rows.length;
  for (const r of rows) for (let j = 0; j < d; j++) sd[j] += (x.data[r * d + j] - mu[j]) ** 2;
  for (let j = 0; j < d; j++) sd[j] = Math.sqrt(sd[j] / rows.length);
  // Features constant on the training rows carry nothing: weight 0 (their column of Z is 0).
  const live = Array.from({ length: d }, (_, j) => j).filter((j) => sd[j] > 1e-12 * Math.max(1, Math.abs(mu[j])));
  const m = live.length;
  const gram = new Float64Array(m * m);
  const rhs = new Float64Array(m * k);
  const z = new Float64Array(m);
  for (const r of rows) {
    for (let a = 0; a < m; a++) z[a] = (x.data[r * d + live[a]] - mu[live[a]]) / sd[live[a]];
    for (let a = 0; a < m; a++) {
      for (let b = 0; b <= a; b++) gram[a * m + b] += z[a] * z[b];
      for (let c = 0; c < k; c++) rhs[a * k + c] += z[a] * (y.data[r * k + c] - ym[c]);
    }
  }
  for (let a = 0; a < m; a++) {
    for (let b = 0; b < a; b++) gram[b * m + a] = gram[a * m + b];
    gram[a * m + a] += lambda;
  }
  // lambda = 0 with collinear features is singular; a tiny jitter keeps the solve defined.
  if (lambda === 0) for (let a = 0; a < m; a++) gram[a * m + a] += 1e-10 * rows.length;
  const w = m > 0 ? choleskySolve(gram, rhs, m, k) : new Float64Array(0);
  const weights = new Array(d * k).fill(0);
  live.forEach((j, a) => {
    for (let c = 0; c < k; c++) weights[j * k + c] = w[a * k + c];
  });
  return { lambda, featureMean: mu, featureStd: sd, weights, intercept: ym, outputs: k };
}

/** Predictions (rows x outputs, in the order of `indices`) of a ridge model. */
export function predictRidge(model: RidgeModel, x: Matrix, indices?: ArrayLike<number>): Float32Array {
  const rows = rowsOf(x, indices);
  const d = x.dim;
  const k = model.outputs;
  const out = new Float32Array(rows.length * k);
  rows.forEach((r, i) => {
    for (let c = 0; c < k; c++) {
      let s = model.intercept[c];
      for (let j = 0; j < d; j++) {
        if (model.featureStd[j] > 0 && model.weights[j * k + c] !== 0) s += ((x.data[r * d + j] - model.featureMean[j]) / model.featureStd[j]) * model.weights[j * k + c];
      }
      out[i * k + c] = s;
    }
  });
  return out;
}

function mse(pred: Float32Array, y: Matrix, rows: number[]): number {
  const k = y.dim;
  let s = 0;
  rows.forEach((r, i) => {
    for (let c = 0; c < k; c++) s += (pred[i * k + c] - y.data[r * k + c]) ** 2;
  });
  return s / (rows.length * k);
}

export interface RidgeSelection {
  model: RidgeModel;
  /** Validation MSE (mean over outputs) per penalty tried, in order. */
  path: Array<{ lambda: number; validationMSE: number }>;
}

/** Ridge with the penalty of `lambdas` that gives the lowest validation MSE (ties: the larger penalty). */
export function fitRidgeSelected(x: Matrix, y: Matrix, train: ArrayLike<number>, validation: ArrayLike<number>, lambdas: readonly number[] = DEFAULT_RIDGE_LAMBDAS): RidgeSelection {
  if (lambdas.length === 0) throw new Error('fitRidgeSelected: no penalties to try');
  const val = Array.from(validation);
  if (val.length === 0) throw new Error('fitRidgeSelected: no validation rows');
  const path: RidgeSelection['path'] = [];
  let best: { model: RidgeModel; loss: number } | undefined;
  for (const lambda of lambdas) {
    const model = fitRidge(x, y, lambda, train);
    const loss = mse(predictRidge(model, x, val), y, val);
    path.push({ lambda, validationMSE: loss });
    if (!best || loss <= best.loss) best = { model, loss };
  }
  return { model: best!.model, path };
}

/** The constant predictor: each output's mean over the training rows. */
export function fitConstant(y: Matrix, train: ArrayLike<number>): number[] {
  const rows = Array.from(train);
  if (rows.length === 0) throw new Error('fitConstant: no training rows');
  const k = y.dim;
  const m = new Array(k).fill(0);
  for (const r of rows) for (let c = 0; c < k; c++) m[c] += y.data[r * k + c];
  return m.map((v) => v / rows.length);
}

/** `count` rows of the constant prediction. */
export function predictConstant(value: readonly number[], count: number): Float32Array {
  const out = new Float32Array(count * value.length);
  for (let i = 0; i < count; i++) out.set(value, i * value.length);
  return out;
}
