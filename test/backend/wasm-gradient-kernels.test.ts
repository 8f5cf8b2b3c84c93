import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { composeKernel, KernelScope, registerWasmGradientKernels } from '../../lib/backend';
import { normalValues, onBackend, relativeError, useWasmBackend } from './helpers';

type Pad = 'same' | 'valid';
const TOL = 1e-5;

interface Case {
  stride: number;
  pad: Pad;
  k: number;
  m: number;
}

function cases(): Case[] {
  const out: Case[] = [];
  for (const stride of [1, 2]) for (const pad of ['same', 'valid'] as Pad[]) for (const k of [1, 3, 5]) for (const m of [1, 2]) out.push({ stride, pad, k, m });
  return out;
}

/** Forward output size of one axis. */
function outSize(n: number, k: number, s: number, pad: Pad): number {
  return pad === 'same' ? Math.ceil(n / s) : Math.floor((n - k) / s) + 1;
}

async function compare(kernel: string, build: () => { inputs: Record<string, tf.Tensor>; attrs: Record<string, unknown> }) {
  const run = () => {
    const { inputs, attrs } = build();
    return tf.engine().runKernel(kernel, inputs as tf.NamedTensorMap, attrs as tf.NamedAttrMap) as tf.Tensor;
  };
  const cpu = await onBackend('cpu', run);
  await tf.setBackend('wasm');
  const before = tf.memory().numTensors;
  // Intermediates made inside a composed kernel are backend data the engine does not count as tensors.
  const buffersBefore = tf.engine().backend.numDataIds();
  const wasm = await onBackend('wasm', run);
  assert.equal(tf.memory().numTensors, before, `${kernel} leaked tensors`);
  assert.equal(tf.engine().backend.numDataIds(), buffersBefore, `${kernel} leaked wasm buffers`);
  assert.deepEqual(wasm.shape, cpu.shape);
  return relativeError(wasm.values, cpu.values);
}

