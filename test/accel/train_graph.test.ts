import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { describeOnBackends } from '../support/backends';
import { batchNormalization } from '../../lib/backbones/batch_norm';
import { CustomScaleLayer, globalAveragePooling2d, KerasNames, tfOpAdd, tfOpMultiply } from '../../lib/backbones/layers';
import { compileGradients, compileTrainStep, GraphUnsupportedError } from '../../lib/accel';
import { buildBackbone } from '../../lib/backbones';
import { attachHead, splitModel } from '../../lib/train/graph';
import { frozenLayerCount } from '../../lib/transfer';
import { trainSuffix } from '../../lib/train/suffix';
import type { FeatureMatrix } from '../../lib/train/head';
import { Rng } from '../../lib/util/rng';
import { relMaxError } from '../support/tensors';

type Sym = tf.SymbolicTensor;

/**
 * A small suffix with every layer kind MobileNetV2/ResNet/DenseNet/VGG suffixes use: padding,
 * depthwise and 1 x 1 convolutions, trainable BN, relu6 and relu, a residual Add, a Concatenate,
 * both poolings, Flatten and the Dense(3) head. Seeded, so two calls build identical models.
 */
function suffixModel(seed: number, extra?: (x: Sym) => Sym): tf.LayersModel {
  const init = (k: number) => tf.initializers.glorotUniform({ seed: seed + k });
  const x = tf.input({ shape: [6, 6, 4] });
  let h = tf.layers.zeroPadding2d({ padding: [[1, 1], [1, 1]] }).apply(x) as Sym;
  h = tf.layers.depthwiseConv2d({ kernelSize: 3, useBias: false, depthwiseInitializer: init(1) }).apply(h) as Sym;
  h = batchNormalization({ epsilon: 1e-3 }).apply(h) as Sym;
  h = tf.layers.reLU({ maxValue: 6 }).apply(h) as Sym;
  h = tf.layers.conv2d({ filters: 4, kernelSize: 1, useBias: false, kernelInitializer: init(2) }).apply(h) as Sym;
  h = batchNormalization({ epsilon: 1.001e-5 }).apply(h) as Sym;
  h = tf.layers.add().apply([x, h]) as Sym;
  if (extra) h = extra(h);
  const a = tf.layers.conv2d({ filters: 5, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: init(3) }).apply(h) as Sym;
  const b = tf.layers.averagePooling2d({ poolSize: 2 }).apply(h) as Sym;
  h = tf.layers.concatenate().apply([a, b]) as Sym;
  h = tf.layers.maxPooling2d({ poolSize: 2, padding: 'same' }).apply(h) as Sym;
  h = tf.layers.flatten().apply(h) as Sym;
  const y = tf.layers.dense({ units: 3, kernelInitializer: init(4) }).apply(h) as Sym;
  const model = tf.model({ inputs: x, outputs: y });
  // BN statistics and affine parameters away from the fresh ones, so their gradients matter; gamma
  // and beta large enough that relu6 saturates on part of the batch (its gradient differs from relu's).
  const rng = new Rng(seed);
  const range = [[1, 4], [0, 4], [-0.5, 0.5], [0.5, 2]]; // gamma, beta, moving mean, moving variance
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    layer.setWeights(layer.getWeights().map((w, i) => tf.tensor(Float32Array.from({ length: w.size }, () => rng.uniform(range[i][0], range[i][1])), w.shape)));
  }
  return model;
}

/**
 * The other suffixes' layer kinds: Xception's SeparableConv2D, MobileNetV3's hard-swish
 * (x * relu6(x + 3) / 6 as TFOpLambda, ReLU and Multiply) and squeeze-excite (GlobalAveragePooling2D
 * with keepdims, a broadcasting Multiply), InceptionResNetV2's scaled residual.
 */
