import * as assert from 'assert';
import * as crypto from 'crypto';
import * as tf from '@tensorflow/tfjs';
import { buildMobileNetV3Large, buildMobileNetV3Small, depth } from '../../lib/backbones/mobilenet_v3';
import { KerasGlobalAveragePooling2D, TFOpLambda, layerSignature } from '../../lib/backbones/layers';
import { BACKBONES } from '../../lib/backbones/registry';

/*
 * Reference values for tf.keras 2.7 (keras/applications/mobilenet_v3.py at tag v2.7.0), which Keras 3
 * no longer builds. They come from a transcription of the v2.7.0 source into Keras 3.15 in which each
 * TFOpLambda (`x + 3.`, `* (1. / 6.)`) is a Lambda layer named as tf.keras names TFOpLambdas; its
 * layer order is the same functional-graph order. Cross-checks: the parameter totals equal Keras 3's
 * MobileNetV3{Large,Small}(include_top=False) (2,996,352 / 939,120), which stops before the top,
 * plus Conv_2 (960 x 1280 + 1280 = 1,230,080 / 576 x 1024 + 1024 = 590,848); the layer counts equal
 * the source arithmetic: Input, Rescaling, Conv, BN, hard-swish (4) = 8; blocks 249 / 215;
 * Conv_1, BN, hard-swish, GAP, Conv_2, hard-swish = 12.
 * The digest is sha256 of the lines '<layer name>\t<weight shapes>' (see layerSignature).
 */
const KERAS = {
  MobileNetV3Large: {
    build: buildMobileNetV3Large,
    layers: 269,
    totalParams: 4226432,
    trainableParams: 4202032,
    channels: 1280,
    beforeTop: 'multiply_19',
    last: ['tf.__operators__.add_28', 're_lu_39', 'tf.math.multiply_28', 'multiply_20'],
    tfOps: 58,
    signatureSha256: '1f5c3d8834cbaf05fe339d56e8f7325ebded61f8007bafbb5a354867246bb45e',
  },
  MobileNetV3Small: {
    build: buildMobileNetV3Small,
    layers: 235,
    totalParams: 1529968,
    trainableParams: 1517856,
    channels: 1024,
    beforeTop: 'multiply_17',
    last: ['tf.__operators__.add_27', 're_lu_32', 'tf.math.multiply_27', 'multiply_18'],
    tfOps: 56,
    signatureSha256: 'fe760b30ab810d7de5e601136e06554811d9bde80a10bf9792795904b4fb6638',
  },
} as const;

function trainableCount(model: tf.LayersModel): number {
  return model.trainableWeights.reduce((s, w) => s + w.shape.reduce((a: number, b) => a * (b as number), 1), 0);
}

function close(actual: ArrayLike<number>, expected: number[], tol = 1e-6): void {
  assert.strictEqual(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `[${i}] ${actual[i]} != ${expected[i]}`);
  }
}

