import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { buildMobileNet } from '../../lib/backbones/mobilenet';
import { describeKerasReference, type KerasReference } from './keras_reference';

/*
 * Reference values from Keras 3.15 (keras.applications.MobileNet(include_top=False, weights=None,
 * input_shape=(80, 80, 3))), whose layer list equals tf.keras 2.7's for this model once its input
 * layer is called 'input_1' as in 2.7.
 * The digest is sha256 of the lines '<layer name>\t<weight shapes>' (see layerSignature).
 */
const KERAS: KerasReference = {
  layers: 86,
  totalParams: 3228864,
  trainableParams: 3206976,
  output: [null, 2, 2, 1024],
  first: ['input_1', 'conv1'],
  last: 'conv_pw_13_relu',
  signatureSha256: '853d1812c5d117be2f89b146b31ba1ba97cd6ad6b93483cd27f2fae8d85f1516',
};

describeKerasReference('MobileNet', buildMobileNet, KERAS, (model) => {
  it('pads before each stride-2 depthwise conv with ((0, 1), (0, 1)) and caps ReLU at 6', () => {
    const cfg = model().getLayer('conv_pad_2').getConfig();
    assert.deepStrictEqual(cfg.padding, [[0, 1], [0, 1]]);
    assert.strictEqual(model().getLayer('conv_dw_2').getConfig().padding, 'valid');
    assert.strictEqual(model().getLayer('conv1_relu').getConfig().maxValue, 6);
    assert.strictEqual(model().getLayer('conv1_bn').getConfig().momentum, 0.99);
  });
});
