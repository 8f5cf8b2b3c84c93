/**
 * Keras-semantics BatchNormalization: a frozen layer runs in inference mode even when training.
 */
import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { batchNormalization, KerasBatchNormalization } from '../../lib/backbones/batch_norm';

/** 2 x 1 x 2 x 2 input: channel 0 is [1, 3, 5, 7] (mean 4, var 5), channel 1 is [0, 2, 0, 2] (mean 1, var 1). */
function input(): tf.Tensor4D {
  return tf.tensor4d([1, 0, 3, 2, 5, 0, 7, 2], [2, 1, 2, 2]);
}

function values(t: tf.Tensor | tf.Tensor[]): number[] {
  return Array.from((Array.isArray(t) ? t[0] : t).dataSync());
}

function close(actual: number[], expected: number[], tol = 1e-5): void {
  assert.strictEqual(actual.length, expected.length);
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]) <= tol, `[${i}] ${a} != ${expected[i]}`));
}

describe('backbones/batch_norm', () => {
  before(async () => {
    await tf.setBackend('cpu');
  });

  it('a trainable layer in training mode uses batch statistics and updates the moving averages (as tfjs)', () => {
    const bn = batchNormalization({ name: 'bn', epsilon: 0 });
    const y = values(bn.apply(input(), { training: true }) as tf.Tensor);
    const s = Math.sqrt(5);
    close([y[0], y[2], y[4], y[6]], [-3 / s, -1 / s, 1 / s, 3 / s]);
    close([y[1], y[3], y[5], y[7]], [-1, 1, -1, 1]);
    const [, , mean, variance] = bn.getWeights().map((w) => values(w));
    // moving = 0.99 moving + 0.01 batch: mean (0, 0) -> (0.04, 0.01); variance (1, 1) -> (1.04, 1).
    close(mean, [0.04, 0.01]);
    close(variance, [1.04, 1]);
  });

  it('a frozen layer in training mode uses the moving statistics and does not update them', () => {
    const bn = batchNormalization({ name: 'bn', epsilon: 0 });
    bn.apply(input()); // build
    bn.setWeights([tf.tensor1d([2, 1]), tf.tensor1d([0.5, 0]), tf.tensor1d([1, 2]), tf.tensor1d([4, 1])]);
    bn.trainable = false;
    const y = values(bn.apply(input(), { training: true }) as tf.Tensor);
    // channel 0: 2 (x - 1) / 2 + 0.5 = x - 0.5; channel 1: (x - 2) / 1.
    close(y, [0.5, -2, 2.5, 0, 4.5, -2, 6.5, 0]);
    close(values(bn.apply(input(), { training: false }) as tf.Tensor), y);
    close(bn.getWeights().slice(2).flatMap((w) => values(w)), [1, 2, 4, 1]);
  });

  it('stock tfjs BatchNormalization does not do this (why the subclass exists)', () => {
    const bn = tf.layers.batchNormalization({ epsilon: 0 });
    bn.apply(input());
    bn.trainable = false;
    const train = values(bn.apply(input(), { training: true }) as tf.Tensor);
    const infer = values(bn.apply(input(), { training: false }) as tf.Tensor);
    assert.notDeepStrictEqual(train, infer);
  });

  it('freezing through a container (model.trainable = false) also switches to inference mode', () => {
    const x = tf.input({ shape: [1, 2, 2] });
    const model = tf.model({ inputs: x, outputs: batchNormalization({ name: 'bn', epsilon: 0 }).apply(x) as tf.SymbolicTensor });
    model.trainable = false;
    const bn = model.getLayer('bn') as KerasBatchNormalization;
    assert.strictEqual(bn.frozen, true);
    close(values(model.apply(input(), { training: true }) as tf.Tensor), values(input()));
  });

  it('trains with scale=false (no gamma), which stock tfjs 4.22 cannot: output, moving averages, beta gradient', () => {
    const bn = batchNormalization({ name: 'bn', epsilon: 0, scale: false });
    bn.apply(input());
    assert.deepStrictEqual(bn.trainableWeights.map((w) => /beta/.test(w.name)), [true]);
    const y = values(bn.apply(input(), { training: true }) as tf.Tensor);
    const s = Math.sqrt(5);
    close(y, [-3 / s, -1, -1 / s, 1, 1 / s, -1, 3 / s, 1]);
    const [mean, variance] = bn.getWeights().slice(1).map((w) => values(w));
    close(mean, [0.04, 0.01]);
    close(variance, [1.04, 1]);
    const beta = bn.trainableWeights[0].read() as tf.Variable;
    const w = tf.tensor1d([1, 2]);
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(bn.apply(input(), { training: true }) as tf.Tensor, w)) as tf.Scalar, [beta]);
    // d/d beta_c of sum(w_c y): four positions per channel -> (4, 8).
    close(values(grads[beta.name]), [4, 8]);
  });

  it('a frozen scale=false layer runs in inference mode, also under a gradient tape (as in fit)', () => {
    const bn = batchNormalization({ name: 'bn', epsilon: 0, scale: false });
    bn.apply(input());
    bn.trainable = false;
    close(values(bn.apply(input(), { training: true }) as tf.Tensor), values(input()));
    // Stock tfjs 4.22 throws here: its batchNorm kernel saves the absent scale for the backward pass.
    const w = tf.variable(tf.tensor1d([1, 2]));
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(bn.apply(input(), { training: true }) as tf.Tensor, w)) as tf.Scalar, [w]);
    // d/dw_c sum(w_c x_c) with identity normalisation: channel sums 16 and 4.
    close(values(grads[w.name]), [16, 4]);
  });

  it('fit() through frozen and trainable scale=false layers: only the trainable one moves', async () => {
    const x = tf.input({ shape: [1, 2, 2] });
    const frozen = batchNormalization({ name: 'frozen_bn', scale: false });
    const live = batchNormalization({ name: 'live_bn', scale: false });
    let h = frozen.apply(x) as tf.SymbolicTensor;
    h = live.apply(h) as tf.SymbolicTensor;
    h = tf.layers.flatten().apply(h) as tf.SymbolicTensor;
    const model = tf.model({ inputs: x, outputs: tf.layers.dense({ units: 1, kernelInitializer: 'ones' }).apply(h) as tf.SymbolicTensor });
    frozen.trainable = false;
    model.compile({ optimizer: tf.train.sgd(0.1), loss: 'meanSquaredError' });
    const before = frozen.getWeights().flatMap((w) => values(w));
    const liveBefore = live.getWeights().flatMap((w) => values(w));
    const loss = (await model.trainOnBatch(input(), tf.tensor2d([[1], [2]]))) as number;
    assert.ok(Number.isFinite(loss));
    assert.deepStrictEqual(frozen.getWeights().flatMap((w) => values(w)), before);
    assert.notDeepStrictEqual(live.getWeights().flatMap((w) => values(w)), liveBefore);
  });

  it('serialises as BatchNormalization and deserialises to the Keras-semantics class', () => {
    const x = tf.input({ shape: [1, 2, 2] });
    const model = tf.model({ inputs: x, outputs: batchNormalization({ name: 'bn', epsilon: 1.001e-5 }).apply(x) as tf.SymbolicTensor });
    const json = model.toJSON(undefined, false) as unknown as { config: { layers: Array<{ class_name: string }> } };
    assert.strictEqual(json.config.layers[1].class_name, 'BatchNormalization');
    const back = tf.models.modelFromJSON as unknown as (j: unknown) => Promise<tf.LayersModel>;
    return back({ modelTopology: json }).then((m) => {
      const bn = m.getLayer('bn');
      assert.ok(bn instanceof KerasBatchNormalization);
      assert.strictEqual((bn.getConfig() as { epsilon: number }).epsilon, 1.001e-5);
    });
  });
});
