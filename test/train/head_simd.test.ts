import { strict as assert } from 'assert';
import * as head from '../../lib/train/head';
import { predictHead, glorotDense, TrainConfig } from '../../lib/train/head';
import { HeadSimdTrainer, HeadSimdUnavailableError, headSimdSupported, trainHeadSimd } from '../../lib/train/head_simd';
import { Rng } from '../../lib/util/rng';
import { describeOnKernelVariants } from '../support/backends';

/** The plain-JS trainer: trainHeadJs if head.ts dispatches trainHead to the SIMD kernel, else trainHead. */
const trainHead = (head as { trainHeadJs?: typeof head.trainHead }).trainHeadJs ?? head.trainHead;

function problem(rows: number, dim: number, seed: number) {
  const rng = new Rng(seed);
  const data = new Float32Array(rows * dim).map(() => rng.uniform(-1, 1));
  const w = Array.from({ length: dim * 3 }, () => rng.uniform(-0.3, 0.3));
  const labels = new Float32Array(rows * 3);
  for (let r = 0; r < rows; r++) {
    for (let m = 0; m < 3; m++) {
      let s = 0.5 + 0.1 * rng.normal();
      for (let d = 0; d < dim; d++) s += data[r * dim + d] * w[d * 3 + m];
      labels[r * 3 + m] = s;
    }
  }
  return { features: { data, rows, dim }, labels };
}

const range = (from: number, n: number) => Int32Array.from({ length: n }, (_, i) => from + i);

function relDiff(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-12);
}

