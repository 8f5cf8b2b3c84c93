import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { buildInceptionResNetV2 } from '../../lib/backbones/inception_resnet_v2';
import { CustomScaleLayer } from '../../lib/backbones/layers';
import { describeKerasReference, type KerasReference } from './keras_reference';

/*
 * Reference values from Keras 3.15 (keras.applications.InceptionResNetV2(include_top=False, weights=None,
 * input_shape=(80, 80, 3))), whose layer list equals tf.keras 2.7's for this model once its input
 * layer is called 'input_1' as in 2.7, and the CustomScaleLayer entries get the 2.7 Lambda names block35_1 ... block8_10.
 * The digest is sha256 of the lines '<layer name>\t<weight shapes>' (see layerSignature).
 */
const KERAS: KerasReference = {
  layers: 780,
  totalParams: 54336736,
  trainableParams: 54276192,
  output: [null, 1, 1, 1536],
  first: ['input_1', 'conv2d'],
  last: 'conv_7b_ac',
  signatureSha256: 'fde153375d5f0608d11452dd3d1a8172a29bb7f149bb5d97510a27b4e61eb12b',
};

describeKerasReference('InceptionResNetV2', buildInceptionResNetV2, KERAS, (model) => {
  it('scales each residual in a layer of its own, named after its block (Keras 2.7 Lambda)', () => {
    const scales = model().layers.filter((l) => l instanceof CustomScaleLayer) as CustomScaleLayer[];
    assert.strictEqual(scales.length, 40);
    assert.deepStrictEqual(
      [scales[0].name, scales[0].scale, scales[10].name, scales[10].scale, scales[30].name, scales[30].scale, scales[39].name, scales[39].scale],
      ['block35_1', 0.17, 'block17_1', 0.1, 'block8_1', 0.2, 'block8_10', 1],
    );
    // block8_10 has no activation: the scale layer feeds conv_7b directly.
    assert.strictEqual(model().layers[model().layers.indexOf(scales[39]) + 1].name, 'conv_7b');
  });
});
