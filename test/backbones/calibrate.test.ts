import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { buildBackbone, calibrateBatchNorm } from '../../lib/backbones';
import { initBackend } from '../../lib/backend';
import { preprocessPatches } from '../../lib/patches/preprocess';
import { Rng } from '../../lib/util/rng';

/** Smooth blob patches in [0, 1], like normalised PET patches. */
function blobPatches(count: number, size: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(count * size * size);
  for (let p = 0; p < count; p++) {
    const cx = rng.uniform(0.2, 0.8) * size;
    const cy = rng.uniform(0.2, 0.8) * size;
    const r2 = (rng.uniform(0.15, 0.4) * size) ** 2;
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) out[p * size * size + y * size + x] = Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / r2) * rng.uniform(0.8, 1);
  }
  return out;
}

describe('backbones/calibrateBatchNorm', () => {
  before(async () => {
    await initBackend({ backend: 'wasm' });
  });

  it('turns the vanishing features of a random-init MobileNetV3Small into usable ones, and each BN into a standardiser', async () => {
    const size = 32;
    const model = buildBackbone('MobileNetV3Small', { inputSize: size, seed: 3 });
    const x = tf.tensor4d(preprocessPatches(blobPatches(16, size, 1), 16, size, 'none'), [16, size, size, 3]);
    const before = model.predict(x) as tf.Tensor;
    const beforeStd = tf.moments(before).variance.sqrt().dataSync()[0];
    const report = calibrateBatchNorm(model, x);
    assert.equal(report.images, 16);
    assert.equal(report.layers, model.layers.filter((l) => l.getClassName() === 'BatchNormalization').length);
    const after = model.predict(x) as tf.Tensor;
    const afterStd = tf.moments(after).variance.sqrt().dataSync()[0];
    assert.ok(beforeStd < 1e-3, `random-init features are tiny (${beforeStd})`);
    assert.ok(afterStd > 1e-2 && afterStd < 1e3, `calibrated features have a usable scale (${afterStd})`);
    // The first BN now standardises its input on the calibration images.
    const bnName = model.layers.find((l) => l.getClassName() === 'BatchNormalization')!.name;
    const probe = tf.model({ inputs: model.inputs, outputs: model.getLayer(bnName).output as tf.SymbolicTensor });
    const m = tf.moments(probe.predict(x) as tf.Tensor, [0, 1, 2]);
    assert.ok(Math.max(...Array.from(m.mean.abs().dataSync())) < 1e-3);
    // Output variance is v / (v + epsilon) for input variance v: at most 1, near 1 for most channels.
    const variances = Array.from(m.variance.dataSync()).sort((p, q) => p - q);
    assert.ok(variances[variances.length - 1] <= 1 + 1e-3);
    assert.ok(variances[Math.floor(variances.length / 2)] > 0.5, `median variance ${variances[Math.floor(variances.length / 2)]}`);
    tf.dispose([x, before, after, m.mean, m.variance]);
  });

  it('is deterministic and leaks no tensors', () => {
    const size = 32;
    const a = buildBackbone('MobileNet', { inputSize: size, seed: 1 });
    const b = buildBackbone('MobileNet', { inputSize: size, seed: 1 });
    const x = tf.tensor4d(preprocessPatches(blobPatches(8, size, 2), 8, size, 'tf'), [8, size, size, 3]);
    const n0 = tf.memory().numTensors;
    calibrateBatchNorm(a, x);
    assert.equal(tf.memory().numTensors, n0, 'no tensors left behind');
    calibrateBatchNorm(b, x);
    const ya = (a.predict(x) as tf.Tensor).dataSync();
    const yb = (b.predict(x) as tf.Tensor).dataSync();
    assert.deepEqual(Array.from(ya), Array.from(yb));
    x.dispose();
  });
});
