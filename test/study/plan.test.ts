import { strict as assert } from 'assert';
import { makeDesign } from '../../lib/design/design';
import { planRuns, shardRuns, parseShard, runId } from '../../lib/study/plan';
import { BACKBONE_NAMES } from '../../lib/backbones/registry';

describe('study/plan', () => {
  const patients = Array.from({ length: 13 }, (_, i) => String(i + 1));
  const design = makeDesign(patients, {});

  it('the paper sweep has 594 frozen runs (18 x (6 x 3 + 5 x 3)) and 18 partial runs, ids unique', () => {
    const runs = planRuns({ design, backbones: BACKBONE_NAMES, regimes: ['frozen', 'partial'], partial: { fold: 0, n: 8 }, seed: 0 });
    assert.equal(runs.filter((r) => r.regime === 'frozen').length, 594);
    assert.equal(runs.filter((r) => r.regime === 'partial').length, 18);
    assert.equal(new Set(runs.map((r) => r.id)).size, runs.length);
    assert.equal(new Set(runs.map((r) => r.seed)).size, runs.length);
    const e = runs.find((r) => r.kind === 'ensemble' && r.repeat === 4 && r.n === 8)!;
    assert.equal(e.id, runId(e));
    assert.match(e.id, /^frozen__DenseNet121__ensemble__fold0__n8__rep4$/);
    for (const r of runs) {
      assert.equal(r.trainPatients.length, r.n);
      assert.ok(r.trainPatients.every((p) => !r.validationPatients.includes(p) && !r.testPatients.includes(p)));
    }
  });

  it('shards are disjoint, contiguous and cover the sweep, for any N', () => {
    const runs = planRuns({ design, backbones: ['VGG16', 'MobileNet', 'Xception'], regimes: ['frozen', 'partial'], partial: { fold: 0, n: 8 }, seed: 0 });
    for (const N of [1, 2, 3, 7, 16, 200]) {
      const shards = Array.from({ length: N }, (_, i) => shardRuns(runs, { index: i + 1, count: N }));
      const ids = shards.flat().map((r) => r.id);
      assert.deepEqual(ids, runs.map((r) => r.id));
      const sizes = shards.map((s) => s.length);
      assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1);
    }
  });

  it('a run seed depends only on the study seed and its id', () => {
    const a = planRuns({ design, backbones: ['VGG16'], regimes: ['frozen'], partial: { fold: 0, n: 8 }, seed: 0 });
    const b = planRuns({ design, backbones: ['MobileNet', 'VGG16'], regimes: ['partial', 'frozen'], partial: { fold: 0, n: 8 }, seed: 0 });
    for (const r of a) assert.equal(b.find((x) => x.id === r.id)!.seed, r.seed);
  });

  it('parses and rejects shard specs', () => {
    assert.deepEqual(parseShard('2/8'), { index: 2, count: 8 });
    assert.throws(() => parseShard('0/8'), /1 <= i <= N/);
    assert.throws(() => parseShard('9/8'), /1 <= i <= N/);
    assert.throws(() => parseShard('a/b'), /i\/N/);
  });
});
