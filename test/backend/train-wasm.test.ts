import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend';
import { normalValues, restoreBackendAfterSuite } from './helpers';

/** Conv2D + DepthwiseConv2D + SeparableConv2D + BatchNormalization + Dense head, seeded. */
function smallModel(): tf.LayersModel {
  const init = (seed: number) => tf.initializers.glorotUniform({ seed });
  const input = tf.input({ shape: [12, 12, 2] });
  let h = tf.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: init(1) }).apply(input) as tf.SymbolicTensor;
  h = tf.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', depthwiseInitializer: init(2) }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.batchNormalization().apply(h) as tf.SymbolicTensor;
  h = tf.layers.separableConv2d({ filters: 6, kernelSize: 3, strides: 2, padding: 'valid', activation: 'relu', depthwiseInitializer: init(3), pointwiseInitializer: init(4) }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.flatten().apply(h) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 3, kernelInitializer: init(5) }).apply(h) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

describe('backend/training a small conv net on wasm', function () {
  this.timeout(60000);
  restoreBackendAfterSuite();

  it('loss decreases over a few Adam steps, with no tensor leak per step', async () => {
    const choice = await initBackend({ backend: 'wasm', env: {} });
    assert.equal(choice.backend, 'wasm');
    const model = smallModel();
    model.compile({ optimizer: tf.train.adam(0.01), loss: 'meanSquaredError' });
    const x = tf.tensor4d(normalValues(8 * 12 * 12 * 2, 31), [8, 12, 12, 2]);
    // A learnable target: per-image channel means and their difference.
    const y = tf.tidy(() => {
      const m = tf.mean(x, [1, 2]) as tf.Tensor2D;
      return tf.concat([m, tf.sub(m.slice([0, 0], [8, 1]), m.slice([0, 1], [8, 1]))], 1).mul(5);
    });
    const losses: number[] = [];
    let tensorsAfterFirst = 0;
    for (let step = 0; step < 12; step++) {
      const loss = (await model.trainOnBatch(x, y)) as number;
      losses.push(loss);
      if (step === 0) tensorsAfterFirst = tf.memory().numTensors;
    }
    assert.equal(tf.memory().numTensors, tensorsAfterFirst, 'tensors leaked per training step');
    assert.ok(losses.every(Number.isFinite), `losses ${losses}`);
    assert.ok(losses[losses.length - 1] < 0.5 * losses[0], `loss did not decrease enough: ${losses.map((l) => l.toFixed(4)).join(', ')}`);
    model.dispose();
    tf.dispose([x, y]);
  });
});