describe('mobilenet_v3', () => {
  before(async () => {
    await tf.setBackend('cpu');
  });

  it('depth() equals Keras _depth (hand values)', () => {
    // 16 * 4.5 = 72; 24 * 88/24 = 88; 96 * 6 = 576; 10 -> 8 is < 90 % of 10, so 16; 12 -> 16; 4 -> 8 (min).
    assert.deepStrictEqual([depth(72), depth(88), depth(576), depth(10), depth(12), depth(4)], [72, 88, 576, 16, 16, 8]);
    // 80 * 2.3 = 184; 80 * 2.5 = 200; 16 * 0.75 = 12 -> 16.
    assert.deepStrictEqual([depth(80 * 2.3), depth(80 * 2.5), depth(16 * 0.75)], [184, 200, 16]);
  });

  for (const name of ['MobileNetV3Large', 'MobileNetV3Small'] as const) {
    describe(name, function () {
      this.timeout(120000);
      const ref = KERAS[name];
      let model: tf.LayersModel;
      before(() => {
        model = ref.build();
      });
      after(() => model?.dispose());

      it(`has the tf.keras 2.7 layer list: N = ${ref.layers}, names and weight shapes in Keras order`, () => {
        assert.strictEqual(model.layers.length, ref.layers);
        assert.strictEqual(BACKBONES[name].layers, ref.layers);
        assert.deepStrictEqual(
          model.layers.slice(0, 8).map((l) => l.name),
          ['input_1', 'rescaling', 'Conv', 'Conv/BatchNorm', 'tf.__operators__.add', 're_lu', 'tf.math.multiply', 'multiply'],
        );
        assert.deepStrictEqual(model.layers.slice(-7, -4).map((l) => l.name), [ref.beforeTop, 'global_average_pooling2d', 'Conv_2']);
        assert.deepStrictEqual(model.layers.slice(-4).map((l) => l.name), ref.last);
        assert.strictEqual(model.layers.filter((l) => l instanceof TFOpLambda).length, ref.tfOps);
        const sig = crypto.createHash('sha256').update(layerSignature(model).join('\n')).digest('hex');
        assert.strictEqual(sig, ref.signatureSha256);
      });

      it('has the parameter counts of the 2.7 source', () => {
        assert.strictEqual(model.countParams(), ref.totalParams);
        assert.strictEqual(trainableCount(model), ref.trainableParams);
      });

      it(`keeps the 2.7 top: GAP(keepdims) -> Conv_2 with bias -> hard-swish, 1 x 1 x ${ref.channels}`, () => {
        const gap = model.getLayer('global_average_pooling2d');
        assert.ok(gap instanceof KerasGlobalAveragePooling2D && gap.keepdims);
        const conv2 = model.getLayer('Conv_2');
        assert.deepStrictEqual(conv2.weights.map((w) => w.shape), [[1, 1, depth(ref.channels === 1280 ? 960 : 576), ref.channels], [ref.channels]]);
        assert.deepStrictEqual(model.outputs[0].shape, [null, 1, 1, ref.channels]);
        assert.strictEqual(ref.channels * 3 + 3, BACKBONES[name].tableIITrainable);
      });

      it('rescales 0-255 input to [-1, 1] and applies hard-swish as x * relu6(x + 3) / 6', () => {
        close((model.layers[1].apply(tf.tensor1d([0, 127.5, 255])) as tf.Tensor).dataSync(), [-1, 0, 1]);
        const [add, relu6, mul, multiply] = model.layers.slice(4, 8);
        const x = tf.tensor1d([-4, -1, 0, 1, 4]);
        const hs = mul.apply(relu6.apply(add.apply(x) as tf.Tensor) as tf.Tensor) as tf.Tensor;
        close((multiply.apply([x, hs]) as tf.Tensor).dataSync(), [0, -1 / 3, 0, 2 / 3, 4]);
      });

      it('predicts finite values at 80 x 80 from 0-255 input', () => {
        const x = tf.randomUniform([1, 80, 80, 3], 0, 255, 'float32', 3);
        const y = model.predict(x) as tf.Tensor;
        assert.deepStrictEqual(y.shape, [1, 1, 1, ref.channels]);
        const v = y.dataSync();
        assert.ok(v.every(Number.isFinite), 'non-finite output');
        assert.ok(v.some((a) => a !== 0), 'all-zero output');
        tf.dispose([x, y]);
      });
    });
  }

  it('is reproducible from its seed and changes with it', () => {
    const first = (seed: number) => {
      const m = buildMobileNetV3Small({ seed });
      const k = Array.from(m.getLayer('Conv').getWeights()[0].dataSync().slice(0, 16));
      m.dispose();
      return k;
    };
    assert.deepStrictEqual(first(1), first(1));
    assert.notDeepStrictEqual(first(1), first(2));
  });

  it('passes finite, non-zero gradients through the custom layers to the first conv when training', () => {
    const m = buildMobileNetV3Small({ inputSize: 32, seed: 4 });
    const x = tf.randomUniform([2, 32, 32, 3], 0, 255, 'float32', 9);
    const vars = m.trainableWeights.map((w) => w.read() as tf.Variable);
    const loss = () => (m.apply(x, { training: true }) as tf.Tensor).square().mean() as tf.Scalar;
    const { value, grads } = tf.variableGrads(loss, vars);
    const conv = m.getLayer('Conv').trainableWeights[0].read() as tf.Variable;
    const g = grads[conv.name];
    assert.ok(g, `no gradient for ${conv.name}`);
    assert.deepStrictEqual(g.shape, conv.shape);
    assert.strictEqual(Object.keys(grads).length, vars.length);
    const v = g.dataSync();
    assert.ok(Number.isFinite(value.dataSync()[0]) && v.every(Number.isFinite) && v.some((a) => a !== 0));
    tf.dispose([x, value, ...Object.values(grads)]);
    m.dispose();
  });

  it('survives a model.json round trip: same layer names, same outputs', async () => {
    const m = buildMobileNetV3Small({ inputSize: 32 });
    const restored = await tf.models.modelFromJSON(m.toJSON(undefined, false) as Parameters<typeof tf.models.modelFromJSON>[0]);
    restored.setWeights(m.getWeights());
    assert.deepStrictEqual(restored.layers.map((l) => l.name), m.layers.map((l) => l.name));
    const x = tf.randomUniform([1, 32, 32, 3], 0, 255, 'float32', 1);
    close((restored.predict(x) as tf.Tensor).dataSync(), Array.from((m.predict(x) as tf.Tensor).dataSync()), 0);
    m.dispose();
    restored.dispose();
  });

  it('rejects inputs smaller than 32 x 32, as Keras does', () => {
    assert.throws(() => buildMobileNetV3Large({ inputSize: 31 }), /inputSize must be an integer >= 32/);
  });
});
