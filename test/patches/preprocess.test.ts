import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { preprocessPixel, preprocessPatches, patchesToTensor } from '../../lib/patches/preprocess';

const close = (a: number, b: number, tol = 1e-4) => assert.ok(Math.abs(a - b) < tol, `${a} vs ${b}`);

describe('patches/preprocess (Keras preprocess_input modes)', () => {
  before(async () => {
    await tf.setBackend('cpu');
  });

  it('caffe: 0-255, BGR order, minus ImageNet BGR means, no scaling', () => {
    // 0.5 -> 127.5; 127.5 - 103.939 = 23.561; - 116.779 = 10.721; - 123.68 = 3.82
    const [b, g, r] = preprocessPixel(0.5, 'caffe');
    close(b, 23.561);
    close(g, 10.721);
    close(r, 3.82);
  });
  it('tf: x / 127.5 - 1', () => {
    assert.deepEqual(preprocessPixel(0, 'tf'), [-1, -1, -1]);
    assert.deepEqual(preprocessPixel(1, 'tf'), [1, 1, 1]);
    close(preprocessPixel(0.25, 'tf')[0], -0.5);
  });
  it('torch: x / 255, minus RGB mean, over RGB std', () => {
    // 1.0 -> (1 - 0.485) / 0.229 = 2.248908..., (1 - 0.456) / 0.224 = 2.428571..., (1 - 0.406) / 0.225 = 2.64
    const [r, g, b] = preprocessPixel(1, 'torch');
    close(r, 2.2489083);
    close(g, 2.4285714);
    close(b, 2.64);
    close(preprocessPixel(0, 'torch')[0], -0.485 / 0.229);
  });
  it('none: 0-255 unchanged (MobileNetV3 rescales inside)', () => {
    assert.deepEqual(preprocessPixel(0.2, 'none').map((x) => Math.round(x * 1000) / 1000), [51, 51, 51]);
  });
  it('a batch is NHWC with 3 channels, each pixel as preprocessPixel says', async () => {
    const patches = Float32Array.from([0, 0.25, 0.5, 1, 1, 0.5, 0.25, 0]); // two 2x2 patches
    const flat = preprocessPatches(patches, 2, 2, 'torch');
    assert.equal(flat.length, 24);
    for (let p = 0; p < 8; p++) {
      const expected = preprocessPixel(patches[p], 'torch');
      for (let c = 0; c < 3; c++) close(flat[p * 3 + c], expected[c], 1e-5);
    }
    const t = patchesToTensor(patches, 2, 2, 'caffe');
    assert.deepEqual(t.shape, [2, 2, 2, 3]);
    const v = await t.data();
    close(v[3 * 3 + 0], 255 - 103.939, 1e-3); // patch 0, pixel (1, 1) = 1.0, channel B
    t.dispose();
  });
  it('rejects an unknown mode', () => {
    assert.throws(() => preprocessPixel(0, 'imagenet' as never), /Unknown preprocessing mode 'imagenet'/);
  });
});
