import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { loadBackboneWithWeights, loadTfjsWeights, saveKerasH5Weights, saveTfjsModel } from '../../lib/weights';
import { maxAbsDiff, outputOf, tempDir, tinyModel } from './fixtures';

describe('weights/tfjs and loadBackboneWithWeights', () => {
  let tmp: ReturnType<typeof tempDir>;
  before(async () => {
    await tf.setBackend('cpu');
    tmp = tempDir('tfjsw');
  });
  after(() => tmp.cleanup());

  it('loads TensorFlow.js layers-format weights (model.json + shard) with identical outputs', async () => {
    const a = tinyModel(21);
    const b = tinyModel(22);
    const json = await saveTfjsModel(a, path.join(tmp.dir, 'tfjs'));
    const report = await loadTfjsWeights(b, json);
    assert.equal(report.weights, 14);
    assert.equal(maxAbsDiff(outputOf(a), outputOf(b)), 0);
    // tf.loadLayersModel-compatible artifacts too.
    const mj = JSON.parse(fs.readFileSync(json, 'utf8'));
    const weightData = new Uint8Array(fs.readFileSync(path.join(tmp.dir, 'tfjs', 'weights.bin'))).buffer;
    const again = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: mj.modelTopology, weightSpecs: mj.weightsManifest[0].weights, weightData }));
    assert.equal(maxAbsDiff(outputOf(a), outputOf(again)), 0);
  });

  it('rejects TensorFlow.js weights of another shape or model, leaving the model unchanged', async () => {
    const json = await saveTfjsModel(tinyModel(23), path.join(tmp.dir, 'tfjs2'));
    const b = tinyModel(24, { filters: 6 });
    const before = outputOf(b);
    await assert.rejects(loadTfjsWeights(b, json), /TensorFlow\.js weights .*model\.json: weight 'conv1\/conv\/kernel' has shape \[3, 3, 3, 4\] but the model expects \[3, 3, 3, 6\]/);
    assert.equal(maxAbsDiff(before, outputOf(b)), 0);
    await assert.rejects(loadTfjsWeights(tinyModel(25, { extraDense: true }), json), /do not match model 'tiny25': 2 model weights missing in the file \(first: dense_extra\/kernel/);
    fs.rmSync(path.join(tmp.dir, 'tfjs2', 'weights.bin'));
    await assert.rejects(loadTfjsWeights(tinyModel(26), json), /weight shard 'weights\.bin' cannot be read/);
  });

  it('ImageNet requested, absent and not downloadable (offline): one banner with the fetch command, a random init', async () => {
    const warnings: string[] = [];
    const { model, provenance } = await loadBackboneWithWeights('VGG16', {
      cacheDir: path.join(tmp.dir, 'empty'),
      weightsDir: path.join(tmp.dir, 'empty2'),
      seed: 7,
      build: () => tinyModel(27),
      warn: (m) => warnings.push(m),
      download: { enabled: false },
    });
    assert.deepEqual(provenance, { kind: 'random init', seed: 7 });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /WARNING: no ImageNet weights for VGG16\.\n  VGG16: vgg16\/vgg16_weights_tf_dim_ordering_tf_kernels_notop\.h5: downloads are off$/m);
    assert.match(warnings[0], /RANDOM initialisation \(seed 7\)/);
    assert.match(warnings[0], /npm run weights -- fetch VGG16/);
    model.dispose();
  });

  it('loads ImageNet weights found in the cache and an explicit file; a bad explicit file throws', async () => {
    const cacheDir = path.join(tmp.dir, 'cache');
    fs.mkdirSync(cacheDir);
    const src = tinyModel(28);
    await saveKerasH5Weights(src, path.join(cacheDir, 'vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5'));
    const warnings: string[] = [];
    const r = await loadBackboneWithWeights('VGG16', { cacheDir, build: () => tinyModel(29), warn: (m) => warnings.push(m) });
    // The fixture is not the real file: loaded, with a warning naming both md5s.
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /vgg16_weights_tf_dim_ordering_tf_kernels_notop\.h5 has md5 [0-9a-f]{32}, not Keras's 6d6bbae143d832006294945121d1f1fc for VGG16; loaded anyway/);
    assert.equal(r.provenance.kind, 'imagenet');
    assert.match(r.provenance.kind === 'imagenet' ? r.provenance.sha256 : '', /^[0-9a-f]{64}$/);
    assert.equal(maxAbsDiff(outputOf(src), outputOf(r.model)), 0);

    const explicit = await loadBackboneWithWeights('VGG16', { weights: { kind: 'file', path: path.join(cacheDir, 'vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5') }, build: () => tinyModel(30) });
    assert.equal(maxAbsDiff(outputOf(src), outputOf(explicit.model)), 0);
    await assert.rejects(
      loadBackboneWithWeights('VGG16', { weights: { kind: 'file', path: path.join(cacheDir, 'nope.h5') }, build: () => tinyModel(31) }),
      /Keras weights file .*nope\.h5 cannot be opened/,
    );
    const rnd = await loadBackboneWithWeights('VGG16', { weights: { kind: 'random' }, seed: 3, build: () => tinyModel(32) });
    assert.deepEqual(rnd.provenance, { kind: 'random init', seed: 3 });
    await assert.rejects(loadBackboneWithWeights('VGG17' as never, { build: () => tinyModel(33) }), /Unknown backbone 'VGG17'/);
  });
});
