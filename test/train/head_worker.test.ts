import { strict as assert } from 'assert';
import { trainHead, type EpochLog } from '../../lib/train/head';
import { trainHeadInWorker } from '../../lib/train/head_worker';

describe('train/trainHeadInWorker', function () {
  this.timeout(60_000);
  const rows = 40;
  const dim = 8;
  const features = { data: Float32Array.from({ length: rows * dim }, (_, i) => Math.sin(i)), rows, dim };
  const labels = Float32Array.from({ length: rows * 3 }, (_, i) => (i % 4) / 2);
  const train = Int32Array.from({ length: 30 }, (_, i) => i);
  const validation = Int32Array.from({ length: 10 }, (_, i) => 30 + i);

  it('reports every epoch to this thread and returns what trainHead returns here', async () => {
    const seen: EpochLog[] = [];
    const r = await trainHeadInWorker({ features, labels, train, validation, config: { epochs: 12, seed: 3 }, onEpoch: (log) => void seen.push(log) });
    const here = trainHead({ features, labels, train, validation, config: { epochs: 12, seed: 3 } });
    assert.equal(seen.length, 12);
    assert.deepEqual(seen, here.history);
    assert.deepEqual(r.history, here.history);
    assert.equal(r.keptEpoch, here.keptEpoch);
    assert.deepEqual(Array.from(r.best.kernel), Array.from(here.best.kernel));
  });

  it("passes the worker's errors on", async () => {
    await assert.rejects(trainHeadInWorker({ features, labels, train: new Int32Array(0), validation, config: { epochs: 2 } }), /trainHead: empty training set/);
  });
});
