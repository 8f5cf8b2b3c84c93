import * as assert from 'assert';
import * as crypto from 'crypto';
import * as tf from '@tensorflow/tfjs';
import { buildInceptionV3 } from '../../lib/backbones/inception_v3';
import { layerSignature } from '../../lib/backbones/layers';
import { BACKBONES } from '../../lib/backbones/registry';

/*
 * Reference values from Keras 3.15 (keras.applications.InceptionV3(include_top=False, weights=None,
 * input_shape=(80, 80, 3))), whose layer list equals tf.keras 2.7's for this model once its input
 * layer is called 'input_1' as in 2.7.
 * The digest is sha256 of the lines '<layer name>\t<weight shapes>' (see layerSignature).
 */
const KERAS = {
  layers: 311,
  totalParams: 21802784,
  trainableParams: 21768352,
  output: [null, 1, 1, 2048],
  first: ['input_1', 'conv2d'],
  last: 'mixed10',
  signatureSha256: '67be914b0836dfabfbc0ba8ac455ffdd1ade916ce4895c1d3eda4103ae48d814',
};

function trainableCount(model: tf.LayersModel): number {
  return model.trainableWeights.reduce((s, w) => s + w.shape.reduce((a: number, b) => a * (b as number), 1), 0);
}

describe('buildInceptionV3', function () {
  this.timeout(120000);
  let model: tf.LayersModel;
  before(async () => {
    await tf.setBackend('cpu');
    model = buildInceptionV3();
  });
  after(() => model?.dispose());

  it('has the tf.keras 2.7 layer list: N = 311, names and weight shapes in Keras order', () => {
    assert.strictEqual(model.layers.length, KERAS.layers);
    assert.strictEqual(model.layers.length, BACKBONES.InceptionV3.layers);
    assert.deepStrictEqual(model.layers.slice(0, 2).map((l) => l.name), KERAS.first);
    assert.strictEqual(model.layers[model.layers.length - 1].name, KERAS.last);
    const sig = crypto.createHash('sha256').update(layerSignature(model).join('\n')).digest('hex');
    assert.strictEqual(sig, KERAS.signatureSha256);
  });

  it('has Keras\'s parameter counts', () => {
    assert.strictEqual(model.countParams(), KERAS.totalParams);
    assert.strictEqual(trainableCount(model), KERAS.trainableParams);
  });

  it('gives 1 x 1 x 2048 at 80 x 80, so Flatten x 3 + 3 is Table II\'s InceptionV3 count', () => {
    assert.deepStrictEqual(model.outputs[0].shape, KERAS.output);
    const flatten = 1 * 1 * 2048;
    assert.strictEqual(flatten * 3 + 3, BACKBONES.InceptionV3.tableIITrainable);
  });

  it('predicts finite values', () => {
    const x = tf.randomUniform([1, 80, 80, 3], -1, 1, 'float32', 5);
    const y = model.predict(x) as tf.Tensor;
    assert.deepStrictEqual(y.shape, [1, 1, 1, 2048]);
    const v = y.dataSync();
    assert.ok(v.every(Number.isFinite), 'non-finite output');
    assert.ok(v.some((a) => a !== 0), 'all-zero output');
    tf.dispose([x, y]);
  });

  it('uses BatchNormalization without scale (gamma), as Keras conv2d_bn', () => {
    const bn = model.getLayer('batch_normalization_93');
    assert.deepStrictEqual(bn.weights.map((w) => w.shape), [[192], [192], [192]]);
  });

  it('rejects inputs smaller than Keras allows', () => {
    assert.throws(() => buildInceptionV3({ inputSize: 16 }), /inputSize must be an integer >=/);
  });
});