function otherSuffixModel(seed: number): tf.LayersModel {
  const init = (k: number) => tf.initializers.glorotUniform({ seed: seed + k });
  const names = new KerasNames();
  const hardSigmoid = (t: Sym) => tfOpMultiply(1 / 6, names).apply(tf.layers.reLU({ maxValue: 6 }).apply(tfOpAdd(3, names).apply(t) as Sym) as Sym) as Sym;
  const x = tf.input({ shape: [6, 6, 4] });
  let h = tf.layers.separableConv2d({ filters: 4, kernelSize: 3, padding: 'same', useBias: false, depthwiseInitializer: init(1), pointwiseInitializer: init(2) }).apply(x) as Sym;
  h = batchNormalization({}).apply(h) as Sym;
  h = tf.layers.multiply().apply([h, hardSigmoid(h)]) as Sym;
  let se = globalAveragePooling2d({ keepdims: true }).apply(h) as Sym;
  se = tf.layers.conv2d({ filters: 2, kernelSize: 1, activation: 'relu', kernelInitializer: init(3) }).apply(se) as Sym;
  se = hardSigmoid(tf.layers.conv2d({ filters: 4, kernelSize: 1, kernelInitializer: init(4) }).apply(se) as Sym);
  h = tf.layers.multiply().apply([h, se]) as Sym;
  h = new CustomScaleLayer({ scale: 0.2 }).apply([x, h]) as Sym;
  h = tf.layers.flatten().apply(h) as Sym;
  const y = tf.layers.dense({ units: 3, kernelInitializer: init(5) }).apply(h) as Sym;
  return tf.model({ inputs: x, outputs: y });
}

function data(rows: number, seed: number): { acts: FeatureMatrix[]; labels: Float32Array } {
  const rng = new Rng(seed);
  const dim = 6 * 6 * 4;
  return {
    acts: [{ data: Float32Array.from({ length: rows * dim }, () => rng.uniform(-1, 2)), rows, dim }],
    labels: Float32Array.from({ length: rows * 3 }, () => rng.uniform(0, 3)),
  };
}

