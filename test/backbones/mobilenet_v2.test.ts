import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { buildMobileNetV2 } from '../../lib/backbones/mobilenet_v2';
import { describeKerasReference, type KerasReference } from './keras_reference';

/*
 * Reference values from Keras 3.15 (keras.applications.MobileNetV2(include_top=False, weights=None,
 * input_shape=(80, 80, 3))), whose layer list equals tf.keras 2.7's for this model once its input
 * layer is called 'input_1' as in 2.7.
 * The digest is sha256 of the lines '<layer name>\t<weight shapes>' (see layerSignature).
 */
const KERAS: KerasReference = {
  layers: 154,
  totalParams: 2257984,
  trainableParams: 2223872,
  output: [null, 3, 3, 1280],
  first: ['input_1', 'Conv1'],
  last: 'out_relu',
  signatureSha256: '358787dfdde08af8db4f6e0251b87b4a7277760d4e4b450c62334cba8c3dec7e',
};

describeKerasReference('MobileNetV2', buildMobileNetV2, KERAS, (model) => {
  it('uses correct_pad before stride-2 depthwise convs and BN momentum 0.999', () => {
    // 40 x 40 (even) input to block_1's pad: ((0, 1), (0, 1)).
    assert.deepStrictEqual(model().getLayer('block_1_pad').getConfig().padding, [[0, 1], [0, 1]]);
    // 5 x 5 (odd) input to block_13's pad: ((1, 1), (1, 1)).
    assert.deepStrictEqual(model().getLayer('block_13_pad').getConfig().padding, [[1, 1], [1, 1]]);
    assert.strictEqual(model().getLayer('bn_Conv1').getConfig().momentum, 0.999);
    assert.strictEqual(model().getLayer('block_16_project_BN').getConfig().epsilon, 1e-3);
  });
});