describe('backend/wasm gradient kernels', function () {
  this.timeout(60000);
  useWasmBackend();
  const [N, H, W, C] = [2, 7, 9, 3];

  it('registers the three missing kernels (and the faster Conv2DBackpropInput) idempotently', () => {
    const first = registerWasmGradientKernels();
    const second = registerWasmGradientKernels();
    assert.deepEqual(first, second);
    for (const k of ['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropInput', 'DepthwiseConv2dNativeBackpropFilter', 'Conv2DBackpropInput']) {
      assert.ok(tf.getKernel(k, 'wasm'), k);
      assert.ok(first.includes(k), k);
    }
  });

  for (const { stride, pad, k, m } of cases()) {
    const label = `stride ${stride}, ${pad}, ${k}x${k}, multiplier ${m}`;
    const oh = outSize(H, k, stride, pad);
    const ow = outSize(W, k, stride, pad);
    const seed = stride * 1000 + k * 10 + m + (pad === 'same' ? 500 : 0);
    const x = () => tf.tensor4d(normalValues(N * H * W * C, seed), [N, H, W, C]);

    it(`Conv2DBackpropFilter matches cpu (${label})`, async () => {
      const co = C * m;
      const err = await compare('Conv2DBackpropFilter', () => ({
        inputs: { x: x(), dy: tf.tensor4d(normalValues(N * oh * ow * co, seed + 1), [N, oh, ow, co]) },
        attrs: { strides: [stride, stride], pad, dataFormat: 'NHWC', filterShape: [k, k, C, co] },
      }));
      assert.ok(err < TOL, `relative error ${err}`);
    });

    it(`Conv2DBackpropInput matches cpu (${label})`, async () => {
      const co = C * m;
      const err = await compare('Conv2DBackpropInput', () => ({
        inputs: {
          dy: tf.tensor4d(normalValues(N * oh * ow * co, seed + 2), [N, oh, ow, co]),
          filter: tf.tensor4d(normalValues(k * k * C * co, seed + 3), [k, k, C, co]),
        },
        attrs: { strides: [stride, stride], pad, dataFormat: 'NHWC', inputShape: [N, H, W, C] },
      }));
      assert.ok(err < TOL, `relative error ${err}`);
    });

    it(`DepthwiseConv2dNativeBackpropInput matches cpu (${label})`, async () => {
      const err = await compare('DepthwiseConv2dNativeBackpropInput', () => ({
        inputs: {
          dy: tf.tensor4d(normalValues(N * oh * ow * C * m, seed + 4), [N, oh, ow, C * m]),
          filter: tf.tensor4d(normalValues(k * k * C * m, seed + 5), [k, k, C, m]),
        },
        attrs: { strides: [stride, stride], pad, dilations: [1, 1], inputShape: [N, H, W, C] },
      }));
      assert.ok(err < TOL, `relative error ${err}`);
    });

    it(`DepthwiseConv2dNativeBackpropFilter matches cpu (${label})`, async () => {
      const err = await compare('DepthwiseConv2dNativeBackpropFilter', () => ({
        inputs: { x: x(), dy: tf.tensor4d(normalValues(N * oh * ow * C * m, seed + 6), [N, oh, ow, C * m]) },
        attrs: { strides: [stride, stride], pad, dilations: [1, 1], filterShape: [k, k, C, m] },
      }));
      assert.ok(err < TOL, `relative error ${err}`);
    });
  }

  for (const pad of [
    [[0, 0], [2, 0], [1, 3], [0, 0]],
    [[0, 0], [4, 1], [0, 5], [0, 0]],
  ]) {
    it(`handles explicit padding ${JSON.stringify(pad.slice(1, 3))} (as tfjs passes it) like cpu`, async () => {
      const [k, s, m] = [3, 2, 2];
      const oh = Math.floor((H + pad[1][0] + pad[1][1] - k) / s) + 1;
      const ow = Math.floor((W + pad[2][0] + pad[2][1] - k) / s) + 1;
      const x = () => tf.tensor4d(normalValues(N * H * W * C, 7), [N, H, W, C]);
      const dy = (ch: number, seed: number) => tf.tensor4d(normalValues(N * oh * ow * ch, seed), [N, oh, ow, ch]);
      const filter = (ch: number, seed: number) => tf.tensor4d(normalValues(k * k * C * ch, seed), [k, k, C, ch]);
      const common = { strides: [s, s], pad };
      const errs = [
        await compare('Conv2DBackpropFilter', () => ({ inputs: { x: x(), dy: dy(4, 8) }, attrs: { ...common, dataFormat: 'NHWC', filterShape: [k, k, C, 4] } })),
        await compare('Conv2DBackpropInput', () => ({ inputs: { dy: dy(4, 9), filter: filter(4, 10) }, attrs: { ...common, dataFormat: 'NHWC', inputShape: [N, H, W, C] } })),
        await compare('DepthwiseConv2dNativeBackpropFilter', () => ({ inputs: { x: x(), dy: dy(C * m, 11) }, attrs: { ...common, dilations: 1, filterShape: [k, k, C, m] } })),
        await compare('DepthwiseConv2dNativeBackpropInput', () => ({ inputs: { dy: dy(C * m, 12), filter: filter(m, 13) }, attrs: { ...common, dilations: 1, inputShape: [N, H, W, C] } })),
      ];
      assert.ok(errs.every((e) => e < TOL), `relative errors ${errs}`);
    });
  }

  it('KernelScope.flipSpatial reverses both filter axes (hand-checked) and leaves 1x1 filters alone', async () => {
    await tf.setBackend('wasm');
    const backend = tf.engine().backend;
    // [kh=2, kw=3, 1, 2]: tap (ky, kx) holds (10 ky + kx, -(10 ky + kx)); flipped, tap (ky, kx) holds tap (1-ky, 2-kx).
    const values: number[] = [];
    for (let ky = 0; ky < 2; ky++) for (let kx = 0; kx < 3; kx++) values.push(10 * ky + kx, -(10 * ky + kx));
    const f = tf.tensor4d(values, [2, 3, 1, 2]);
    const flipped = composeKernel(backend, 'wasm', 'test', (scope) => scope.flipSpatial(f));
    const out = tf.engine().makeTensorFromTensorInfo(flipped);
    assert.deepEqual(out.shape, [2, 3, 1, 2]);
    assert.deepEqual(Array.from(out.dataSync()), [12, -12, 11, -11, 10, -10, 2, -2, 1, -1, 0, -0]);
    const one = tf.tensor4d([1, 2, 3], [1, 1, 3, 1]);
    const scope = new KernelScope(backend, 'wasm', 'test');
    assert.equal(scope.flipSpatial(one), one);
    scope.release();
    tf.dispose([f, out, one]);
  });

  it('refuses dilations other than 1 with a clear error', async () => {
    await tf.setBackend('wasm');
    const dy = tf.zeros([1, 5, 5, 2]);
    const f = tf.zeros([3, 3, 2, 1]);
    assert.throws(
      () => tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter: f }, { strides: [1, 1], pad: 'same', dilations: [2, 2], inputShape: [1, 5, 5, 2] }),
      /DepthwiseConv2dNativeBackpropInput \(wasm\): dilations \[2, 2\] are not supported/,
    );
    assert.throws(
      () => tf.engine().runKernel('Conv2DBackpropFilter', { x: dy, dy }, { strides: 1, pad: 'same', dataFormat: 'NCHW', filterShape: [3, 3, 2, 2] }),
      /Conv2DBackpropFilter \(wasm\): dataFormat 'NCHW' is not supported/,
    );
    tf.dispose([dy, f]);
  });

  describe('gradients through tf.grad match cpu', () => {
    const gradCase = (name: string, f: (x: tf.Tensor4D, ...w: tf.Tensor4D[]) => tf.Tensor, ...wShapes: number[][]) =>
      it(name, async () => {
        const make = () => {
          const x = tf.tensor4d(normalValues(N * H * W * C, 21), [N, H, W, C]);
          const ws = wShapes.map((s, i) => tf.tensor4d(normalValues(s.reduce((a, b) => a * b), 22 + i), s as [number, number, number, number]));
          const loss = (...args: tf.Tensor[]) => {
            const [xa, ...wa] = args as tf.Tensor4D[];
            return tf.sum(tf.square(f(xa, ...wa)));
          };
          return tf.concat(tf.grads(loss)([x, ...ws]).map((g) => g.flatten()));
        };
        const cpu = await onBackend('cpu', make);
        const wasm = await onBackend('wasm', make);
        const err = relativeError(wasm.values, cpu.values);
        assert.ok(err < TOL, `relative error ${err}`);
      });
    gradCase('conv2d (stride 2, same)', (x, w) => tf.conv2d(x, w, 2, 'same'), [3, 3, C, 4]);
    gradCase('depthwiseConv2d (multiplier 2, stride 2, valid)', (x, w) => tf.depthwiseConv2d(x, w, 2, 'valid'), [3, 3, C, 2]);
    gradCase('separableConv2d (stride 1, same)', (x, w, w2) => tf.separableConv2d(x, w, w2, 1, 'same'), [3, 3, C, 2], [1, 1, C * 2, 5]);
  });
});