describeOnBackends('accel/compileTrainStep', function (backend) {
  this.timeout(120000);
  const { acts, labels } = data(40, 5);
  const train = Array.from({ length: 30 }, (_, i) => i);
  const validation = Array.from({ length: 10 }, (_, i) => 30 + i);
  const config = { epochs: 3, seed: 4, learningRate: 0.01, batchSize: 10 };

  if (backend === 'wasm') {
    it('is native-only: trainSuffix trains op by op and says why', async () => {
      await assert.rejects(compileTrainStep(suffixModel(1), { beta1: 0.9, beta2: 0.999, epsilon: 1e-7 }), /native TensorFlow backend, not wasm/);
      const r = await trainSuffix({ model: suffixModel(1), activations: acts, labels, train, validation, config });
      assert.deepEqual(r.stepMode, { graph: false, reason: 'backend wasm' });
    });
    return;
  }

  it('trains as the op-by-op step does: same losses, weights and BN moving statistics (float32 rounding)', async () => {
    const eager = suffixModel(1);
    const graph = suffixModel(1);
    const a = await trainSuffix({ model: eager, activations: acts, labels, train, validation, config, graph: false });
    const b = await trainSuffix({ model: graph, activations: acts, labels, train, validation, config });
    assert.deepEqual(a.stepMode, { graph: false, reason: 'not asked' });
    assert.deepEqual(b.stepMode, { graph: true });
    assert.equal(b.history.length, 3);
    for (let e = 0; e < 3; e++) {
      assert.ok(Math.abs(a.history[e].loss - b.history[e].loss) <= 1e-4 * a.history[e].loss, `epoch ${e + 1} loss ${a.history[e].loss} vs ${b.history[e].loss}`);
      assert.ok(Math.abs(a.history[e].valLoss - b.history[e].valLoss) <= 1e-4 * a.history[e].valLoss, `epoch ${e + 1} valLoss`);
    }
    // Training changed the weights (a step that did nothing would pass the comparisons below).
    const fresh = suffixModel(1).getWeights();
    const moved = b.best.map((w, i) => relMaxError(fresh[i].dataSync() as Float32Array, w));
    assert.ok(moved.every((d) => d > 1e-4), `every weight moved: ${moved.map((d) => d.toExponential(1)).join(' ')}`);
    // Every weight, moving statistics included, as the op-by-op step left it.
    a.best.forEach((w, i) => assert.ok(relMaxError(w, b.best[i]) < 1e-4, `${graph.weights[i].name}: ${relMaxError(w, b.best[i])}`));
  });

  it('trains the other suffixes\' layer kinds (separable conv, hard-swish, squeeze-excite, scaled residual) as op by op', async () => {
    const a = await trainSuffix({ model: otherSuffixModel(3), activations: acts, labels, train, validation, config, graph: false });
    const b = await trainSuffix({ model: otherSuffixModel(3), activations: acts, labels, train, validation, config });
    assert.deepEqual(b.stepMode, { graph: true });
    for (let e = 0; e < 3; e++) assert.ok(Math.abs(a.history[e].loss - b.history[e].loss) <= 1e-4 * a.history[e].loss, `epoch ${e + 1}`);
    const model = otherSuffixModel(3);
    const fresh = model.getWeights();
    b.best.forEach((w, i) => {
      const what = model.weights[i].name;
      if (!what.includes('moving')) assert.ok(relMaxError(fresh[i].dataSync() as Float32Array, w) > 1e-4, `${what} moved`);
      assert.ok(relMaxError(a.best[i], w) < 1e-4, `${what}: ${relMaxError(a.best[i], w)}`);
    });
  });

  it("MobileNetV3Small's partial-regime suffix: the written backward pass gives tf.variableGrads' gradients", async () => {
    const base = buildBackbone('MobileNetV3Small', { inputSize: 32, seed: 1 });
    const whole = attachHead(base, { dense: tf.layers.dense({ units: 3, name: 'dense', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }) });
    const frozen = new Set(base.layers.slice(0, frozenLayerCount(base.layers.length)));
    base.layers.forEach((l) => (l.trainable = !frozen.has(l)));
    const { prefix, suffix } = splitModel(whole, (l) => frozen.has(l));
    const rng = new Rng(3);
    const x = tf.tensor4d(Float32Array.from({ length: 10 * 32 * 32 * 3 }, () => rng.uniform(-1, 1)), [10, 32, 32, 3]);
    const cut = prefix.predict(x);
    const xs = Array.isArray(cut) ? cut : [cut];
    const y = tf.tensor2d(Float32Array.from({ length: 30 }, () => rng.uniform(0, 3)), [10, 3]);
    const graph = await compileGradients(suffix);
    const got = graph.run(xs, y);
    const vars = suffix.trainableWeights.map((w) => w.read() as tf.Variable);
    const { value, grads } = tf.variableGrads(() => tf.losses.meanSquaredError(y, suffix.apply(xs.length === 1 ? xs[0] : xs, { training: true }) as tf.Tensor) as tf.Scalar, vars);
    assert.ok(Math.abs(got.loss - value.dataSync()[0]) < 1e-5 * got.loss);
    assert.equal(got.grads.length, vars.length);
    let checked = 0;
    vars.forEach((v, i) => {
      // A BN beta followed by a convolution and a batch-statistics BN has an exact gradient of 0
      // (the next BN removes any per-channel shift): both sides hold rounding noise there.
      if (/\/beta(_\d+)?$/.test(suffix.trainableWeights[i].name)) return; // tfjs suffixes repeated names with _k
      const want = grads[v.name].dataSync() as Float32Array;
      const have = got.grads[i].dataSync() as Float32Array;
      let d = 0;
      let n = 0;
      for (let j = 0; j < want.length; j++) {
        d += (want[j] - have[j]) ** 2;
        n += want[j] ** 2;
      }
      assert.ok(Math.sqrt(d) <= 1e-3 * Math.sqrt(n) + 1e-12, `${suffix.trainableWeights[i].name}: ${Math.sqrt(d / n)}`);
      checked++;
    });
    assert.ok(checked > 40, `${checked} gradients checked`);
    graph.dispose();
    tf.dispose([x, y, value, ...xs, ...got.grads, ...Object.values(grads)]);
    whole.dispose();
  });

  it('names the layer it has no gradient for; trainSuffix then trains op by op', async () => {
    const model = suffixModel(2, (h) => tf.layers.leakyReLU({ alpha: 0.1, name: 'leaky' }).apply(h) as Sym);
    await assert.rejects(compileTrainStep(model, { beta1: 0.9, beta2: 0.999, epsilon: 1e-7 }), (err: Error) => err instanceof GraphUnsupportedError && /no gradient for layer leaky \(LeakyReLU\)/.test(err.message));
    const r = await trainSuffix({ model, activations: acts, labels, train, validation, config: { ...config, epochs: 1 } });
    assert.equal(r.stepMode.graph, false);
    assert.match(r.stepMode.reason ?? '', /leaky/);
  });
});
