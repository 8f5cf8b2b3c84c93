import { strict as assert } from 'assert';
import * as fs from 'fs';
import { frozenLayerCount } from '../../lib/backbones/transfer';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { attachHead, splitModel, foldBatchNorm } from '../../lib/train/graph';
import { runRows, readFeatureCache, writeFeatureCache, featureCacheKey, concatRows } from '../../lib/train/features';
import { predictHead } from '../../lib/train/head';
import { predictRows } from '../../lib/train/suffix';
import { describeOnBackends } from '../support/backends';
import { tinyBackbone, sampleInput, maxAbsDiff } from './helpers';

describeOnBackends('train/features: caches equal the whole model', function () {
  let backend = '';
  const N = 12;
  let x: tf.Tensor4D;
  const input = (idx: Int32Array) => tf.gather(x, idx) as tf.Tensor4D;
  before(async () => {
    backend = tf.getBackend();
    x = sampleInput(N);
  });

  it('frozen: cached features + Float32 head = whole transfer model (also with BN folded)', () => {
    const base = tinyBackbone();
    const dense = tf.layers.dense({ units: 3, name: 'dense', kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) });
    const whole = attachHead(base, { dense });
    const ref = (whole.predict(x) as tf.Tensor).dataSync();
    const flat = tf.model({ inputs: base.inputs, outputs: tf.layers.flatten().apply(base.outputs[0]) as tf.SymbolicTensor });
    const folded = foldBatchNorm(base).model;
    const flatFolded = tf.model({ inputs: folded.inputs, outputs: tf.layers.flatten().apply(folded.outputs[0]) as tf.SymbolicTensor });
    const [k, b] = dense.getWeights();
    const head = { kernel: k.dataSync() as Float32Array, bias: b.dataSync() as Float32Array, dim: k.shape[0], outputs: 3 };
    const all = Int32Array.from({ length: N }, (_, i) => i);
    for (const m of [flat, flatFolded]) {
      // Two parts (as two workers would compute them), concatenated.
      const parts = [runRows(m, input, 0, 5, { batchSize: 4 }).arrays, runRows(m, input, 5, N, { batchSize: 4 }).arrays];
      const [feat] = concatRows(parts);
      const p = predictHead(head, feat, all);
      assert.ok(maxAbsDiff(ref, p) < 1e-4, `diff ${maxAbsDiff(ref, p)}`);
    }
  });

  it('partial: cached cut activations + suffix = whole transfer model', () => {
    const base = tinyBackbone(16, 2);
    const whole = attachHead(base, { dense: tf.layers.dense({ units: 3, name: 'dense' }) });
    const k = frozenLayerCount(base.layers.length);
    const split = splitModel(whole, (_l, i) => i < k);
    const { arrays } = runRows(split.prefix, input, 0, N, { batchSize: 5 });
    assert.equal(arrays.length, split.cut.length);
    const idx = [3, 0, 11, 7];
    const p = predictRows(split.suffix, arrays, idx, 3);
    const ref = (whole.predict(tf.gather(x, idx)) as tf.Tensor).dataSync();
    assert.ok(maxAbsDiff(ref, p) < 1e-5);
  });

  it('the cache round-trips and its key depends on weights, patches, backend, size and kind', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'feat-'));
    const args = { backbone: 'MobileNet' as const, weights: { kind: 'random init' as const, seed: 1 }, patchSetHash: 'abc', backend, inputSize: 16, preprocessing: 'tf' as const, kind: 'features' };
    const key = featureCacheKey(args);
    assert.equal(readFeatureCache(dir, key), null);
    const a = { data: new Float32Array([1, 2, 3, 4, 5, 6]), rows: 2, dim: 3 };
    const c = { data: new Float32Array([7, 8]), rows: 2, dim: 1 };
    writeFeatureCache(dir, key, args, [a, c], [[3], [1]]);
    const back = readFeatureCache(dir, key)!;
    assert.deepEqual(Array.from(back.arrays[0].data), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(Array.from(back.arrays[1].data), [7, 8]);
    const keys = new Set([key,
      featureCacheKey({ ...args, weights: { kind: 'random init', seed: 2 } }),
      featureCacheKey({ ...args, patchSetHash: 'abd' }),
      featureCacheKey({ ...args, backend: 'other' }),
      featureCacheKey({ ...args, inputSize: 32 }),
      featureCacheKey({ ...args, kind: 'cut10' })]);
    assert.equal(keys.size, 6);
    fs.rmSync(dir, { recursive: true });
  });
});
