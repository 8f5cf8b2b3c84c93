import { strict as assert } from 'assert';
import { choleskySolve, fitConstant, fitRidge, fitRidgeSelected, predictConstant, predictRidge } from '../../lib/baselines/ridge';

const close = (a: number, b: number, tol = 1e-9) => assert.ok(Math.abs(a - b) < tol, `${a} vs ${b}`);

describe('baselines/ridge', () => {
  it('Cholesky solve of a 2 x 2 system (two right-hand sides)', () => {
    // [[4, 2], [2, 3]] x = b; inverse = 1/8 [[3, -2], [-2, 4]]
    const x = choleskySolve([4, 2, 2, 3], [1, 0, 0, 1], 2, 2);
    [3 / 8, -2 / 8, -2 / 8, 4 / 8].forEach((v, i) => close(x[i], v));
    assert.throws(() => choleskySolve([1, 2, 2, 1], [1, 1], 2, 1), /not positive definite/);
  });

  it('one feature: the closed form w = Szy / (Szz + lambda) on the standardised feature, intercept = mean y', () => {
    const xs = [1, 2, 4, 5];
    const ys = [1, 3, 2, 6];
    const x = { data: Float64Array.from(xs), rows: 4, dim: 1 };
    const y = { data: Float64Array.from(ys), rows: 4, dim: 1 };
    const mx = 3;
    const sx = Math.sqrt(xs.reduce((s, v) => s + (v - mx) ** 2, 0) / 4); // sqrt(2.5)
    const z = xs.map((v) => (v - mx) / sx);
    const my = 3;
    const szy = z.reduce((s, zi, i) => s + zi * (ys[i] - my), 0);
    const szz = z.reduce((s, zi) => s + zi * zi, 0); // = 4
    for (const lambda of [0.5, 3]) {
      const m = fitRidge(x, y, lambda);
      close(m.weights[0], szy / (szz + lambda));
      close(m.intercept[0], my);
      const p = predictRidge(m, x, [3]);
      close(p[0], my + z[3] * (szy / (szz + lambda)), 1e-6);
    }
  });

  it('exact linear data, two outputs: lambda -> 0 recovers it; the intercept is not shrunk', () => {
    const rows = 20;
    const x = { data: new Float64Array(rows * 2), rows, dim: 2 };
    const y = { data: new Float64Array(rows * 2), rows, dim: 2 };
    for (let i = 0; i < rows; i++) {
      const a = Math.sin(i);
      const b = Math.cos(3 * i);
      x.data.set([a, b], i * 2);
      y.data.set([1 + 2 * a - b, -0.5 + 0.5 * b], i * 2);
    }
    const p = predictRidge(fitRidge(x, y, 0), x);
    for (let i = 0; i < rows * 2; i++) close(p[i], y.data[i], 1e-5);
    // A huge penalty leaves the intercept: the outputs' mean.
    const big = predictRidge(fitRidge(x, y, 1e12), x, [0]);
    const mean0 = Array.from({ length: rows }, (_, i) => y.data[i * 2]).reduce((s, v) => s + v, 0) / rows;
    close(big[0], mean0, 1e-6);
  });

  it('the penalty is chosen on the validation rows; constant features get weight 0', () => {
    // Training rows: y = x + noise that a small lambda overfits; validation says which lambda is better.
    const xs = [0, 1, 2, 3, 10, 11];
    const ys = [0, 2, 1, 3, 5, 5.5];
    const x = { data: new Float64Array(xs.flatMap((v) => [v, 7])), rows: 6, dim: 2 };
    const y = { data: Float64Array.from(ys), rows: 6, dim: 1 };
    const sel = fitRidgeSelected(x, y, [0, 1, 2, 3], [4, 5], [0.01, 1, 100]);
    assert.equal(sel.path.length, 3);
    const best = sel.path.reduce((a, b) => (b.validationMSE <= a.validationMSE ? b : a));
    assert.equal(sel.model.lambda, best.lambda);
    assert.equal(sel.model.weights[1], 0);
    // Hand check of the path's first entry.
    const m = fitRidge(x, y, 0.01, [0, 1, 2, 3]);
    const p = predictRidge(m, x, [4, 5]);
    close(sel.path[0].validationMSE, ((p[0] - 5) ** 2 + (p[1] - 5.5) ** 2) / 2, 1e-6);
  });

  it('the constant predictor is the training mean', () => {
    const y = { data: Float64Array.from([0, 3, 1, 2, 2, 1, 9, 9]), rows: 4, dim: 2 };
    const c = fitConstant(y, [0, 1, 2]);
    close(c[0], 1);
    close(c[1], 2);
    assert.deepEqual(Array.from(predictConstant(c, 2)), [1, 2, 1, 2]);
    assert.throws(() => fitConstant(y, []), /no training rows/);
  });
});
