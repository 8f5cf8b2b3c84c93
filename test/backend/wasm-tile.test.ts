import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { quietCpuBanner, registerWasmGradientKernels } from '../../lib/backend';
import { tileAsBroadcast } from '../../lib/backend/wasm-tile';
import { normalValues, onBackend, restoreBackendAfterSuite } from './helpers';

describe('backend/wasm Tile replacement', function () {
  this.timeout(30000);
  restoreBackendAfterSuite();
  before(() => {
    registerWasmGradientKernels();
    quietCpuBanner();
  });

  it('is registered by registerWasmGradientKernels', () => {
    // Registering again changes nothing and lists what is registered.
    assert.ok(registerWasmGradientKernels().includes('Tile'));
  });

  it('turns tiling into a low-rank broadcast (hand-checked shapes)', () => {
    // The BatchNormalization-gradient case: a channel vector spread over n, h, w.
    assert.deepEqual(tileAsBroadcast([1, 1, 1, 96], [10, 40, 40, 1]), { repsShape: [16000, 1], dataShape: [1, 96] });
    assert.deepEqual(tileAsBroadcast([2, 3], [4, 1]), { repsShape: [4, 1], dataShape: [1, 6] });
    assert.deepEqual(tileAsBroadcast([2, 3], [1, 5]), { repsShape: [1, 5, 1], dataShape: [2, 1, 3] });
    assert.deepEqual(tileAsBroadcast([1], [1]), { repsShape: [1], dataShape: [1] });
    assert.throws(() => tileAsBroadcast([2, 3], [2]), /Tile \(wasm\): reps \[2\] must have one entry per axis of shape \[2,3\]/);
  });

  const cases: Array<[number[], number[]]> = [
    [[1, 1, 1, 5], [2, 3, 4, 1]],
    [[2, 3], [3, 2]],
    [[2, 1, 3], [1, 4, 2]],
    [[3], [1]],
    [[2, 2, 2], [2, 1, 3]],
  ];
  for (const [shape, reps] of cases) {
    it(`float32 [${shape}] x [${reps}] equals cpu exactly, without leaks`, async () => {
      const size = shape.reduce((a, b) => a * b, 1);
      const run = () => tf.tile(tf.tensor(normalValues(size, size), shape), reps);
      const cpu = await onBackend('cpu', run);
      await tf.setBackend('wasm');
      const before = tf.memory().numTensors;
      const buffersBefore = tf.engine().backend.numDataIds();
      const wasm = await onBackend('wasm', run);
      assert.equal(tf.memory().numTensors, before);
      assert.equal(tf.engine().backend.numDataIds(), buffersBefore, 'leaked wasm buffers');
      assert.deepEqual(wasm.shape, cpu.shape);
      assert.deepEqual(Array.from(wasm.values), Array.from(cpu.values));
    });
  }

  it('keeps the original kernel for int32 and bool', async () => {
    await tf.setBackend('wasm');
    assert.deepEqual(tf.tile(tf.tensor1d([1, 2], 'int32'), [3]).arraySync(), [1, 2, 1, 2, 1, 2]);
    assert.deepEqual(tf.tile(tf.tensor2d([[true], [false]], [2, 1], 'bool'), [1, 2]).arraySync(), [[1, 1], [0, 0]]);
    assert.deepEqual(Array.from(tf.tile(tf.tensor1d([-0, NaN]), [2]).dataSync()), [-0, NaN, -0, NaN]);
  });
});
