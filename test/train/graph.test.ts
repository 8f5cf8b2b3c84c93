import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { frozenLayerCount } from '../../lib/backbones/transfer';
import { foldBatchNorm, splitModel, attachHead, modelNodes } from '../../lib/train/graph';
import { describeOnBackends } from '../support/backends';
import { tinyBackbone, sampleInput, maxAbsDiff } from './helpers';

describeOnBackends('train/graph', function () {

  it('foldBatchNorm gives the same outputs with fewer BN layers', () => {
    const m = tinyBackbone();
    const x = sampleInput(4);
    const ref = (m.predict(x) as tf.Tensor).dataSync();
    const { model: f, folded } = foldBatchNorm(m);
    assert.equal(folded, 4);
    assert.equal(f.layers.filter((l) => l.getClassName() === 'BatchNormalization').length, 0);
    const out = (f.predict(x) as tf.Tensor).dataSync();
    assert.ok(maxAbsDiff(ref, out) < 1e-4, `max diff ${maxAbsDiff(ref, out)}`);
  });

  it('does not fold a BN whose conv output has another consumer', () => {
    const x = tf.input({ shape: [8, 8, 2] });
    const c = tf.layers.conv2d({ filters: 2, kernelSize: 1, name: 'c' }).apply(x) as tf.SymbolicTensor;
    const b = tf.layers.batchNormalization({ name: 'b' }).apply(c) as tf.SymbolicTensor;
    const s = tf.layers.add().apply([c, b]) as tf.SymbolicTensor;
    const { folded } = foldBatchNorm(tf.model({ inputs: x, outputs: s }));
    assert.equal(folded, 0);
  });

  it('prefix + suffix reproduce the whole model; the cut crosses with several tensors', () => {
    const base = tinyBackbone();
    const dense = tf.layers.dense({ units: 3, name: 'dense', kernelInitializer: tf.initializers.glorotUniform({ seed: 9 }) });
    const whole = attachHead(base, { dense });
    // Freeze the first 60 % of the base's layers (the paper's rule), input layer included.
    const k = frozenLayerCount(base.layers.length);
    const frozen = new Set(base.layers.slice(0, k).map((l) => l.name));
    const split = splitModel(whole, (l) => frozen.has(l.name));
    assert.ok(split.cut.length >= 2, `cut tensors: ${split.cut.map((c) => c.name)}`);
    const x = sampleInput(5);
    const ref = (whole.predict(x) as tf.Tensor).dataSync();
    const acts = split.prefix.predict(x);
    const out = (split.suffix.predict(acts) as tf.Tensor).dataSync();
    assert.ok(maxAbsDiff(ref, out) < 1e-5);
    // The suffix shares the trainable layers' weights with the whole model.
    assert.ok(split.suffix.layers.some((l) => l === dense));
    assert.equal(modelNodes(split.suffix).length, whole.layers.length - k);
  });
});

describeOnBackends('train/graph on real backbone builders (random init, 32 x 32)', function () {
  this.timeout(120000);
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const build = (n: string) => (require('../../lib/backbones') as { buildBackbone: (n: string, a: object) => tf.LayersModel }).buildBackbone(n, { inputSize: 32, seed: 3 });

  for (const name of ['MobileNetV2', 'ResNet50']) {
    it(`${name}: foldBatchNorm keeps the outputs`, () => {
      const m = build(name);
      const x = sampleInput(2, 32).mul(2).sub(1);
      const ref = (m.predict(x) as tf.Tensor).dataSync();
      const { model: f, folded } = foldBatchNorm(m);
      assert.ok(folded > 10);
      const out = (f.predict(x) as tf.Tensor).dataSync();
      const scale = Math.max(...Array.from(ref, Math.abs));
      assert.ok(maxAbsDiff(ref, out) < 1e-3 * Math.max(1, scale), `max diff ${maxAbsDiff(ref, out)} (scale ${scale})`);
    });
  }

  it('DenseNet121: the 60 % cut crosses with several tensors and prefix + suffix = whole', () => {
    const base = build('DenseNet121');
    const whole = attachHead(base, { dense: tf.layers.dense({ units: 3, name: 'dense' }) });
    const k = frozenLayerCount(base.layers.length);
    const frozen = new Set(base.layers.slice(0, k));
    const split = splitModel(whole, (l) => frozen.has(l));
    assert.ok(split.cut.length >= 2, `cut: ${split.cut.map((c) => c.name).join(', ')}`);
    const x = sampleInput(2, 32).mul(2).sub(1);
    const ref = (whole.predict(x) as tf.Tensor).dataSync();
    const out = (split.suffix.predict(split.prefix.predict(x)) as tf.Tensor).dataSync();
    assert.ok(maxAbsDiff(ref, out) < 1e-4);
  });
});
