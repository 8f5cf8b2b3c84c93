/**
 * Transfer model, freezing regimes and parameter counting.
 */
import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend';
import { describeOnBackends } from '../support/backends';
import { buildResNet50 } from '../../lib/backbones/resnet';
import { applyRegime, buildTransferModel, countParams, frozenLayerCount } from '../../lib/backbones/transfer';
import { buildVGG16 } from '../../lib/backbones/vgg';

type Snapshot = Map<string, Float32Array[]>;

/** Every weight (moving statistics included) of every layer, copied. */
function snapshot(model: tf.LayersModel): Snapshot {
  return new Map(model.layers.map((l) => [l.name, l.getWeights().map((w) => (w.dataSync() as Float32Array).slice())]));
}

function sameArray(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
}

function layerChanged(before: Snapshot, after: Snapshot, name: string, weightIndex?: number): boolean {
  const a = before.get(name)!;
  const b = after.get(name)!;
  const idx = weightIndex === undefined ? a.map((_, i) => i) : [weightIndex];
  return idx.some((i) => !sameArray(a[i], b[i]));
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

describe('backbones/transfer', function () {
  this.timeout(300000);
  before(async () => {
    await initBackend({ backend: 'wasm' });
  });

  describe('frozenLayerCount', () => {
    it('is round(0.6 N) (hand values)', () => {
      assert.deepStrictEqual([19, 22, 86, 132, 154, 175, 427, 780].map((n) => frozenLayerCount(n)), [11, 13, 52, 79, 92, 105, 256, 468]);
      assert.throws(() => frozenLayerCount(0), /positive integer, got 0/);
    });
  });

  describe('countParams', () => {
    it('counts total, trainable and non-trainable weights of a hand-built model', () => {
      const x = tf.input({ shape: [3] });
      const d = tf.layers.dense({ units: 2, name: 'd' });
      const m = tf.model({ inputs: x, outputs: d.apply(x) as tf.SymbolicTensor });
      assert.deepStrictEqual(countParams(m), { total: 8, trainable: 8, nonTrainable: 0 });
      d.trainable = false;
      assert.deepStrictEqual(countParams(m), { total: 8, trainable: 0, nonTrainable: 8 });
    });
  });

  describe('buildTransferModel', () => {
    it('appends Flatten and Dense(3, linear) to the base and shares its layers', () => {
      const base = buildVGG16({ inputSize: 32 });
      const model = buildTransferModel(base);
      assert.strictEqual(model.layers.length, base.layers.length + 2);
      assert.deepStrictEqual(model.layers.slice(-2).map((l) => [l.name, l.getClassName()]), [['flatten', 'Flatten'], ['dense', 'Dense']]);
      base.layers.forEach((l, i) => assert.strictEqual(model.layers[i], l));
      assert.deepStrictEqual(model.outputs[0].shape, [null, 3]);
      const dense = model.getLayer('dense');
      assert.strictEqual((dense.getConfig() as { activation: string }).activation, 'linear');
      // 32 px -> 1 x 1 x 512 -> Dense: 512 x 3 + 3.
      assert.deepStrictEqual(dense.getWeights().map((w) => w.shape), [[512, 3], [3]]);
      assert.strictEqual(countParams(model).total, 14714688 + 1539);
      const again = buildTransferModel(base, { seed: 0 }).getLayer('dense').getWeights()[0].dataSync();
      assert.deepStrictEqual(Array.from(again), Array.from(dense.getWeights()[0].dataSync()));
      const other = buildTransferModel(base, { seed: 1 }).getLayer('dense').getWeights()[0].dataSync();
      assert.notDeepStrictEqual(Array.from(other), Array.from(again));
      assert.throws(() => buildTransferModel(base, { outputs: 0 }), /outputs must be a positive integer/);
      base.dispose();
    });
  });

  describe('applyRegime (parameter counts)', () => {
    it("VGG16: 'frozen' trains only the Dense layer; 'partial' freezes the first 11 of 19 layers (Keras: 12,985,347)", () => {
      const base = buildVGG16();
      const model = buildTransferModel(base);
      const frozen = applyRegime(model, 'frozen');
      assert.deepStrictEqual(
        [frozen.baseLayers, frozen.frozenLayers, frozen.headLayers, frozen.params.trainable, frozen.params.total],
        [19, 19, 2, 6147, 14720835],
      );
      assert.ok(base.layers.every((l) => !l.trainable));
      const partial = applyRegime(model, 'partial');
      assert.strictEqual(partial.frozenLayers, 11);
      assert.deepStrictEqual(
        base.layers.map((l) => l.trainable).indexOf(true),
        11,
      );
      assert.strictEqual(base.layers[10].name, 'block3_pool');
      assert.strictEqual(base.layers[11].name, 'block4_conv1');
      assert.strictEqual(partial.params.trainable, 12985347);
      // Passing the base explicitly gives the same split.
      assert.strictEqual(applyRegime(model, 'partial', base).params.trainable, 12985347);
      assert.throws(() => applyRegime(model, 'thawed' as never), /regime must be 'frozen' or 'partial'/);
      assert.throws(() => applyRegime(base, 'frozen'), /no Flatten layer/);
      base.dispose();
    });

    it('handles a Keras-style model that nests the base as one layer', () => {
      const base = buildVGG16({ inputSize: 32 });
      const model = tf.sequential({ layers: [base, tf.layers.flatten({ name: 'flatten' }), tf.layers.dense({ units: 3, name: 'dense' })] });
      assert.strictEqual(applyRegime(model, 'frozen').params.trainable, 512 * 3 + 3);
      const partial = applyRegime(model, 'partial');
      assert.strictEqual(partial.frozenLayers, 11);
      assert.strictEqual(partial.params.trainable, 12985347 - 2048 * 3 + 512 * 3);
      model.dispose();
    });

    it('finds the base of a flat model it did not build (everything before the last Flatten)', () => {
      const base = buildVGG16({ inputSize: 32 });
      const flat = tf.layers.flatten().apply(base.outputs[0]) as tf.SymbolicTensor;
      const model = tf.model({ inputs: base.inputs, outputs: tf.layers.dense({ units: 3 }).apply(flat) as tf.SymbolicTensor });
      const partial = applyRegime(model, 'partial');
      assert.deepStrictEqual([partial.baseLayers, partial.frozenLayers, partial.headLayers], [19, 11, 2]);
      assert.strictEqual(partial.params.trainable, 12985347 - 2048 * 3 + 512 * 3);
      base.dispose();
    });

    it('refreshes the optimiser variable list of an already compiled model', () => {
      const base = buildVGG16({ inputSize: 32 });
      const model = buildTransferModel(base);
      model.compile({ optimizer: tf.train.sgd(0.1), loss: 'meanSquaredError' });
      applyRegime(model, 'frozen');
      const collected = (model as unknown as { collectedTrainableWeights: unknown[] }).collectedTrainableWeights;
      assert.strictEqual(collected.length, 2);
      base.dispose();
    });
  });

  describeOnBackends('training step (ResNet50 at 32 x 32)', function () {
    const x = (): tf.Tensor4D => tf.randomUniform([4, 32, 32, 3], -1, 1, 'float32', 11) as tf.Tensor4D;
    const y = (): tf.Tensor2D => tf.tensor2d([[1, 2, 3], [0, 1, 2], [2, 2, 1], [3, 0, 1]]);

    it("'frozen': base weights and BN moving statistics do not change, the Dense layer does; BN uses moving statistics", async () => {
      const base = buildResNet50({ inputSize: 32, seed: 3 });
      const model = buildTransferModel(base, { seed: 3 });
      applyRegime(model, 'frozen');
      model.compile({ optimizer: tf.train.sgd(0.05), loss: 'meanSquaredError' });
      const inputs = x();
      const targets = y();
      // A frozen-BN model gives the same output in training and inference mode.
      const train = model.apply(inputs, { training: true }) as tf.Tensor;
      const infer = model.predict(inputs) as tf.Tensor;
      assert.ok(maxAbsDiff(train, infer) < 1e-4, `training-mode output differs by ${maxAbsDiff(train, infer)}`);
      const before = snapshot(model);
      await model.trainOnBatch(inputs, targets);
      const after = snapshot(model);
      const changed = base.layers.filter((l) => l.countParams() > 0 && layerChanged(before, after, l.name)).map((l) => l.name);
      assert.deepStrictEqual(changed, [], 'frozen base layers changed');
      assert.ok(layerChanged(before, after, 'dense', 0) && layerChanged(before, after, 'dense', 1), 'Dense kernel and bias train');
      tf.dispose([train, infer, inputs, targets]);
      base.dispose();
    });

    it("'partial': the first 105 layers stay put, later convs and BN statistics train", async () => {
      const base = buildResNet50({ inputSize: 32, seed: 3 });
      const model = buildTransferModel(base, { seed: 3 });
      const summary = applyRegime(model, 'partial');
      assert.strictEqual(summary.frozenLayers, 105);
      model.compile({ optimizer: tf.train.sgd(0.05), loss: 'meanSquaredError' });
      const inputs = x();
      const targets = y();
      // Trainable BNs after the cut use batch statistics in training mode: the outputs differ.
      const train = model.apply(inputs, { training: true }) as tf.Tensor;
      const infer = model.predict(inputs) as tf.Tensor;
      assert.ok(maxAbsDiff(train, infer) > 1e-3, 'trainable BNs use batch statistics');
      const before = snapshot(model);
      await model.trainOnBatch(inputs, targets);
      const after = snapshot(model);
      const frozenChanged = base.layers
        .slice(0, 105)
        .filter((l) => l.countParams() > 0 && layerChanged(before, after, l.name))
        .map((l) => l.name);
      assert.deepStrictEqual(frozenChanged, [], 'frozen layers changed');
      // Layer 105 onwards: kernels train; trainable BN gamma and moving mean move.
      // (Keras's list: 103 conv4_block3_1_conv, 104 conv4_block3_1_bn | 105 conv4_block3_1_relu, 106 conv4_block3_2_conv.)
      assert.deepStrictEqual(base.layers.slice(103, 107).map((l) => l.name), [
        'conv4_block3_1_conv', 'conv4_block3_1_bn', 'conv4_block3_1_relu', 'conv4_block3_2_conv',
      ]);
      assert.ok(layerChanged(before, after, 'conv4_block3_2_conv', 0));
      assert.ok(layerChanged(before, after, 'conv4_block3_2_bn', 2), 'first trainable BN after the cut updates its moving mean');
      assert.ok(layerChanged(before, after, 'conv5_block3_3_conv', 0));
      assert.ok(layerChanged(before, after, 'conv5_block3_3_bn', 0), 'trainable BN gamma');
      assert.ok(layerChanged(before, after, 'conv5_block3_3_bn', 2), 'trainable BN moving mean');
      assert.ok(layerChanged(before, after, 'dense', 0));
      // The frozen BN just before the cut keeps gamma, beta and its statistics.
      assert.ok(!layerChanged(before, after, 'conv4_block3_1_bn'));
      tf.dispose([train, infer, inputs, targets]);
      base.dispose();
    });
  });
});
