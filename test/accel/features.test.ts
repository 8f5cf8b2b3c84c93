import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend';
import { buildBackbone } from '../../lib/backbones';
import { extractFeatures, extractFeaturesParallel } from '../../lib/accel';
import { Rng } from '../../lib/util/rng';

function patches(count: number, size: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const v = new Float32Array(count * size * size * 3);
  for (let i = 0; i < v.length; i++) v[i] = rng.uniform(-1, 1);
  return v;
}

describe('accel/extractFeaturesParallel', () => {
  before(async () => {
    await initBackend();
  });

  const size = 32;
  const count = 11; // 3 batches of 4 (the last one partial)
  const inputs = patches(count, size, 5);

  it('two workers give exactly the single-thread features, which match model.predict', async () => {
    const common = { backbone: 'MobileNetV2' as const, inputSize: size, seed: 2, count, batchSize: 4 };
    const single = await extractFeatures({ ...common, inputs });
    const progress: number[] = [];
    const parallel = await extractFeaturesParallel({ ...common, inputs, workers: 2, onProgress: (d) => progress.push(d) });
    assert.equal(parallel.length, single.length);
    assert.ok(single.length > 0 && single.length % count === 0);
    assert.deepEqual(Array.from(parallel), Array.from(single));
    assert.equal(progress[progress.length - 1], count);
    assert.deepEqual([...progress].sort((a, b) => a - b), progress);

    const model = buildBackbone('MobileNetV2', { inputSize: size, seed: 2 });
    const ref = tf.tidy(() => (model.predict(tf.tensor4d(inputs, [count, size, size, 3])) as tf.Tensor).reshape([-1]).dataSync() as Float32Array);
    let d = 0;
    let m = 0;
    for (let i = 0; i < ref.length; i++) {
      d = Math.max(d, Math.abs(ref[i] - single[i]));
      m = Math.max(m, Math.abs(ref[i]));
    }
    assert.ok(d / m < 1e-4, `relative max error ${d / m}`);
    model.dispose();
  });

  it('takes the inputs from a function, one batch at a time', async () => {
    const pixels = size * size * 3;
    const asked: Array<[number, number]> = [];
    const parallel = await extractFeaturesParallel({
      backbone: 'MobileNetV2',
      inputSize: size,
      seed: 2,
      count,
      batchSize: 4,
      workers: 2,
      inputs: (start, n) => {
        asked.push([start, n]);
        return inputs.slice(start * pixels, (start + n) * pixels);
      },
    });
    const single = await extractFeatures({ backbone: 'MobileNetV2', inputSize: size, seed: 2, count, batchSize: 4, inputs });
    assert.deepEqual(Array.from(parallel), Array.from(single));
    assert.deepEqual(asked.sort((a, b) => a[0] - b[0]), [[0, 4], [4, 4], [8, 3]]);
  });

  it('reports a worker failure as a rejection', async () => {
    await assert.rejects(
      extractFeaturesParallel({ backbone: 'MobileNetV2', inputSize: size, count: 2, batchSize: 2, workers: 1, inputs: patches(2, size, 1), weights: { kind: 'file', path: '/nonexistent/weights.h5' } }),
      /nonexistent/,
    );
  });
});
