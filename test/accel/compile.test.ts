import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { describeOnBackends } from '../support/backends';
import { buildBackbone } from '../../lib/backbones';
import { compileInference } from '../../lib/accel';
import { igemmUnavailableReason } from '../../lib/backend/wasm-igemm';
import { COMPILE_CASES, randomizeBatchNorms, relMaxError, sampleBatch } from '../support/tensors';

describeOnBackends('accel/compileInference', () => {

  for (const [name, size] of COMPILE_CASES) {
    it(`${name}: equals model.predict (relative max error < 1e-4)`, () => {
      const model = buildBackbone(name, { inputSize: size, seed: 3 });
      randomizeBatchNorms(model, 7);
      const x = sampleBatch(2, size, 11);
      const ref = model.predict(x) as tf.Tensor;
      const fn = compileInference(model);
      // The first call builds the convolutions' indirection tables (kept for later calls of that
      // input shape); after it, only the output survives a call.
      tf.dispose(fn(x));
      const before = tf.memory().numTensors;
      const y = fn(x);
      assert.equal(tf.memory().numTensors, before + 1);
      assert.deepEqual(y.shape, ref.shape);
      const err = relMaxError(ref.dataSync() as Float32Array, y.dataSync() as Float32Array);
      assert.ok(err < 1e-4, `relative max error ${err}`);
      const sm = fn.summary;
      if (name !== 'VGG16') assert.ok(sm.foldedBatchNorms > 0, JSON.stringify(sm));
      // Every layer of the backbones maps to ops; each rewrite is exercised by at least one network:
      // DenseNet's standalone BN + relu, MobileNetV2's ZeroPadding2D before stride-2 depthwise convs.
      assert.deepEqual(sm.fallbacks, {});
      if (name === 'DenseNet121') assert.ok(sm.standaloneBatchNorms > 0, JSON.stringify(sm));
      if (name === 'MobileNetV2') assert.ok(sm.foldedPaddings >= 4, JSON.stringify(sm));
      // On wasm every dense convolution runs the indirect-GEMM kernel (VGG16: 13 convolutions).
      if (tf.getBackend() === 'wasm') {
        const convs = model.layers.filter((l) => l.getClassName() === 'Conv2D' || l.getClassName() === 'SeparableConv2D').length;
        assert.equal(sm.igemmConvolutions, convs);
        if (name === 'VGG16') assert.equal(convs, 13);
      }
      tf.dispose([x, ref, y]);
      const left = tf.memory().numTensors;
      fn.dispose();
      assert.ok(tf.memory().numTensors < left, 'dispose releases the packed weights and tables');
      model.dispose();
    });
  }

  it('folds BN and fuses relu in ResNet50; runs no layer through the fallback', () => {
    const model = buildBackbone('ResNet50', { inputSize: 32 });
    const fn = compileInference(model);
    const bns = model.layers.filter((l) => l.getClassName() === 'BatchNormalization').length;
    assert.equal(fn.summary.foldedBatchNorms, bns);
    assert.ok(fn.summary.fusedActivations >= 33, JSON.stringify(fn.summary));
    assert.deepEqual(fn.summary.fallbacks, {});
    fn.dispose();
    model.dispose();
  });

  it('igemm: false keeps every convolution on tf ops, with the same outputs as the default', function () {
    const x = tf.input({ shape: [8, 8, 3] });
    const c = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }).apply(x) as tf.SymbolicTensor;
    const model = tf.model({ inputs: x, outputs: c });
    const plain = compileInference(model, { igemm: false });
    const auto = compileInference(model);
    assert.equal(plain.summary.igemmConvolutions, 0);
    // The default uses the kernel exactly when the backend is wasm and it compiles.
    assert.equal(auto.summary.igemmConvolutions, igemmUnavailableReason() === null ? 1 : 0);
    const inp = sampleBatch(2, 8, 9);
    const err = relMaxError(plain(inp).dataSync() as Float32Array, auto(inp).dataSync() as Float32Array);
    assert.ok(err < 1e-5, `relative max error ${err}`);
    plain.dispose();
    auto.dispose();
    model.dispose();
  });

  it('keeps the BN unfolded when the conv output has another consumer', () => {
    const x = tf.input({ shape: [6, 6, 2] });
    const c = tf.layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }).apply(x) as tf.SymbolicTensor;
    const b = tf.layers.batchNormalization({ movingMeanInitializer: 'ones', movingVarianceInitializer: tf.initializers.constant({ value: 2 }) }).apply(c) as tf.SymbolicTensor;
    const r = tf.layers.reLU({ maxValue: 6 }).apply(b) as tf.SymbolicTensor;
    const s = tf.layers.add().apply([c, r]) as tf.SymbolicTensor;
    const model = tf.model({ inputs: x, outputs: s });
    const fn = compileInference(model);
    assert.equal(fn.summary.foldedBatchNorms, 0);
    assert.equal(fn.summary.standaloneBatchNorms, 1);
    const inp = sampleBatch(2, 6, 5).slice([0, 0, 0, 0], [2, 6, 6, 2]);
    const err = relMaxError((model.predict(inp) as tf.Tensor).dataSync() as Float32Array, fn(inp).dataSync() as Float32Array);
    assert.ok(err < 1e-5, `relative max error ${err}`);
  });

  it('runs layers it has no rewrite for through layer.apply (inference mode)', () => {
    const x = tf.input({ shape: [6, 6, 3] });
    let h = tf.layers.conv2d({ filters: 4, kernelSize: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }).apply(x) as tf.SymbolicTensor;
    h = tf.layers.leakyReLU({ alpha: 0.2 }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.dropout({ rate: 0.5 }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.flatten().apply(h) as tf.SymbolicTensor;
    const y = tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }).apply(h) as tf.SymbolicTensor;
    const model = tf.model({ inputs: x, outputs: y });
    const fn = compileInference(model);
    assert.deepEqual(fn.summary.fallbacks, { LeakyReLU: 1, Dense: 1 });
    const inp = sampleBatch(3, 6, 8);
    const err = relMaxError((model.predict(inp) as tf.Tensor).dataSync() as Float32Array, fn(inp).dataSync() as Float32Array);
    assert.ok(err < 1e-5, `relative max error ${err}`);
  });
});
