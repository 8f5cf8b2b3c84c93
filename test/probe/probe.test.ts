import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { fitRidgeSelected, predictRidge } from '../../lib/baselines/ridge';
import { KerasBatchNormalization } from '../../lib/backbones/batch_norm';
import { fitRidgeProbe, pooledActivations, probeBlocks, probeError, probePoints } from '../../lib/probe';
import { Rng } from '../../lib/util/rng';
import { setupBackend } from '../train/helpers';

/** 10 patients x 3 volumes x 8 patches; each volume's three labels; rows of patients p0-p5 train, p6-p7 validate, p8-p9 test. */
function synthetic() {
  const rng = new Rng(3);
  const labels: number[] = [];
  const volume: string[] = [];
  const patient: string[] = [];
  for (let p = 0; p < 10; p++)
    for (let v = 0; v < 3; v++) {
      const q = [rng.uniform(0, 3), rng.uniform(0, 3), rng.uniform(0, 3)];
      for (let k = 0; k < 8; k++) {
        labels.push(...q);
        volume.push(`p${p}-v${v}`);
        patient.push(`p${p}`);
      }
    }
  const rows = (ps: number[]) => patient.flatMap((x, i) => (ps.includes(Number(x.slice(1))) ? [i] : []));
  return { labels: Float32Array.from(labels), volume, split: { train: rows([0, 1, 2, 3, 4, 5]), validation: rows([6, 7]), test: rows([8, 9]) }, count: patient.length };
}

describe('probe', function () {
  this.timeout(60000);
  before(setupBackend);

  it('finds the one block that carries the signal among noise blocks', () => {
    const { labels, volume, split, count } = synthetic();
    const rng = new Rng(9);
    const dims = [12, 40, 30, 300];
    const signalBlock = 2;
    const matrices = dims.map((dim, b) => {
      const data = new Float32Array(count * dim);
      for (let r = 0; r < count; r++)
        for (let j = 0; j < dim; j++) {
          // Block 2: a few channels mix the labels linearly (plus small noise); the others are noise.
          const signal = b === signalBlock && j < 6 ? labels[r * 3 + (j % 3)] * (1 + j) : 0;
          data[r * dim + j] = signal + rng.normal(0, b === signalBlock ? 0.05 : 1);
        }
      return { data, rows: count, dim };
    });
    const res = probeBlocks(matrices, labels, split, (r) => volume[r]);
    const maes = res.map((r) => r.test.perPatch.overall);
    const best = maes.indexOf(Math.min(...maes));
    assert.equal(best, signalBlock, `MAEs ${maes.map((m) => m.toFixed(3)).join(', ')}`);
    assert.ok(maes[signalBlock] < 0.1, `signal block MAE ${maes[signalBlock]}`);
    // Noise blocks do no better than about the spread of the labels (uniform on 0-3: MAE ~0.75 around the mean).
    for (let b = 0; b < dims.length; b++) if (b !== signalBlock) assert.ok(maes[b] > 0.4, `noise block ${b} MAE ${maes[b]}`);
    assert.equal(res[0].test.volumes, 6);
  });

  it('the dual ridge (more features than rows) equals the primal solve', () => {
    const rng = new Rng(4);
    const rows = 30;
    const dim = 50;
    const data = Float64Array.from({ length: rows * dim }, () => rng.normal());
    const y = Float64Array.from({ length: rows * 2 }, () => rng.normal());
    const x = { data, rows, dim };
    const ym = { data: y, rows, dim: 2 };
    const train = Array.from({ length: 24 }, (_, i) => i);
    const val = [24, 25, 26, 27, 28, 29];
    const lambdas = [0.1, 1, 10];
    const dual = fitRidgeProbe(x, ym, train, val, lambdas);
    // Primal on the same problem (fitRidgeSelected solves the dim x dim system).
    const primal = fitRidgeSelected(x, ym, train, val, lambdas);
    assert.equal(dual.model.lambda, primal.model.lambda);
    dual.path.forEach((p, i) => assert.ok(Math.abs(p.validationMSE - primal.path[i].validationMSE) < 1e-5 * primal.path[i].validationMSE, `lambda ${p.lambda}: ${p.validationMSE} vs ${primal.path[i].validationMSE}`));
    const a = predictRidge(dual.model, x, val);
    const b = predictRidge(primal.model, x, val);
    a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) < 1e-5));
  });

  it('per-volume MAE averages a volume\'s patch predictions first', () => {
    // Two volumes, labels 1 and 2 (all metrics); predictions scatter around them.
    const labels = Float32Array.from([1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2]);
    const pred = Float32Array.from([0.5, 0.5, 0.5, 1.5, 1.5, 1.5, 2, 2, 2, 3, 3, 3]);
    const e = probeError(pred, labels, [0, 1, 2, 3], (r) => (r < 2 ? 'a' : 'b'));
    assert.equal(e.perPatch.overall, (0.5 + 0.5 + 0 + 1) / 4);
    // Volume a: mean 1 vs 1 -> 0; volume b: mean 2.5 vs 2 -> 0.5.
    assert.equal(e.perVolume.overall, 0.25);
    assert.equal(e.volumes, 2);
  });

  it('probes block outputs (non-linearities and residual adds), not the convolutions inside a block', () => {
    const x = tf.input({ shape: [8, 8, 3], name: 'in' });
    let y = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'stem' }).apply(x) as tf.SymbolicTensor;
    y = tf.layers.reLU({ name: 'stem_relu' }).apply(y) as tf.SymbolicTensor;
    let z = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'b1_conv' }).apply(y) as tf.SymbolicTensor;
    z = new KerasBatchNormalization({ name: 'b1_bn' }).apply(z) as tf.SymbolicTensor;
    z = tf.layers.reLU({ name: 'b1_relu' }).apply(z) as tf.SymbolicTensor; // inside the residual block: not a cut
    const add = tf.layers.add({ name: 'b1_add' }).apply([y, z]) as tf.SymbolicTensor;
    const out = tf.layers.conv2d({ filters: 6, kernelSize: 3, strides: 2, padding: 'same', name: 'head_conv' }).apply(add) as tf.SymbolicTensor;
    const m = tf.model({ inputs: x, outputs: out });
    const pts = probePoints(m);
    assert.deepEqual(pts.map((p) => p.name), ['stem_relu', 'b1_add', 'head_conv']);
    assert.deepEqual(pts.map((p) => p.channels), [4, 4, 6]);
    assert.deepEqual(pts[2].spatial, [4, 4]);
    assert.equal(pts[2].depth, 1);
    // Pooled features: per channel spatial mean then std, checked against a direct computation.
    const input = tf.randomNormal([5, 8, 8, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const [f] = pooledActivations(m, [pts[2]], [input]);
    const direct = m.predict(input) as tf.Tensor;
    const { mean, variance } = tf.moments(direct, [1, 2]);
    const want = tf.concat([mean, variance.sqrt()], 1).dataSync();
    assert.equal(f.dim, 12);
    f.data.forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-5));
    tf.dispose([input, direct, mean, variance]);
    // Thinning keeps the first and the last.
    assert.deepEqual(probePoints(m, 2).map((p) => p.name), ['stem_relu', 'head_conv']);
    m.dispose();
  });
});