function maxAbs(a: Float32Array): number {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describeOnKernelVariants('train/head_simd', function () {
  before(function () {
    if (!headSimdSupported()) this.skip();
  });

  const cases: Array<{ dim: number; rows: number; train: number; batch: number; epochs: number; lr: number }> = [
    { dim: 1, rows: 40, train: 30, batch: 10, epochs: 40, lr: 1e-2 },
    { dim: 7, rows: 123, train: 97, batch: 10, epochs: 40, lr: 1e-2 }, // last batch of 7
    { dim: 64, rows: 150, train: 101, batch: 10, epochs: 25, lr: 1e-3 }, // last batch of 1
    { dim: 130, rows: 90, train: 63, batch: 4, epochs: 20, lr: 1e-3 }, // F % 4 = 2, last batch of 3
    { dim: 1027, rows: 80, train: 55, batch: 10, epochs: 15, lr: 1e-4 }, // F % 4 = 3, last batch of 5
    { dim: 2048, rows: 60, train: 41, batch: 1, epochs: 5, lr: 1e-4 }, // batch of one row
  ];
  for (const c of cases) {
    it(`matches trainHead: F=${c.dim}, ${c.train} training rows, batch ${c.batch}, ${c.epochs} epochs`, () => {
      const { features, labels } = problem(c.rows, c.dim, c.dim + c.rows);
      const train = range(0, c.train);
      const validation = range(c.train, c.rows - c.train);
      const config: TrainConfig = { epochs: c.epochs, batchSize: c.batch, learningRate: c.lr, seed: c.dim };
      const js = trainHead({ features, labels, train, validation, config });
      const simd = trainHeadSimd({ features, labels, train, validation, config });
      assert.equal(simd.epochsRun, js.epochsRun);
      assert.equal(simd.keptEpoch, js.keptEpoch);
      assert.ok(relDiff(simd.minValLoss, js.minValLoss) < 1e-5, `minValLoss ${simd.minValLoss} vs ${js.minValLoss}`);
      for (let e = 0; e < js.history.length; e++) {
        assert.equal(simd.history[e].epoch, js.history[e].epoch);
        assert.ok(relDiff(simd.history[e].loss, js.history[e].loss) < 1e-5, `epoch ${e + 1} loss ${simd.history[e].loss} vs ${js.history[e].loss}`);
        assert.ok(relDiff(simd.history[e].valLoss, js.history[e].valLoss) < 1e-5, `epoch ${e + 1} valLoss ${simd.history[e].valLoss} vs ${js.history[e].valLoss}`);
      }
      assert.equal(simd.best.dim, c.dim);
      assert.equal(simd.best.outputs, 3);
      const scale = maxAbs(js.best.kernel);
      assert.ok(maxAbsDiff(simd.best.kernel, js.best.kernel) < 1e-5 * scale, `kernel diff ${maxAbsDiff(simd.best.kernel, js.best.kernel)} (scale ${scale})`);
      assert.ok(maxAbsDiff(simd.best.bias, js.best.bias) < 1e-5 * Math.max(maxAbs(js.best.bias), 1e-3), `bias ${simd.best.bias} vs ${js.best.bias}`);
      // The kept weights reproduce the kept validation loss through head.ts' own predictHead.
      const p = predictHead(simd.best, features, validation);
      let se = 0;
      for (let i = 0; i < validation.length; i++) for (let m = 0; m < 3; m++) se += (p[i * 3 + m] - labels[validation[i] * 3 + m]) ** 2;
      assert.ok(relDiff(se / (validation.length * 3), simd.minValLoss) < 1e-5);
    });
  }

  it('keeps the best epoch, honours init, patience and onEpoch, and reuses one copy of the features', () => {
    const { features, labels } = problem(100, 9, 11);
    const train = range(0, 70);
    const validation = range(70, 30);
    const init = glorotDense(9, 3, 99);
    init.bias.set([0.1, -0.2, 0.3]);
    // A large learning rate makes validation loss bounce so that the kept epoch is not the last.
    const config: TrainConfig = { epochs: 40, learningRate: 0.3, seed: 4, patience: 5 };
    const js = trainHead({ features, labels, train, validation, config, init });
    const trainer = new HeadSimdTrainer(features, labels);
    const logs: number[] = [];
    const simd = trainer.train({ train, validation, config, init, onEpoch: (l) => void logs.push(l.epoch) });
    assert.equal(simd.keptEpoch, js.keptEpoch);
    assert.equal(simd.epochsRun, js.epochsRun);
    assert.deepEqual(logs, js.history.map((h) => h.epoch));
    assert.ok(maxAbsDiff(simd.best.kernel, js.best.kernel) < 1e-5 * maxAbs(js.best.kernel));
    // init is not mutated; a second run on the same trainer starts afresh.
    assert.deepEqual(Array.from(init.bias), Array.from(Float32Array.from([0.1, -0.2, 0.3])));
    const again = trainer.train({ train, validation, config, init });
    assert.deepEqual(again.history, simd.history);
    const stopped = trainer.train({ train, validation, config: { epochs: 10 }, onEpoch: (l) => l.epoch === 3 });
    assert.equal(stopped.epochsRun, 3);
  });

  it('trainHeadSimd reuses the wasm copy of a feature array, and makes a new one for other labels', () => {
    const { features, labels } = problem(70, 12, 5);
    const other = Float32Array.from(labels, (v) => 2 - v);
    const cfg: TrainConfig = { epochs: 8, learningRate: 1e-2, seed: 3 };
    const args = { features, train: range(0, 50), validation: range(50, 20), config: cfg };
    const first = trainHeadSimd({ ...args, labels });
    // Same arrays again: the held copy gives the same run as a fresh one.
    assert.deepEqual(trainHeadSimd({ ...args, labels }).best, first.best);
    // New labels with the same features: trained on those labels, as trainHead is.
    const js = trainHead({ ...args, labels: other });
    const simd = trainHeadSimd({ ...args, labels: other });
    assert.ok(maxAbsDiff(simd.best.kernel, js.best.kernel) <= 1e-4 * Math.max(1, maxAbs(js.best.kernel)), 'kernel follows the new labels');
    assert.ok(maxAbsDiff(simd.best.kernel, first.best.kernel) > 1e-3, 'not the old labels\' weights');
  });

  it('rejects bad input like trainHead', () => {
    const { features, labels } = problem(20, 5, 1);
    assert.throws(() => trainHeadSimd({ features, labels, train: [], validation: [1] }), /empty training set/);
    assert.throws(() => trainHeadSimd({ features, labels, train: [0, 20], validation: [1] }), /outside/);
    assert.throws(() => trainHeadSimd({ features, labels: labels.subarray(3), train: [0], validation: [1] }), /labels/);
    assert.throws(() => trainHeadSimd({ features, labels, train: [0], validation: [1], init: glorotDense(4, 3, 1) }), /init weights/);
  });

  it('reports missing wasm SIMD with a clear error', () => {
    const saved = globalThis.WebAssembly;
    // A fresh module load with WebAssembly hidden.
    const path = require.resolve('../../lib/train/head_simd');
    const cached = require.cache[path];
    delete require.cache[path];
    try {
      (globalThis as { WebAssembly?: unknown }).WebAssembly = undefined;
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      const fresh = require('../../lib/train/head_simd') as typeof import('../../lib/train/head_simd');
      assert.equal(fresh.headSimdSupported(), false);
      const { features, labels } = problem(20, 5, 1);
      assert.throws(
        () => fresh.trainHeadSimd({ features, labels, train: [0, 1], validation: [2] }),
        (e: Error) => e.name === 'HeadSimdUnavailableError' && /WebAssembly SIMD is unavailable/.test(e.message),
      );
    } finally {
      (globalThis as { WebAssembly?: unknown }).WebAssembly = saved;
      if (cached) require.cache[path] = cached;
    }
    assert.ok(new HeadSimdUnavailableError('x') instanceof Error);
  });
});
