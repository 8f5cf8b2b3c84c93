import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as tf from '@tensorflow/tfjs';
import { describeOnBackends } from '../support/backends';
import { buildBackbone } from '../../lib/backbones';
import { compileForBackend, compileInference, compileInferenceGraph, GraphUnsupportedError } from '../../lib/accel';
import { COMPILE_CASES, randomizeBatchNorms, relMaxError, sampleBatch } from '../support/tensors';

const graphDirs = () => fs.readdirSync(os.tmpdir()).filter((d) => d.startsWith('pet-iqa-graph-')).length;

describeOnBackends('accel/compileInferenceGraph', function (backend) {
  this.timeout(300000);

  if (backend === 'wasm') {
    it('is native-only: rejects with GraphUnsupportedError, and compileForBackend runs compileInference instead', async () => {
      const x = tf.input({ shape: [4, 4, 2] });
      const model = tf.model({ inputs: x, outputs: tf.layers.conv2d({ filters: 2, kernelSize: 1 }).apply(x) as tf.SymbolicTensor });
      await assert.rejects(compileInferenceGraph(model), (err: Error) => err instanceof GraphUnsupportedError && /needs the native TensorFlow backend.*not wasm/.test(err.message));
      const fn = await compileForBackend(model);
      assert.equal(fn.summary.graphNodes, undefined);
      fn.dispose();
      model.dispose();
    });
    return;
  }

  // compileInference's networks (every rewrite written as graph ops somewhere) and Xception's separable convs.
  for (const [name, size] of [...COMPILE_CASES, ['Xception', 80] as [string, number]]) {
    it(`${name}: one TensorFlow graph equal to model.predict (relative max error < 1e-4), no files left`, async () => {
      const model = buildBackbone(name, { inputSize: size, seed: 3 });
      randomizeBatchNorms(model, 7);
      const x = sampleBatch(2, size, 11);
      const ref = model.predict(x) as tf.Tensor;
      const dirs = graphDirs();
      const fn = await compileInferenceGraph(model);
      assert.equal(graphDirs(), dirs, 'the SavedModel folder is removed once loaded');
      const eager = compileInference(model);
      // Every step became ops: more graph nodes than steps (weights are constants).
      assert.ok((fn.summary.graphNodes ?? 0) > fn.summary.steps, JSON.stringify(fn.summary));
      assert.equal(fn.summary.steps, eager.summary.steps);
      const y = fn(x);
      assert.deepEqual(y.shape, ref.shape);
      const err = relMaxError(ref.dataSync() as Float32Array, y.dataSync() as Float32Array);
      assert.ok(err < 1e-4, `relative max error ${err}`);
      tf.dispose([x, ref, y]);
      const before = tf.memory().numTensors;
      const z = fn(sampleBatch(3, size, 12));
      assert.equal(z.shape[0], 3, 'the batch dimension is free');
      tf.dispose(z);
      assert.ok(tf.memory().numTensors <= before + 1);
      fn.dispose();
      eager.dispose();
      model.dispose();
    });
  }

  it('runAll gives every output of a two-output model, in model order', async () => {
    const x = tf.input({ shape: [6, 6, 2] });
    const a = tf.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }).apply(x) as tf.SymbolicTensor;
    const b = tf.layers.maxPooling2d({ poolSize: 2 }).apply(a) as tf.SymbolicTensor;
    const c = tf.layers.globalAveragePooling2d({}).apply(a) as tf.SymbolicTensor;
    const model = tf.model({ inputs: x, outputs: [b, c] });
    const fn = await compileInferenceGraph(model);
    const inp = sampleBatch(2, 6, 5, 2);
    const want = model.predict(inp) as tf.Tensor[];
    const got = fn.runAll([inp]);
    assert.deepEqual(got.map((t) => t.shape), [[2, 3, 3, 3], [2, 3]]);
    got.forEach((t, i) => assert.ok(relMaxError(want[i].dataSync() as Float32Array, t.dataSync() as Float32Array) < 1e-6));
    assert.throws(() => fn(inp), /2 outputs; use runAll/);
    fn.dispose();
    model.dispose();
  });

  it('names the layers it cannot write as graph ops; compileForBackend then runs compileInference', async () => {
    const x = tf.input({ shape: [6, 6, 3] });
    let h = tf.layers.conv2d({ filters: 4, kernelSize: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }).apply(x) as tf.SymbolicTensor;
    h = tf.layers.leakyReLU({ alpha: 0.2, name: 'leaky' }).apply(h) as tf.SymbolicTensor;
    const model = tf.model({ inputs: x, outputs: h });
    await assert.rejects(compileInferenceGraph(model), (err: Error) => err instanceof GraphUnsupportedError && /no graph ops for leaky/.test(err.message));
    const fn = await compileForBackend(model);
    assert.equal(fn.summary.graphNodes, undefined);
    assert.deepEqual(fn.summary.fallbacks, { LeakyReLU: 1 });
    const inp = sampleBatch(2, 6, 8);
    assert.ok(relMaxError((model.predict(inp) as tf.Tensor).dataSync() as Float32Array, fn(inp).dataSync() as Float32Array) < 1e-5);
    const graphFn = await compileForBackend(buildBackbone('MobileNetV3Small', { inputSize: 32 }));
    assert.ok((graphFn.summary.graphNodes ?? 0) > 0, 'a backbone runs as a graph by default on native');
    graphFn.dispose();
    const optedOut = await compileForBackend(buildBackbone('MobileNetV3Small', { inputSize: 32 }), { graph: false });
    assert.equal(optedOut.summary.graphNodes, undefined);
    optedOut.dispose();
    fn.dispose();
    model.dispose();
  });
});
