import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import {
  CustomScaleLayer,
  KerasGlobalAveragePooling2D,
  KerasNames,
  TFOpLambda,
  correctPad,
  depthwiseConv2d,
  globalAveragePooling2d,
  layerSignature,
  tfOpAdd,
  tfOpMultiply,
} from '../../lib/backbones/layers';

function close(actual: ArrayLike<number>, expected: number[], tol = 1e-6): void {
  assert.strictEqual(actual.length, expected.length, `length ${actual.length} != ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `[${i}] ${actual[i]} != ${expected[i]}`);
  }
}

describe('backbones/layers', () => {
  before(async () => {
    await tf.setBackend('cpu');
  });

  describe('KerasNames', () => {
    it('numbers each prefix from zero without suffix, as a fresh tf.keras session does', () => {
      const n = new KerasNames();
      assert.deepStrictEqual(
        [n.next('conv2d'), n.next('conv2d'), n.next('re_lu'), n.next('conv2d'), n.next('re_lu')],
        ['conv2d', 'conv2d_1', 're_lu', 'conv2d_2', 're_lu_1'],
      );
    });
  });

  describe('TFOpLambda', () => {
    it('adds and multiplies by a constant (hand values)', () => {
      const x = tf.tensor1d([1, -2, 4.5]);
      close((new TFOpLambda({ op: 'add', y: 3 }).apply(x) as tf.Tensor).dataSync(), [4, 1, 7.5]);
      close((new TFOpLambda({ op: 'multiply', y: 1 / 6 }).apply(x) as tf.Tensor).dataSync(), [1 / 6, -2 / 6, 0.75]);
    });

    it('is named like tf.keras 2.7 TFOpLambda layers, one counter per symbol', () => {
      const n = new KerasNames();
      const names = [tfOpAdd(3, n), tfOpMultiply(1 / 6, n), tfOpAdd(3, n), tfOpMultiply(1 / 6, n)].map((l) => l.name);
      assert.deepStrictEqual(names, ['tf.__operators__.add', 'tf.math.multiply', 'tf.__operators__.add_1', 'tf.math.multiply_1']);
    });

    it('rejects an unknown op and a non-finite constant', () => {
      assert.throws(() => new TFOpLambda({ op: 'sub' as 'add', y: 1 }), /op must be one of add, multiply/);
      assert.throws(() => new TFOpLambda({ op: 'add', y: NaN }), /finite/);
    });

    it('passes gradients: d/dx [(x + 3) * (1/6)] = 1/6', () => {
      const add = new TFOpLambda({ op: 'add', y: 3 });
      const mul = new TFOpLambda({ op: 'multiply', y: 1 / 6 });
      const g = tf.grad((x: tf.Tensor) => (mul.apply(add.apply(x) as tf.Tensor) as tf.Tensor).sum())(tf.tensor1d([0.5, -7]));
      close(g.dataSync(), [1 / 6, 1 / 6]);
    });
  });

  describe('CustomScaleLayer', () => {
    it('computes inputs[0] + inputs[1] * scale (hand values)', () => {
      const layer = new CustomScaleLayer({ scale: 0.17, name: 'block35_1' });
      const y = layer.apply([tf.tensor1d([1, 2]), tf.tensor1d([10, -20])]) as tf.Tensor;
      close(y.dataSync(), [2.7, -1.4], 1e-6);
      assert.strictEqual(layer.name, 'block35_1');
      assert.strictEqual(layer.countParams(), 0);
    });

    it('passes gradients: 1 to the shortcut, scale to the residual', () => {
      const layer = new CustomScaleLayer({ scale: 0.2 });
      const [ga, gb] = tf.grads((a: tf.Tensor, b: tf.Tensor) => (layer.apply([a, b]) as tf.Tensor).sum())([
        tf.tensor1d([3, 4]),
        tf.tensor1d([5, 6]),
      ]);
      close(ga.dataSync(), [1, 1]);
      close(gb.dataSync(), [0.2, 0.2]);
    });

    it('rejects mismatched shapes symbolically', () => {
      const a = tf.input({ shape: [4, 4, 8] });
      const b = tf.input({ shape: [4, 4, 9] });
      assert.throws(() => new CustomScaleLayer({ scale: 1 }).apply([a, b]), /input shapes differ/);
    });
  });

  describe('GlobalAveragePooling2D keepdims', () => {
    // [1, 2, 2, 2]: channel 0 = 1, 2, 3, 4 (mean 2.5); channel 1 = 10, 20, 30, 40 (mean 25).
    const x = () => tf.tensor4d([1, 10, 2, 20, 3, 30, 4, 40], [1, 2, 2, 2]);

    it('keeps the pooled axes with keepdims (hand values)', () => {
      const y = globalAveragePooling2d({ keepdims: true }).apply(x()) as tf.Tensor;
      assert.deepStrictEqual(y.shape, [1, 1, 1, 2]);
      close(y.dataSync(), [2.5, 25]);
    });

    it('drops them without (the stock behaviour)', () => {
      const y = globalAveragePooling2d().apply(x()) as tf.Tensor;
      assert.deepStrictEqual(y.shape, [1, 2]);
      close(y.dataSync(), [2.5, 25]);
    });

    it('infers the symbolic shape and passes gradients 1/(H W)', () => {
      const s = globalAveragePooling2d({ keepdims: true }).apply(tf.input({ shape: [5, 7, 3] })) as tf.SymbolicTensor;
      assert.deepStrictEqual(s.shape, [null, 1, 1, 3]);
      const gap = globalAveragePooling2d({ keepdims: true });
      const g = tf.grad((t: tf.Tensor) => (gap.apply(t) as tf.Tensor).sum())(x());
      close(g.dataSync(), new Array(8).fill(0.25));
    });
  });

  describe('serialisation', () => {
    it('round-trips a model with every custom layer through model.json, same names and outputs', async () => {
      const n = new KerasNames();
      const input = tf.input({ shape: [3, 3, 2], name: 'input_1' });
      let x = tfOpAdd(3, n).apply(input) as tf.SymbolicTensor;
      x = tf.layers.reLU({ maxValue: 6, name: 're_lu' }).apply(x) as tf.SymbolicTensor;
      x = tfOpMultiply(1 / 6, n).apply(x) as tf.SymbolicTensor;
      const hs = tf.layers.multiply({ name: 'multiply' }).apply([input, x]) as tf.SymbolicTensor;
      const sc = new CustomScaleLayer({ scale: 0.17, name: 'block35_1' }).apply([input, hs]) as tf.SymbolicTensor;
      const out = globalAveragePooling2d({ keepdims: true, name: 'global_average_pooling2d' }).apply(sc) as tf.SymbolicTensor;
      const model = tf.model({ inputs: input, outputs: out });

      const json = model.toJSON(undefined, false) as object;
      const restored = await tf.models.modelFromJSON(json as Parameters<typeof tf.models.modelFromJSON>[0]);
      assert.deepStrictEqual(
        restored.layers.map((l) => l.name),
        ['input_1', 'tf.__operators__.add', 're_lu', 'tf.math.multiply', 'multiply', 'block35_1', 'global_average_pooling2d'],
      );
      const restoredOps = restored.layers.filter((l) => l instanceof TFOpLambda) as TFOpLambda[];
      assert.deepStrictEqual(restoredOps.map((l) => [l.op, l.y]), [['add', 3], ['multiply', 1 / 6]]);
      const gap = restored.layers[6];
      assert.ok(gap instanceof KerasGlobalAveragePooling2D && gap.keepdims);
      assert.strictEqual((restored.layers[5] as CustomScaleLayer).scale, 0.17);

      const data = tf.tensor4d(Array.from({ length: 18 }, (_, i) => i - 9), [1, 3, 3, 2]);
      const a = model.predict(data) as tf.Tensor;
      const b = restored.predict(data) as tf.Tensor;
      assert.deepStrictEqual(b.shape, [1, 1, 1, 2]);
      close(b.dataSync(), Array.from(a.dataSync()));
      // Hand check of one channel: x + 0.17 * hard_swish(x), averaged over the 9 positions.
      const hsw = (v: number) => (v * Math.min(6, Math.max(0, v + 3))) / 6;
      const ch0 = [-9, -7, -5, -3, -1, 1, 3, 5, 7].map((v) => v + 0.17 * hsw(v));
      close([b.dataSync()[0]], [ch0.reduce((s, v) => s + v, 0) / 9], 1e-5);
    });
  });

  describe('helpers', () => {
    it('correctPad equals Keras imagenet_utils.correct_pad', () => {
      // Even size: one less on top/left; odd size: symmetric.
      assert.deepStrictEqual(correctPad([40, 40], 3), [[0, 1], [0, 1]]);
      assert.deepStrictEqual(correctPad([41, 41], 3), [[1, 1], [1, 1]]);
      assert.deepStrictEqual(correctPad([20, 21], 5), [[1, 2], [2, 2]]);
      assert.deepStrictEqual(correctPad([null, null], 5), [[1, 2], [1, 2]]);
    });

    it('depthwiseConv2d draws its kernel from the seed and the layer name', () => {
      const kernel = (seed: number, name: string) => {
        const l = depthwiseConv2d(seed, { name, kernelSize: 3, useBias: false });
        l.apply(tf.input({ shape: [5, 5, 4] }));
        return Array.from(l.getWeights()[0].dataSync());
      };
      assert.deepStrictEqual(kernel(7, 'conv_dw_1'), kernel(7, 'conv_dw_1'));
      assert.notDeepStrictEqual(kernel(7, 'conv_dw_1'), kernel(8, 'conv_dw_1'));
      assert.notDeepStrictEqual(kernel(7, 'conv_dw_1'), kernel(7, 'conv_dw_2'));
    });

    it('layerSignature lists names and weight shapes in layer order', () => {
      const input = tf.input({ shape: [4, 4, 3], name: 'input_1' });
      const y = depthwiseConv2d(1, { name: 'dw', kernelSize: 3, useBias: true }).apply(input) as tf.SymbolicTensor;
      assert.deepStrictEqual(layerSignature(tf.model({ inputs: input, outputs: y })), ['input_1\t', 'dw\t3x3x3x1;3']);
    });
  });
});
