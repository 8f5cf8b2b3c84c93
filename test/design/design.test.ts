import { strict as assert } from 'assert';
import { makeDesign, checkDesign } from '../../lib/design';

const patients = Array.from({ length: 13 }, (_, i) => `P${String(i + 1).padStart(2, '0')}`);

describe('design/makeDesign', () => {
  it("follows the paper: 3 test patients, 6 folds with different validation pairs, nested training sets", () => {
    const d = makeDesign(patients, { seed: 7 });
    assert.equal(d.testPatients.length, 3);
    assert.equal(d.testSource, 'seeded');
    assert.equal(d.folds.length, 6);
    const pairs = new Set(d.folds.map((f) => [...f.validation].sort().join(',')));
    assert.equal(pairs.size, 6, 'six different validation pairs');
    for (const f of d.folds) {
      assert.equal(f.validation.length, 2);
      for (const p of f.validation) assert.ok(!d.testPatients.includes(p), 'no test patient in validation');
      assert.equal(f.trainingPool.length, 8);
      for (const p of f.trainingPool) {
        assert.ok(!d.testPatients.includes(p), 'no test patient in training');
        assert.ok(!f.validation.includes(p), 'no validation patient in training');
      }
      assert.deepEqual(Object.keys(f.training).map(Number), [1, 4, 8]);
      assert.deepEqual(f.training['1'], f.training['4'].slice(0, 1));
      for (const p of f.training['1']) assert.ok(f.training['4'].includes(p));
      for (const p of f.training['4']) assert.ok(f.training['8'].includes(p));
      assert.equal(new Set(f.training['8']).size, 8);
    }
    // With 10 non-test patients, 6 pairs can cover everyone: each validates at least once.
    const validated = new Set(d.folds.flatMap((f) => f.validation));
    assert.equal(validated.size, 10);
    assert.deepEqual(d.ensemble, { fold: 0, repeats: 5, sizes: [1, 4, 8] });
    checkDesign(d);
  });

  it('uses the manifest test patients when given, and is a plain serialisable object', () => {
    const d = makeDesign(patients, { seed: 1 }, ['P02', 'P05', 'P11']);
    assert.deepEqual(d.testPatients, ['P02', 'P05', 'P11']);
    assert.equal(d.testSource, 'manifest');
    assert.deepEqual(JSON.parse(JSON.stringify(d)), d);
  });

  it('same seed same design, different seed different design', () => {
    assert.deepEqual(makeDesign(patients, { seed: 3 }), makeDesign(patients, { seed: 3 }));
    assert.notDeepEqual(makeDesign(patients, { seed: 3 }).folds, makeDesign(patients, { seed: 4 }).folds);
  });

  it('gives clear errors for impossible designs', () => {
    assert.throws(() => makeDesign(patients, {}, ['P99']), /test patient 'P99' is not among the cohort's patients/);
    assert.throws(() => makeDesign(patients.slice(0, 8)), /fewer than the largest training size 8/);
    assert.throws(() => makeDesign([...patients, 'P01']), /patient 'P01' is listed twice/);
    assert.throws(() => makeDesign(patients.slice(0, 6), { testCount: 1, trainingSizes: [1], folds: 20 }), /cannot form 20 different validation groups of 2 from 5 patients/);
  });

  it('checkDesign catches a test patient in training and repeated validation pairs', () => {
    const d = makeDesign(patients, { seed: 2 });
    const broken = JSON.parse(JSON.stringify(d));
    broken.folds[1].training['1'] = [d.testPatients[0]];
    broken.folds[2].validation = [...d.folds[0].validation];
    assert.throws(() => checkDesign(broken, 'design.json'), (e: Error) => /design\.json: invalid design/.test(e.message) && /folds\[1\]\.training\.1: test patient/.test(e.message) && /folds\[2\]\.validation: repeats/.test(e.message));
  });
});
