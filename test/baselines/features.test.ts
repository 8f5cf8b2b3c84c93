import { strict as assert } from 'assert';
import { BACKGROUND_THRESHOLD, HANDCRAFTED_FEATURE_NAMES, LOG_EPSILON, handcraftedFeatureMatrix, handcraftedFeatures, rawFeatures } from '../../lib/baselines/features';

const close = (a: number, b: number, tol = 1e-9) => assert.ok(Math.abs(a - b) < tol, `${a} vs ${b}`);
const S = 6;
const patch = (f: (r: number, c: number) => number) => Float32Array.from({ length: S * S }, (_, i) => f(Math.floor(i / S), i % S));

describe('baselines/features', () => {
  it('a flat patch: its value as mean, every energy, spread and entropy 0', () => {
    const f = rawFeatures(patch(() => 0.5), S);
    close(f.mean, 0.5);
    for (const k of ['std', 'cov', 'laplacianEnergy', 'gradientEnergy', 'highPassEnergy', 'backgroundFraction', 'entropy', 'noiseSigma'] as const) close(f[k], 0, 1e-7);
    const all = handcraftedFeatures(patch(() => 0.5), S);
    assert.equal(all.length, HANDCRAFTED_FEATURE_NAMES.length);
    close(all[HANDCRAFTED_FEATURE_NAMES.indexOf('log_std')], Math.log(LOG_EPSILON), 1e-6);
    close(all[HANDCRAFTED_FEATURE_NAMES.indexOf('log_mean')], Math.log(0.5 + LOG_EPSILON), 1e-6);
    // Below the threshold it is all background.
    close(rawFeatures(patch(() => BACKGROUND_THRESHOLD / 2), S).backgroundFraction, 1);
  });

  it('a 0/1 checkerboard, computed by hand', () => {
    const f = rawFeatures(patch((r, c) => (r + c) % 2), S);
    close(f.mean, 0.5);
    close(f.std, 0.5);
    close(f.cov, 1);
    close(f.laplacianEnergy, 16); // interior: |sum of 4 opposite neighbours - 4 x| = 4
    close(f.gradientEnergy, 2); // every horizontal and vertical step is +-1
    close(f.highPassEnergy, 16 / 81); // 3x3 mean 5/9 at a 1, 4/9 at a 0: residual +-4/9
    close(f.backgroundFraction, 0.5);
    close(f.entropy, 1); // two equally full bins
    close(f.noiseSigma, (Math.sqrt(Math.PI / 2) * 8) / 6); // |N * x| = 8 everywhere inside
  });

  it('a horizontal ramp: no curvature or noise, gradient energy a^2 (horizontal steps only)', () => {
    const a = 0.1;
    const f = rawFeatures(patch((_, c) => a * c), S);
    close(f.mean, (a * (S - 1)) / 2, 1e-7);
    const vals = Array.from({ length: S }, (_, c) => a * c);
    const m = (a * (S - 1)) / 2;
    close(f.std, Math.sqrt(vals.reduce((s, v) => s + (v - m) ** 2, 0) / S), 1e-7);
    close(f.laplacianEnergy, 0, 1e-12);
    close(f.highPassEnergy, 0, 1e-12);
    close(f.noiseSigma, 0, 1e-7);
    close(f.gradientEnergy, a * a, 1e-8); // horizontal steps a, vertical steps 0
    close(f.backgroundFraction, 1 / S); // the first column (0) only
    // Values 0, .1, .., .5 fall in 6 distinct bins of 1/32: log2(6) bits.
    close(f.entropy, Math.log2(S));
  });

  it('the matrix stacks the per-patch vectors; wrong sizes are refused', () => {
    const p1 = patch((r, c) => (r + c) % 2);
    const p2 = patch(() => 0.3);
    const both = new Float32Array(2 * S * S);
    both.set(p1);
    both.set(p2, S * S);
    const m = handcraftedFeatureMatrix(both, S, 2);
    assert.equal(m.dim, HANDCRAFTED_FEATURE_NAMES.length);
    assert.deepEqual(Array.from(m.data.subarray(m.dim)), Array.from(handcraftedFeatures(p2, S)));
    assert.throws(() => handcraftedFeatureMatrix(both, S, 3), /72 values for 3 patches of 6 x 6/);
    assert.throws(() => rawFeatures(new Float32Array(4), 2), /size 2 < 3/);
  });
});
