import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { trainHead, trainHeadJs, glorotDense, predictHead, resolveTrainConfig } from '../../lib/train/head';
import { headSimdSupported, trainHeadSimd } from '../../lib/train/head_simd';
import { trainSuffix } from '../../lib/train/suffix';
import { Rng } from '../../lib/util/rng';
import { maxAbsDiff } from './helpers';
import { describeOnBackends } from '../support/backends';

function linearProblem(rows: number, dim: number, seed = 5) {
  const rng = new Rng(seed);
  const data = new Float32Array(rows * dim).map(() => rng.uniform(-1, 1));
  const w = Array.from({ length: dim * 3 }, () => rng.uniform(-0.5, 0.5));
  const labels = new Float32Array(rows * 3);
  for (let r = 0; r < rows; r++) for (let m = 0; m < 3; m++) {
    let s = 1.5;
    for (let d = 0; d < dim; d++) s += data[r * dim + d] * w[d * 3 + m];
    labels[r * 3 + m] = s;
  }
  return { features: { data, rows, dim }, labels };
}

describeOnBackends('train/head', function () {

  it('PET_IQA_FAST_KERNELS=0 selects the plain-JS trainer; otherwise the SIMD kernel when it compiles', () => {
    const { features, labels } = linearProblem(60, 5, 7);
    const args = { features, labels, train: Int32Array.from({ length: 40 }, (_, i) => i), validation: Int32Array.from({ length: 20 }, (_, i) => 40 + i), config: { epochs: 5, learningRate: 0.01, seed: 2 } };
    const saved = process.env.PET_IQA_FAST_KERNELS;
    try {
      process.env.PET_IQA_FAST_KERNELS = '0';
      assert.deepEqual(trainHead(args).best, trainHeadJs(args).best);
      delete process.env.PET_IQA_FAST_KERNELS;
      const expected = headSimdSupported() ? trainHeadSimd(args) : trainHeadJs(args);
      assert.deepEqual(trainHead(args).best, expected.best);
    } finally {
      if (saved === undefined) delete process.env.PET_IQA_FAST_KERNELS;
      else process.env.PET_IQA_FAST_KERNELS = saved;
    }
  });

  it('fits a linear problem: loss falls and the kept epoch is the minimum of validation loss', () => {
    const { features, labels } = linearProblem(300, 6);
    const train = Int32Array.from({ length: 200 }, (_, i) => i);
    const validation = Int32Array.from({ length: 100 }, (_, i) => 200 + i);
    const r = trainHead({ features, labels, train, validation, config: { epochs: 60, learningRate: 0.01, seed: 1 } });
    assert.equal(r.history.length, 60);
    assert.ok(r.history[59].loss < 0.05 * r.history[0].loss, `loss ${r.history[0].loss} -> ${r.history[59].loss}`);
    const vals = r.history.map((h) => h.valLoss);
    const min = Math.min(...vals);
    assert.equal(r.minValLoss, min);
    assert.equal(r.keptEpoch, vals.indexOf(min) + 1);
    // The kept weights reproduce the minimum validation loss.
    const p = predictHead(r.best, features, validation);
    let se = 0;
    for (let i = 0; i < 100; i++) for (let m = 0; m < 3; m++) se += (p[i * 3 + m] - labels[(200 + i) * 3 + m]) ** 2;
    assert.ok(Math.abs(se / 300 - min) < 1e-6);
  });

  it('one step equals hand-computed Keras Adam (lr_t = lr sqrt(1-b2^t)/(1-b1^t))', () => {
    // One sample, one feature x = 2, labels (1, 0, -1), init w = (0.5, 0, 0), b = 0.
    const features = { data: new Float32Array([2, 1]), rows: 2, dim: 1 };
    const labels = new Float32Array([1, 0, -1, 0, 0, 0]);
    const init = { kernel: new Float32Array([0.5, 0, 0]), bias: new Float32Array(3), dim: 1, outputs: 3 };
    const r = trainHead({ features, labels, train: [0], validation: [1], init, config: { epochs: 1, learningRate: 0.1 } });
    // pred = (1, 0, 0); err = (0, 0, 1); dL/dp = 2 e / 3; g_w = x dL/dp = (0, 0, 4/3), g_b = (0, 0, 2/3).
    // Step 1: m = 0.1 g, v = 0.001 g^2, lr_t = 0.1 sqrt(0.001) / 0.1 -> update = lr_t m/(sqrt v + eps) ~ 0.1 sign(g).
    const upd = (g: number) => { const m = 0.1 * g; const v = 0.001 * g * g; return (0.1 * Math.sqrt(0.001) / 0.1) * m / (Math.sqrt(v) + 1e-7); };
    assert.ok(Math.abs(r.best.kernel[0] - 0.5) < 1e-7);
    assert.ok(Math.abs(r.best.kernel[2] - (0 - upd(4 / 3))) < 1e-6);
    assert.ok(Math.abs(r.best.bias[2] - (0 - upd(2 / 3))) < 1e-6);
    assert.equal(r.history[0].loss, 1 / 3);
  });

  it('glorot init is seeded and within the Keras limit', () => {
    const a = glorotDense(100, 3, 7);
    const b = glorotDense(100, 3, 7);
    assert.deepEqual(a.kernel, b.kernel);
    const lim = Math.sqrt(6 / 103);
    assert.ok(a.kernel.every((v) => Math.abs(v) <= lim));
    assert.ok(a.bias.every((v) => v === 0));
    assert.notDeepEqual(glorotDense(100, 3, 8).kernel, a.kernel);
  });

  it('same seed gives the same run; early stopping stops after `patience` epochs without improvement', () => {
    const { features, labels } = linearProblem(60, 4);
    const args = { features, labels, train: Array.from({ length: 40 }, (_, i) => i), validation: Array.from({ length: 20 }, (_, i) => 40 + i) };
    const a = trainHead({ ...args, config: { epochs: 5, seed: 3 } });
    const b = trainHead({ ...args, config: { epochs: 5, seed: 3 } });
    assert.deepEqual(a.history, b.history);
    const c = trainHead({ ...args, config: { epochs: 500, seed: 3, learningRate: 0.5, patience: 3 } });
    assert.ok(c.epochsRun < 500);
    assert.equal(c.epochsRun, c.keptEpoch + 3);
  });

  it('matches the tf implementation (Dense suffix + KerasAdam) step for step', async () => {
    const { features, labels } = linearProblem(50, 5);
    const train = Array.from({ length: 35 }, (_, i) => i);
    const validation = Array.from({ length: 15 }, (_, i) => 35 + i);
    const init = glorotDense(5, 3, 11);
    const cfg = { epochs: 4, seed: 2, learningRate: 0.01 };
    const h = trainHead({ features, labels, train, validation, init, config: cfg });
    const inp = tf.input({ shape: [5] });
    const dense = tf.layers.dense({ units: 3 });
    const model = tf.model({ inputs: inp, outputs: dense.apply(inp) as tf.SymbolicTensor });
    model.setWeights([tf.tensor2d(init.kernel, [5, 3]), tf.tensor1d(init.bias)]);
    const s = await trainSuffix({ model, activations: [features], labels, train, validation, config: cfg });
    for (let e = 0; e < 4; e++) {
      assert.ok(Math.abs(h.history[e].loss - s.history[e].loss) < 1e-5);
      assert.ok(Math.abs(h.history[e].valLoss - s.history[e].valLoss) < 1e-5);
    }
    assert.ok(maxAbsDiff(h.best.kernel, s.best[0]) < 1e-5);
  });

  it('rejects bad settings and inputs clearly', () => {
    assert.throws(() => resolveTrainConfig({ epochs: 0 }), /epochs/);
    assert.throws(() => resolveTrainConfig({ batchSize: 2.5 }), /batchSize/);
    const { features, labels } = linearProblem(10, 2);
    assert.throws(() => trainHead({ features, labels, train: [0, 99], validation: [1] }), /outside/);
    assert.throws(() => trainHead({ features, labels, train: [], validation: [1] }), /empty/);
  });
});
