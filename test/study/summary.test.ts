import { strict as assert } from 'assert';
import { makeFakeRuns } from '../../lib/figures';
import type { BaselineRecord, RunRecord } from '../../lib/records';
import { againstBaselines } from '../../lib/study/summary';

const mae = (v: number) => ({ GQR: v, PR: v, DC: v, overall: v });

/** A run's or baseline's metrics with test MAE `patch` per patch and `volume` per volume. */
function withTest<T extends { metrics: RunRecord['metrics'] }>(r: T, patch: number, volume: number): T {
  return { ...r, metrics: { ...r.metrics, testMAE: mae(patch), volumeMAE: { ...r.metrics.volumeMAE, test: { ...mae(volume), volumes: 9 } } } };
}

describe('study/summary: what the runs show against the baselines', () => {
  const { runs } = makeFakeRuns({ backbones: ['VGG16', 'MobileNet'], folds: 2, sizes: [1, 8], repeats: 1, failing: [] });
  // n = 8 fold runs: VGG16 learns (0.4 / 0.5 per volume), MobileNet does not (0.9 / 0.95); others untouched.
  const records = runs.map((r) => (r.kind === 'fold' && r.n === 8 && r.regime === 'frozen' ? withTest(r, r.backbone === 'VGG16' ? 0.4 : 0.9, r.backbone === 'VGG16' ? 0.5 : 0.95) : r));
  const baselines: BaselineRecord[] = [];
  for (const fold of [0, 1])
    for (const predictor of ['constant', 'handcrafted-ridge'] as const) {
      const run = records[0];
      baselines.push(withTest({
        schema: 'pet-iqa/baseline@1', id: `${predictor}${fold}`, predictor, kind: 'fold', fold, n: 8,
        trainPatients: [], validationPatients: [], testPatients: [],
        metrics: run.metrics, model: {}, timings: {}, provenance: { ...run.provenance },
      } as BaselineRecord, predictor === 'constant' ? 1 + fold / 10 : 0.3, predictor === 'constant' ? 1 : 0.35));
    }

  it('lists each backbone at the largest n next to the constant (mean over the same folds) and flags the ones no better than it', () => {
    const lines = againstBaselines(records, baselines);
    assert.equal(lines[0], "test MAE at n = 8, per patch / per volume, means over a backbone's folds; the baselines on the same folds:");
    const vgg = lines.find((l) => /^ {2}frozen +VGG16 /.test(l))!;
    assert.match(vgg, /0\.400 \/ 0\.500 {2}constant 1\.050 \/ 1\.000, handcrafted ridge 0\.300 \/ 0\.350 \(2 fold\(s\); random init\)/);
    const weak = lines[lines.length - 1];
    assert.match(weak, /no better than predicting the training mean \(per volume within 0\.1 of the constant\): .*frozen MobileNet/);
    assert.doesNotMatch(weak, /frozen VGG16/);
  });

  it('says nothing without baselines or fold runs', () => {
    assert.deepEqual(againstBaselines(records, []), []);
    assert.deepEqual(againstBaselines([], baselines), []);
  });
});
