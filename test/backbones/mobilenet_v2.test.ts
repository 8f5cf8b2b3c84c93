import * as assert from 'assert';
import * as crypto from 'crypto';
import * as tf from '@tensorflow/tfjs';
import { buildMobileNetV2 } from '../../lib/backbones/mobilenet_v2';
import { layerSignature } from '../../lib/backbones/layers';
import { BACKBONES } from '../../lib/backbones/registry';

/*
 * Reference values from Keras 3.15 (keras.applications.MobileNetV2(include_top=False, weights=None,
 * input_shape=(80, 80, 3))), whose layer list equals tf.keras 2.7's for this model once its input
 * layer is called 'input_1' as in 2.7.
 * The digest is sha256 of the lines '<layer name>\t<weight shapes>' (see layerSignature).
 */
const KERAS = {
  layers: 154,
  totalParams: 2257984,
  trainableParams: 2223872,
  output: [null, 3, 3, 1280],
  first: ['input_1', 'Conv1'],
  last: 'out_relu',
  signatureSha256: '358787dfdde08af8db4f6e0251b87b4a7277760d4e4b450c62334cba8c3dec7e',
};

function trainableCount(model: tf.LayersModel): number {
  return model.trainableWeights.reduce((s, w) => s + w.shape.reduce((a: number, b) => a * (b as number), 1), 0);
}

describe('buildMobileNetV2', function () {
  this.timeout(120000);
  let model: tf.LayersModel;
  before(async () => {
    await tf.setBackend('cpu');
    model = buildMobileNetV2();
  });
  after(() => model?.dispose());

  it('has the tf.keras 2.7 layer list: N = 154, names and weight shapes in Keras order', () => {
    assert.strictEqual(model.layers.length, KERAS.layers);
    assert.strictEqual(model.layers.length, BACKBONES.MobileNetV2.layers);
    assert.deepStrictEqual(model.layers.slice(0, 2).map((l) => l.name), KERAS.first);
    assert.strictEqual(model.layers[model.layers.length - 1].name, KERAS.last);
    const sig = crypto.createHash('sha256').update(layerSignature(model).join('\n')).digest('hex');
    assert.strictEqual(sig, KERAS.signatureSha256);
  });

  it('has Keras\'s parameter counts', () => {
    assert.strictEqual(model.countParams(), KERAS.totalParams);
    assert.strictEqual(trainableCount(model), KERAS.trainableParams);
  });

  it('gives 3 x 3 x 1280 at 80 x 80, so Flatten x 3 + 3 is Table II\'s MobileNetV2 count', () => {
    assert.deepStrictEqual(model.outputs[0].shape, KERAS.output);
    const flatten = 3 * 3 * 1280;
    assert.strictEqual(flatten * 3 + 3, BACKBONES.MobileNetV2.tableIITrainable);
  });

  it('predicts finite values', () => {
    const x = tf.randomUniform([1, 80, 80, 3], -1, 1, 'float32', 5);
    const y = model.predict(x) as tf.Tensor;
    assert.deepStrictEqual(y.shape, [1, 3, 3, 1280]);
    const v = y.dataSync();
    assert.ok(v.every(Number.isFinite), 'non-finite output');
    assert.ok(v.some((a) => a !== 0), 'all-zero output');
    tf.dispose([x, y]);
  });

  it('uses correct_pad before stride-2 depthwise convs and BN momentum 0.999', () => {
    // 40 x 40 (even) input to block_1's pad: ((0, 1), (0, 1)).
    assert.deepStrictEqual(model.getLayer('block_1_pad').getConfig().padding, [[0, 1], [0, 1]]);
    // 5 x 5 (odd) input to block_13's pad: ((1, 1), (1, 1)).
    assert.deepStrictEqual(model.getLayer('block_13_pad').getConfig().padding, [[1, 1], [1, 1]]);
    assert.strictEqual(model.getLayer('bn_Conv1').getConfig().momentum, 0.999);
    assert.strictEqual(model.getLayer('block_16_project_BN').getConfig().epsilon, 1e-3);
  });

  it('rejects inputs smaller than Keras allows', () => {
    assert.throws(() => buildMobileNetV2({ inputSize: 16 }), /inputSize must be an integer >=/);
  });
});
