import * as assert from 'assert';
import * as crypto from 'crypto';
import * as tf from '@tensorflow/tfjs';
import { buildInceptionResNetV2 } from '../../lib/backbones/inception_resnet_v2';
import { CustomScaleLayer, layerSignature } from '../../lib/backbones/layers';
import { BACKBONES } from '../../lib/backbones/registry';

/*
 * Reference values from Keras 3.15 (keras.applications.InceptionResNetV2(include_top=False, weights=None,
 * input_shape=(80, 80, 3))), whose layer list equals tf.keras 2.7's for this model once its input
 * layer is called 'input_1' as in 2.7, and the CustomScaleLayer entries get the 2.7 Lambda names block35_1 ... block8_10.
 * The digest is sha256 of the lines '<layer name>\t<weight shapes>' (see layerSignature).
 */
const KERAS = {
  layers: 780,
  totalParams: 54336736,
  trainableParams: 54276192,
  output: [null, 1, 1, 1536],
  first: ['input_1', 'conv2d'],
  last: 'conv_7b_ac',
  signatureSha256: 'fde153375d5f0608d11452dd3d1a8172a29bb7f149bb5d97510a27b4e61eb12b',
};

function trainableCount(model: tf.LayersModel): number {
  return model.trainableWeights.reduce((s, w) => s + w.shape.reduce((a: number, b) => a * (b as number), 1), 0);
}

describe('buildInceptionResNetV2', function () {
  this.timeout(120000);
  let model: tf.LayersModel;
  before(async () => {
    await tf.setBackend('cpu');
    model = buildInceptionResNetV2();
  });
  after(() => model?.dispose());

  it('has the tf.keras 2.7 layer list: N = 780, names and weight shapes in Keras order', () => {
    assert.strictEqual(model.layers.length, KERAS.layers);
    assert.strictEqual(model.layers.length, BACKBONES.InceptionResNetV2.layers);
    assert.deepStrictEqual(model.layers.slice(0, 2).map((l) => l.name), KERAS.first);
    assert.strictEqual(model.layers[model.layers.length - 1].name, KERAS.last);
    const sig = crypto.createHash('sha256').update(layerSignature(model).join('\n')).digest('hex');
    assert.strictEqual(sig, KERAS.signatureSha256);
  });

  it('has Keras\'s parameter counts', () => {
    assert.strictEqual(model.countParams(), KERAS.totalParams);
    assert.strictEqual(trainableCount(model), KERAS.trainableParams);
  });

  it('gives 1 x 1 x 1536 at 80 x 80, so Flatten x 3 + 3 is Table II\'s InceptionResNetV2 count', () => {
    assert.deepStrictEqual(model.outputs[0].shape, KERAS.output);
    const flatten = 1 * 1 * 1536;
    assert.strictEqual(flatten * 3 + 3, BACKBONES.InceptionResNetV2.tableIITrainable);
  });

  it('predicts finite values', () => {
    const x = tf.randomUniform([1, 80, 80, 3], -1, 1, 'float32', 5);
    const y = model.predict(x) as tf.Tensor;
    assert.deepStrictEqual(y.shape, [1, 1, 1, 1536]);
    const v = y.dataSync();
    assert.ok(v.every(Number.isFinite), 'non-finite output');
    assert.ok(v.some((a) => a !== 0), 'all-zero output');
    tf.dispose([x, y]);
  });

  it('scales each residual in a layer of its own, named after its block (Keras 2.7 Lambda)', () => {
    const scales = model.layers.filter((l) => l instanceof CustomScaleLayer) as CustomScaleLayer[];
    assert.strictEqual(scales.length, 40);
    assert.deepStrictEqual(
      [scales[0].name, scales[0].scale, scales[10].name, scales[10].scale, scales[30].name, scales[30].scale, scales[39].name, scales[39].scale],
      ['block35_1', 0.17, 'block17_1', 0.1, 'block8_1', 0.2, 'block8_10', 1],
    );
    // block8_10 has no activation: the scale layer feeds conv_7b directly.
    assert.strictEqual(model.layers[model.layers.indexOf(scales[39]) + 1].name, 'conv_7b');
  });

  it('rejects inputs smaller than Keras allows', () => {
    assert.throws(() => buildInceptionResNetV2({ inputSize: 16 }), /inputSize must be an integer >=/);
  });
});
