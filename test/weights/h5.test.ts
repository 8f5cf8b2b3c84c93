import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import {
  loadH5wasm,
  loadKerasH5Weights,
  readKerasH5,
  saveKerasH5Weights,
  writeKerasH5,
  type H5Layer,
} from '../../lib/weights';
import { maxAbsDiff, outputOf, tempDir, tinyModel } from './fixtures';

describe('weights/h5: Keras legacy HDF5 weights', () => {
  let tmp: ReturnType<typeof tempDir>;
  before(async () => {
    await tf.setBackend('cpu');
    tmp = tempDir('h5');
  });
  after(() => tmp.cleanup());

  it('saves in Keras order and loads into a fresh model with identical outputs', async () => {
    const a = tinyModel(1);
    const b = tinyModel(2);
    assert.ok(maxAbsDiff(outputOf(a), outputOf(b)) > 1e-3, 'the two doubles must differ before loading');
    const file = path.join(tmp.dir, 'a.h5');
    await saveKerasH5Weights(a, file);
    const contents = await readKerasH5(file, { onlyShapes: true });
    assert.deepEqual(contents.layerNames, a.layers.map((l) => l.name));
    assert.equal(contents.kerasVersion, '2.7.0');
    const byName = Object.fromEntries(contents.layers.map((l) => [l.name, l.weights.map((w) => w.name)]));
    assert.deepEqual(byName['conv1/bn'], ['conv1/bn/gamma:0', 'conv1/bn/beta:0', 'conv1/bn/moving_mean:0', 'conv1/bn/moving_variance:0']);
    assert.deepEqual(byName['bn_noscale'], ['bn_noscale/moving_mean:0', 'bn_noscale/moving_variance:0']);
    assert.deepEqual(byName['sep'], ['sep/depthwise_kernel:0', 'sep/pointwise_kernel:0', 'sep/bias:0']);
    assert.deepEqual(byName['dw'], ['dw/depthwise_kernel:0']);
    assert.equal(byName['flatten'], undefined, 'weightless layers are listed but not matched');

    const report = await loadKerasH5Weights(b, file);
    assert.equal(report.layers, 6);
    assert.equal(report.weights, 2 + 4 + 1 + 3 + 2 + 2);
    assert.equal(maxAbsDiff(outputOf(a), outputOf(b)), 0);
    for (let i = 0; i < a.layers.length; i++) {
      a.layers[i].getWeights().forEach((w, j) => assert.equal(maxAbsDiff(w.dataSync(), b.layers[i].getWeights()[j].dataSync()), 0));
    }
  });

  it('assigns the same order into frozen layers (tfjs lists a frozen BN as gamma, beta, moving_mean, moving_variance)', async () => {
    const a = tinyModel(3);
    const b = tinyModel(4);
    b.layers.forEach((l) => (l.trainable = false));
    const file = path.join(tmp.dir, 'frozen.h5');
    await saveKerasH5Weights(a, file);
    await loadKerasH5Weights(b, file);
    assert.equal(maxAbsDiff(outputOf(a), outputOf(b)), 0);
  });

  it('reads Keras-1 style weight names (block1_conv1_W_1:0)', async () => {
    const a = tinyModel(5);
    const b = tinyModel(6);
    const file = path.join(tmp.dir, 'k1.h5');
    await saveKerasH5Weights(a, file, { style: 'keras1' });
    const names = (await readKerasH5(file, { onlyShapes: true })).layers.flatMap((l) => l.weights.map((w) => w.name));
    assert.ok(names.includes('conv1/conv_W_1:0') && names.includes('conv1/bn_running_std_1:0'), names.join(' '));
    await loadKerasH5Weights(b, file);
    assert.equal(maxAbsDiff(outputOf(a), outputOf(b)), 0);
  });

  it('reads a layer_names attribute split into layer_names0..k', async () => {
    const a = tinyModel(7);
    const b = tinyModel(8);
    const file = path.join(tmp.dir, 'split.h5');
    await saveKerasH5Weights(a, file, { maxAttrBytes: 40 });
    const h5 = await loadH5wasm();
    const f = new h5.File(file, 'r');
    const keys = Object.keys(f.attrs);
    f.close();
    assert.ok(!keys.includes('layer_names') && keys.includes('layer_names0') && keys.includes('layer_names2'), keys.join(' '));
    assert.deepEqual((await readKerasH5(file, { onlyShapes: true })).layerNames, a.layers.map((l) => l.name));
    await loadKerasH5Weights(b, file);
    assert.equal(maxAbsDiff(outputOf(a), outputOf(b)), 0);
  });

  it('reads Keras-3 legacy files (no ":0", input layer named input_layer) and loads by position', async () => {
    const a = tinyModel(9);
    const b = tinyModel(10, { prefix: 'other_' });
    const layers: H5Layer[] = a.layers.map((l) => ({
      name: l.getClassName() === 'InputLayer' ? 'input_layer' : l.name,
      weights: l.weights.map((w) => ({ name: w.originalName, shape: w.shape as number[], data: w.read().dataSync() as Float32Array })),
    }));
    const file = path.join(tmp.dir, 'k3.h5');
    await writeKerasH5(file, layers, { style: 'keras3' });
    const report = await loadKerasH5Weights(b, file);
    assert.equal(report.renamed.length, 6);
    assert.deepEqual(report.renamed[0], { file: 'conv1/conv', model: 'other_conv1/conv' });
    assert.equal(maxAbsDiff(outputOf(a), outputOf(b)), 0);
  });

  it('names the first mismatching layer, weight and shapes, and leaves the model unchanged', async () => {
    const file = path.join(tmp.dir, 'shape.h5');
    await saveKerasH5Weights(tinyModel(11), file);
    const b = tinyModel(12, { filters: 6 });
    const before = outputOf(b);
    await assert.rejects(
      loadKerasH5Weights(b, file),
      (err: Error) => {
        assert.match(err.message, /Weight shape mismatch loading .*shape\.h5: file layer 'conv1\/conv' -> model layer 'conv1\/conv' \(Conv2D, layer #0 with weights\), weight #0: model weight 'conv1\/conv\/kernel' expects \[3, 3, 3, 6\], file weight 'conv1\/conv\/kernel:0' has \[3, 3, 3, 4\]/);
        return true;
      },
    );
    assert.equal(maxAbsDiff(before, outputOf(b)), 0);
  });

  it('reports a layer-count mismatch with both counts', async () => {
    const file = path.join(tmp.dir, 'count.h5');
    await saveKerasH5Weights(tinyModel(13), file);
    await assert.rejects(
      loadKerasH5Weights(tinyModel(14, { extraDense: true }), file),
      /Layer count mismatch loading .*count\.h5 into model 'tiny14': the file has 6 layers with weights, the model has 7; model layers from position 6 on are missing in the file, first 'dense_extra'/,
    );
  });

  it('reports a weight-count mismatch within a layer', async () => {
    const a = tinyModel(15);
    const layers: H5Layer[] = a.layers.map((l) => ({
      name: l.name,
      weights: l.weights.slice(0, l.name === 'dense' ? 1 : undefined).map((w) => ({ name: `${w.originalName}:0`, shape: w.shape as number[], data: w.read().dataSync() as Float32Array })),
    }));
    const file = path.join(tmp.dir, 'wcount.h5');
    await writeKerasH5(file, layers);
    await assert.rejects(loadKerasH5Weights(tinyModel(16), file), /Weight count mismatch .*file layer 'dense' -> model layer 'dense' \(Dense.*the file has 1 weights \(dense\/kernel:0\), the model layer has 2/);
  });

  it('rejects files that are not HDF5 or not Keras weights, naming the file', async () => {
    const bad = path.join(tmp.dir, 'bad.h5');
    fs.writeFileSync(bad, 'not an hdf5 file at all');
    await assert.rejects(loadKerasH5Weights(tinyModel(17), bad), /Keras weights file .*bad\.h5 is not an HDF5 file/);
    await assert.rejects(loadKerasH5Weights(tinyModel(17), path.join(tmp.dir, 'absent.h5')), /Keras weights file .*absent\.h5 cannot be opened/);
    const h5 = await loadH5wasm();
    const other = path.join(tmp.dir, 'other.h5');
    const f = new h5.File(other, 'w');
    f.create_attribute('hello', 'world');
    f.close();
    await assert.rejects(loadKerasH5Weights(tinyModel(17), other), /other\.h5 has no root attribute 'layer_names'/);
  });

  it('a truncated or corrupt .h5 gives one error naming the file and the fault, and nothing on stderr (no HDF5-DIAG dump)', async () => {
    const good = path.join(tmp.dir, 'whole.h5');
    await saveKerasH5Weights(tinyModel(18), good);
    const bytes = fs.readFileSync(good);
    const truncated = path.join(tmp.dir, 'truncated.h5');
    fs.writeFileSync(truncated, bytes.subarray(0, bytes.length >> 1));
    const corrupt = path.join(tmp.dir, 'corrupt.h5');
    const garbled = Buffer.from(bytes);
    garbled.fill(0x55, 100, 400); // object headers and B-tree nodes right after the superblock
    fs.writeFileSync(corrupt, garbled);

    // Everything written to stderr meanwhile, by either route h5wasm could take.
    const nodeFs = require('fs') as { writeSync: (...a: unknown[]) => number };
    const stderr = process.stderr as unknown as { write: (...a: unknown[]) => boolean };
    const [writeSync, write] = [nodeFs.writeSync, stderr.write];
    let printed = '';
    nodeFs.writeSync = (fd: unknown, data: unknown, ...rest: unknown[]) => {
      if (fd === 2) printed += String(data);
      return writeSync.call(nodeFs, fd, data, ...rest);
    };
    stderr.write = (chunk: unknown, ...rest: unknown[]) => {
      printed += String(chunk);
      return write.call(process.stderr, chunk, ...rest);
    };
    try {
      await assert.rejects(
        loadKerasH5Weights(tinyModel(19), truncated),
        new RegExp(`^Error: Keras weights file ${truncated.replace(/[.\\/]/g, '\\$&')} is truncated: ${bytes.length >> 1} bytes, but its HDF5 superblock declares ${bytes.length} \\(an interrupted copy or download\\?\\)$`),
      );
      await assert.rejects(loadKerasH5Weights(tinyModel(19), corrupt), (e: Error) => {
        assert.match(e.message, new RegExp(`^HDF5 file ${corrupt.replace(/[.\\/]/g, '\\$&')} cannot be read: .+`));
        assert.equal(e.message.split('\n').length, 1);
        assert.doesNotMatch(e.message, /name not defined/);
        return true;
      });
    } finally {
      nodeFs.writeSync = writeSync;
      stderr.write = write;
    }
    assert.equal(printed, '');
  });

  it('writes atomically: a failing write leaves no file behind', async () => {
    const dir = path.join(tmp.dir, 'atomic');
    fs.mkdirSync(dir);
    const w = { name: 'k:0', shape: [2], data: new Float32Array(2) };
    await assert.rejects(writeKerasH5(path.join(dir, 'dup.h5'), [{ name: 'a', weights: [w] }, { name: 'a', weights: [w] }]), /duplicate layer name 'a'/);
    assert.deepEqual(fs.readdirSync(dir), []);
  });
});
