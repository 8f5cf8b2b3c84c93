/**
 * All 18 backbones through buildBackbone: layer count N, output shape at 80 x 80, finite outputs
 * on random input, and the paper's Table II (frozen regime) and partial-regime trainable counts.
 * Output shapes and partial counts were computed with Keras for the same models (Flatten + Dense(3),
 * first round(0.6 N) layers trainable=False); MobileNetV3 (whose tf.keras 2.7 layout Keras 3 no
 * longer builds) is checked against Table II only.
 * Runs in about a minute on wasm (2 cores, shared).
 */
import * as assert from 'assert';
import { frozenLayerCount } from '../../lib/backbones/transfer';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend';
import { applyRegime, BACKBONE_NAMES, BACKBONES, buildBackbone, buildTransferModel, type BackboneName } from '../../lib/backbones';

const EXPECTED: Record<BackboneName, { out: [number, number, number]; trainablePartial?: number; total?: number }> = {
  DenseNet121: { out: [2, 2, 1024], trainablePartial: 3811075, total: 7049795 },
  DenseNet169: { out: [2, 2, 1664], trainablePartial: 6958019, total: 12662851 },
  DenseNet201: { out: [2, 2, 1920], trainablePartial: 10425859, total: 18345027 },
  InceptionResNetV2: { out: [1, 1, 1536], trainablePartial: 36295171, total: 54341347 },
  InceptionV3: { out: [1, 1, 2048], trainablePartial: 15106307, total: 21808931 },
  MobileNet: { out: [2, 2, 1024], trainablePartial: 2675715, total: 3241155 },
  MobileNetV2: { out: [3, 3, 1280], trainablePartial: 1993731, total: 2292547 },
  MobileNetV3Large: { out: [1, 1, 1280] },
  MobileNetV3Small: { out: [1, 1, 1024] },
  ResNet101: { out: [3, 3, 2048], trainablePartial: 26484227, total: 42713475 },
  ResNet101V2: { out: [3, 3, 2048], trainablePartial: 26471939, total: 42681859 },
  ResNet152: { out: [3, 3, 2048], trainablePartial: 34314755, total: 58426243 },
  ResNet152V2: { out: [3, 3, 2048], trainablePartial: 34298883, total: 58386947 },
  ResNet50: { out: [3, 3, 2048], trainablePartial: 19243267, total: 23643011 },
  ResNet50V2: { out: [3, 3, 2048], trainablePartial: 19234307, total: 23620099 },
  VGG16: { out: [2, 2, 512], trainablePartial: 12985347, total: 14720835 },
  VGG19: { out: [2, 2, 512], trainablePartial: 16524803, total: 20030531 },
  Xception: { out: [3, 3, 2048], trainablePartial: 12761595, total: 20916779 },
};

describe('backbones: all 18 at 80 x 80', function () {
  this.timeout(600000);
  before(async () => {
    await initBackend({ backend: 'wasm' });
  });

  it('buildBackbone refuses an unknown name, listing the valid ones', () => {
    assert.throws(() => buildBackbone('ResNet18'), /Unknown backbone 'ResNet18'. Valid names: DenseNet121, /);
  });

  for (const name of BACKBONE_NAMES) {
    it(`${name}: N, output shape, finite forward pass, Table II and partial-regime counts`, () => {
      const exp = EXPECTED[name];
      const spec = BACKBONES[name];
      const base = buildBackbone(name);
      try {
        if (spec.layers > 0) assert.strictEqual(base.layers.length, spec.layers, 'N = len(base.layers)');
        assert.strictEqual(base.layers[0].getClassName(), 'InputLayer');
        assert.deepStrictEqual(base.outputs[0].shape, [null, ...exp.out]);

        const y = tf.tidy(() => base.predict(tf.randomUniform([2, 80, 80, 3], -1, 1, 'float32', 5)) as tf.Tensor);
        assert.deepStrictEqual(y.shape, [2, ...exp.out]);
        const values = y.dataSync();
        y.dispose();
        assert.ok(values.every(Number.isFinite), 'finite outputs');

        const model = buildTransferModel(base);
        const flatten = exp.out[0] * exp.out[1] * exp.out[2];
        assert.deepStrictEqual(model.getLayer('flatten').outputShape, [null, flatten]);
        const frozen = applyRegime(model, 'frozen');
        assert.strictEqual(frozen.params.trainable, spec.tableIITrainable, 'Table II');
        assert.strictEqual(frozen.params.trainable, flatten * 3 + 3);
        const partial = applyRegime(model, 'partial');
        assert.strictEqual(partial.frozenLayers, frozenLayerCount(base.layers.length));
        if (exp.total !== undefined) assert.strictEqual(partial.params.total, exp.total, 'total parameters');
        if (exp.trainablePartial !== undefined) assert.strictEqual(partial.params.trainable, exp.trainablePartial, 'partial regime');
        assert.ok(partial.params.trainable > frozen.params.trainable && partial.params.trainable < partial.params.total);
      } finally {
        base.dispose();
      }
    });
  }
});
