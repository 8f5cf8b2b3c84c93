import { strict as assert } from 'assert';
import { labelsOf, metricsNeedingConsensus } from '../../lib/manifest';

describe('manifest/labels: the label rule', () => {
  it('takes the mean where the two raters differ by < 1 and the consensus where they differ by >= 1, per metric', () => {
    const labels = labelsOf({
      id: 'r1',
      ratings: [
        { rater: 'A', GQR: 1, PR: 1.5, DC: 3 },
        { rater: 'B', GQR: 2, PR: 2, DC: 1.5 },
      ],
      consensus: { GQR: 1.5, PR: 0, DC: 2 },
    });
    // GQR differs by exactly 1 -> consensus; PR by 0.5 -> mean 1.75 (the consensus 0 is not used); DC by 1.5 -> consensus.
    assert.deepEqual(labels, { GQR: 1.5, PR: 1.75, DC: 2 });
  });

  it('uses the mean on every metric when the raters agree within 0.5, with or without a consensus', () => {
    const ratings = [
      { rater: 'A', GQR: 3, PR: 2.5, DC: 0 },
      { rater: 'B', GQR: 2.5, PR: 2.5, DC: 0.5 },
    ];
    assert.deepEqual(labelsOf({ ratings }), { GQR: 2.75, PR: 2.5, DC: 0.25 });
    assert.deepEqual(labelsOf({ ratings, consensus: { GQR: 0, PR: 0, DC: 3 } }), { GQR: 2.75, PR: 2.5, DC: 0.25 });
  });

  it('one rater: that rater; no ratings: the consensus if any, else undefined', () => {
    assert.deepEqual(labelsOf({ ratings: [{ rater: 'A', GQR: 0.5, PR: 1, DC: 2 }] }), { GQR: 0.5, PR: 1, DC: 2 });
    assert.deepEqual(labelsOf({ consensus: { GQR: 2, PR: 2, DC: 1 } }), { GQR: 2, PR: 2, DC: 1 });
    assert.equal(labelsOf({}), undefined);
    assert.equal(labelsOf({ ratings: [] }), undefined);
  });

  it('throws when a needed consensus is missing or there are more than two ratings', () => {
    assert.throws(
      () => labelsOf({ id: 'x', ratings: [{ rater: 'A', GQR: 1, PR: 1, DC: 1 }, { rater: 'B', GQR: 1, PR: 2.5, DC: 1 }] }),
      /reconstruction "x": raters differ by >= 1 on PR \(1 vs 2.5\) and there is no consensus score/,
    );
    const r = { rater: 'A', GQR: 1, PR: 1, DC: 1 };
    assert.throws(() => labelsOf({ ratings: [r, { ...r, rater: 'B' }, { ...r, rater: 'C' }] }), /3 ratings; the label rule is defined for 1 or 2 raters/);
  });

  it('lists the metrics that need a consensus', () => {
    assert.deepEqual(
      metricsNeedingConsensus({ ratings: [{ rater: 'A', GQR: 0, PR: 3, DC: 2 }, { rater: 'B', GQR: 1, PR: 2.5, DC: 0.5 }] }),
      ['GQR', 'DC'],
    );
    assert.deepEqual(metricsNeedingConsensus({ ratings: [{ rater: 'A', GQR: 0, PR: 3, DC: 2 }] }), []);
  });
});
