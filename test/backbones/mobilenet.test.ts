import * as assert from 'assert';
import * as crypto from 'crypto';
import * as tf from '@tensorflow/tfjs';
import { buildMobileNet } from '../../lib/backbones/mobilenet';
import { layerSignature } from '../../lib/backbones/layers';
import { BACKBONES } from '../../lib/backbones/registry';

/*
 * Reference values from Keras 3.15 (keras.applications.MobileNet(include_top=False, weights=None,
 * input_shape=(80, 80, 3))), whose layer list equals tf.keras 2.7's for this model once its input
 * layer is called 'input_1' as in 2.7.
 * The digest is sha256 of the lines '<layer name>\t<weight shapes>' (see layerSignature).
 */
const KERAS = {
  layers: 86,
  totalParams: 3228864,
  trainableParams: 3206976,
  output: [null, 2, 2, 1024],
  first: ['input_1', 'conv1'],
  last: 'conv_pw_13_relu',
  signatureSha256: '853d1812c5d117be2f89b146b31ba1ba97cd6ad6b93483cd27f2fae8d85f1516',
};

function trainableCount(model: tf.LayersModel): number {
  return model.trainableWeights.reduce((s, w) => s + w.shape.reduce((a: number, b) => a * (b as number), 1), 0);
}

describe('buildMobileNet', function () {
  this.timeout(120000);
  let model: tf.LayersModel;
  before(async () => {
    await tf.setBackend('cpu');
    model = buildMobileNet();
  });
  after(() => model?.dispose());

  it('has the tf.keras 2.7 layer list: N = 86, names and weight shapes in Keras order', () => {
    assert.strictEqual(model.layers.length, KERAS.layers);
    assert.strictEqual(model.layers.length, BACKBONES.MobileNet.layers);
    assert.deepStrictEqual(model.layers.slice(0, 2).map((l) => l.name), KERAS.first);
    assert.strictEqual(model.layers[model.layers.length - 1].name, KERAS.last);
    const sig = crypto.createHash('sha256').update(layerSignature(model).join('\n')).digest('hex');
    assert.strictEqual(sig, KERAS.signatureSha256);
  });

  it('has Keras\'s parameter counts', () => {
    assert.strictEqual(model.countParams(), KERAS.totalParams);
    assert.strictEqual(trainableCount(model), KERAS.trainableParams);
  });

  it('gives 2 x 2 x 1024 at 80 x 80, so Flatten x 3 + 3 is Table II\'s MobileNet count', () => {
    assert.deepStrictEqual(model.outputs[0].shape, KERAS.output);
    const flatten = 2 * 2 * 1024;
    assert.strictEqual(flatten * 3 + 3, BACKBONES.MobileNet.tableIITrainable);
  });

  it('predicts finite values', () => {
    const x = tf.randomUniform([1, 80, 80, 3], -1, 1, 'float32', 5);
    const y = model.predict(x) as tf.Tensor;
    assert.deepStrictEqual(y.shape, [1, 2, 2, 1024]);
    const v = y.dataSync();
    assert.ok(v.every(Number.isFinite), 'non-finite output');
    assert.ok(v.some((a) => a !== 0), 'all-zero output');
    tf.dispose([x, y]);
  });

  it('pads before each stride-2 depthwise conv with ((0, 1), (0, 1)) and caps ReLU at 6', () => {
    const cfg = model.getLayer('conv_pad_2').getConfig();
    assert.deepStrictEqual(cfg.padding, [[0, 1], [0, 1]]);
    assert.strictEqual(model.getLayer('conv_dw_2').getConfig().padding, 'valid');
    assert.strictEqual(model.getLayer('conv1_relu').getConfig().maxValue, 6);
    assert.strictEqual(model.getLayer('conv1_bn').getConfig().momentum, 0.99);
  });

  it('rejects inputs smaller than Keras allows', () => {
    assert.throws(() => buildMobileNet({ inputSize: 16 }), /inputSize must be an integer >=/);
  });
});
