import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { buildInceptionV3 } from '../../lib/backbones/inception_v3';
import { describeKerasReference, type KerasReference } from './keras_reference';

/*
 * Reference values from Keras 3.15 (keras.applications.InceptionV3(include_top=False, weights=None,
 * input_shape=(80, 80, 3))), whose layer list equals tf.keras 2.7's for this model once its input
 * layer is called 'input_1' as in 2.7.
 * The digest is sha256 of the lines '<layer name>\t<weight shapes>' (see layerSignature).
 */
const KERAS: KerasReference = {
  layers: 311,
  totalParams: 21802784,
  trainableParams: 21768352,
  output: [null, 1, 1, 2048],
  first: ['input_1', 'conv2d'],
  last: 'mixed10',
  signatureSha256: '67be914b0836dfabfbc0ba8ac455ffdd1ade916ce4895c1d3eda4103ae48d814',
};

describeKerasReference('InceptionV3', buildInceptionV3, KERAS, (model) => {
  it('uses BatchNormalization without scale (gamma), as Keras conv2d_bn', () => {
    const bn = model().getLayer('batch_normalization_93');
    assert.deepStrictEqual(bn.weights.map((w) => w.shape), [[192], [192], [192]]);
  });
});
