import { strict as assert } from 'assert';
import { maeOf, covOf, randomLabelMAE, failedToTrain, volumeMaeOf } from '../../lib/train/metrics';
import { evaluateRun } from '../../lib/train/evaluate';

const close = (a: number, b: number, tol = 1e-6) => assert.ok(Math.abs(a - b) < tol, `${a} vs ${b}`);

describe('train/metrics', () => {
  it('MAE per metric and overall, through an index set', () => {
    const labels = new Float32Array([0, 0, 0, /* row1 */ 1, 2, 3, /* row2 */ 3, 3, 3]);
    const pred = new Float32Array([1.5, 2, 2, /* for row 2 */ 3, 1, 3]); // rows [1, 2]
    const m = maeOf(pred, labels, [1, 2]);
    close(m.GQR, (0.5 + 0) / 2);
    close(m.PR, (0 + 2) / 2);
    close(m.DC, (1 + 0) / 2);
    close(m.overall, (0.25 + 1 + 0.5) / 3);
  });

  it('CoV = population std / mean per metric; a constant predictor has CoV 0', () => {
    const c = covOf(new Float32Array([1, 2, 5, 3, 2, 5]));
    close(c.GQR, 1 / 2); // mean 2, std 1
    close(c.PR, 0);
    close(c.DC, 0);
  });

  it('random-label MAE = E|y - y\'| over independent draws from the labels', () => {
    // GQR labels {0, 1, 3}: pairs (9 ordered, incl. self): |diffs| sum = 2(1 + 3 + 2) = 12 -> 12/9.
    const labels = new Float32Array([0, 2, 1, 1, 2, 1, 3, 2, 1]);
    const r = randomLabelMAE(labels);
    close(r.GQR, 12 / 9);
    close(r.PR, 0);
    close(r.DC, 0);
    close(r.overall, 12 / 27);
    // Uniform on {0, 0.5, ..., 3} (7 values): E|y - y'| = (2/49) sum_{i<j} (j - i)/2 = 1.142857...
    const u = new Float32Array(21);
    for (let i = 0; i < 7; i++) u.set([i / 2, i / 2, i / 2], i * 3);
    close(randomLabelMAE(u).GQR, 56 / 49, 1e-6);
  });

  it('failed to train: training MAE near the random level, or constant predictions', () => {
    const cov = { GQR: 0.2, PR: 0.2, DC: 0.2 };
    const good = { GQR: 0.4, PR: 0.4, DC: 0.4, overall: 0.4 };
    const bad = { GQR: 1.25, PR: 1.2, DC: 1.3, overall: 1.25 };
    assert.deepEqual(failedToTrain(good, cov, 1.3), { failed: false });
    const f = failedToTrain(bad, cov, 1.3);
    assert.ok(f.failed && /random-label/.test(f.reason!));
    const g = failedToTrain(good, { GQR: 0, PR: 0.001, DC: 0 }, 1.3);
    assert.ok(g.failed && /CoV/.test(g.reason!));
    // As the paper: constant on ANY one metric is enough.
    const one = failedToTrain(good, { GQR: 0.2, PR: 0.005, DC: 0.3 }, 1.3);
    assert.equal(one.failed, true);
    assert.match(one.reason!, /CoV of test predictions < 0.01 for PR \(constant on that metric\)/);
  });

  it('per-volume MAE: mean of a volume\'s patch predictions against its label, then averaged over volumes', () => {
    // Volume A: rows 0, 1 (label 1, 2, 0); volume B: rows 2, 3, 4 (label 3, 0, 1).
    const labels = new Float32Array([1, 2, 0, 1, 2, 0, 3, 0, 1, 3, 0, 1, 3, 0, 1]);
    const volumes = ['A', 'A', 'B', 'B', 'B'];
    const pred = new Float32Array([0, 2, 1, /**/ 1, 3, 0, /**/ 2, 0, 0, /**/ 3, 1, 0, /**/ 1, 2, 0]);
    const v = volumeMaeOf(pred, labels, [0, 1, 2, 3, 4], volumes);
    // A: mean pred (0.5, 2.5, 0.5) vs (1, 2, 0): |.| = 0.5, 0.5, 0.5. B: mean pred (2, 1, 0) vs (3, 0, 1): 1, 1, 1.
    close(v.GQR, 0.75);
    close(v.PR, 0.75);
    close(v.DC, 0.75);
    close(v.overall, 0.75);
    assert.equal(v.volumes, 2);
    // Per patch the same predictions are worse: averaging cancels opposite errors.
    assert.ok(maeOf(pred, labels, [0, 1, 2, 3, 4]).overall > v.overall);
    // Through an index subset: only B's rows 3 and 4 (mean pred (2, 1.5, 0)).
    const b = volumeMaeOf(new Float32Array([3, 1, 0, 1, 2, 0]), labels, [3, 4], volumes);
    close(b.GQR, 1);
    close(b.PR, 1.5);
    close(b.DC, 1);
    assert.throws(() => volumeMaeOf(new Float32Array(3), labels, [0], []), /no volume for row 0/);
  });

  it('evaluateRun assembles the record metrics', () => {
    const labels = new Float32Array([0, 0, 0, 3, 3, 3, 1, 1, 1, 2, 2, 2]);
    const m = evaluateRun({
      labels, train: [0, 1], validation: [2], test: [3],
      predictions: { train: new Float32Array([0, 0, 0, 3, 3, 3]), validation: new Float32Array([1, 1, 1]), test: new Float32Array([2.5, 2, 2]) },
      keptEpoch: 4, minValLoss: 0.1, volumes: ['a', 'a', 'b', 'c'],
    });
    assert.equal(m.volumeMAE.train.volumes, 1); // rows 0 and 1 are one volume: mean prediction 1.5 vs mean label 1.5
    close(m.volumeMAE.train.overall, 0);
    close(m.trainMAE.overall, 0);
    close(m.testMAE.GQR, 0.5);
    close(m.randomLabelMAE, 1.5); // {0, 3}: E|y-y'| = (0 + 3 + 3 + 0)/4
    assert.equal(m.failedToTrain, true); // one test row: CoV 0 everywhere
  });
});
