import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { IgemmConv2D, igemmCallCounts, igemmUnavailableReason, indirectionTable } from '../../lib/backend';
import { normalValues, onBackend, relativeError, useWasmBackend } from './helpers';
import { describeOnKernelVariants } from '../support/backends';

const TOL = 1e-5;
type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

describeOnKernelVariants('backend/wasm indirect-GEMM convolution', function () {
  this.timeout(60000);
  useWasmBackend();

  it('is available on wasm and says why not elsewhere', async () => {
    assert.equal(igemmUnavailableReason(), null);
    await tf.setBackend('cpu');
    assert.equal(igemmUnavailableReason(), 'the backend is cpu, not wasm');
    assert.throws(() => new IgemmConv2D({ filter: new Float32Array(1), filterShape: [1, 1, 1, 1] }), /IgemmConv2D: the backend is cpu, not wasm/);
    await tf.setBackend('wasm');
  });

  it('indirection table: byte offsets of each tap, -1 in the padding (hand-checked)', () => {
    // 3x3 'same' on a 3x3 image with 2 channels: pixel (y, x) starts at byte (3y + x) * 2 * 4.
    const info = tf.backend_util.computeConv2DInfo([1, 3, 3, 2], [3, 3, 2, 8], 1, 1, 'same');
    const t = indirectionTable(info);
    assert.equal(t.length, 9 * 9);
    assert.deepEqual(Array.from(t.subarray(0, 9)), [-1, -1, -1, -1, 0, 8, -1, 24, 32]); // output (0, 0)
    assert.deepEqual(Array.from(t.subarray(4 * 9, 5 * 9)), [0, 8, 16, 24, 32, 40, 48, 56, 64]); // output (1, 1)
    // 1x1 stride 2 on a 4x4 single-channel image: outputs read pixels (0,0), (0,2), (2,0), (2,2).
    const s2 = indirectionTable(tf.backend_util.computeConv2DInfo([1, 4, 4, 1], [1, 1, 1, 8], 2, 1, 'valid'));
    assert.deepEqual(Array.from(s2), [0, 8, 32, 40]);
    // Dilation 2: a 3x3 filter spans 5x5; output (0, 0) of a 'valid' conv on 5x5 reads every other pixel.
    const d2 = indirectionTable(tf.backend_util.computeConv2DInfo([1, 5, 5, 1], [3, 3, 1, 8], 1, 2, 'valid'));
    assert.deepEqual(Array.from(d2), [0, 8, 16, 40, 48, 56, 80, 88, 96]);
  });

  it('computes a hand-checked convolution with bias and fused relu6 / relu (8 and 3 output channels)', () => {
    // Input 1x2x2x1 = [1, 2, 3, 4]; every tap of output channel j weighs j + 1; bias -25:
    // out[j] = 10 (j + 1) - 25 = -15, -5, 5, 15, 25, ... -> relu6: 0, 0, 5, 6, 6, 6, 6, 6.
    const x = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
    for (const [cout, activation, expected] of [
      [8, 'relu6', [0, 0, 5, 6, 6, 6, 6, 6]],
      [8, 'linear', [-15, -5, 5, 15, 25, 35, 45, 55]],
      [3, 'relu', [0, 0, 5]],
    ] as Array<[number, 'relu6' | 'linear' | 'relu', number[]]>) {
      const filter = new Float32Array(4 * cout);
      for (let i = 0; i < filter.length; i++) filter[i] = (i % cout) + 1;
      const conv = new IgemmConv2D({ filter, filterShape: [2, 2, 1, cout], bias: new Float32Array(cout).fill(-25), activation });
      const y = conv.apply(x);
      assert.deepEqual(y.shape, [1, 1, 1, cout]);
      assert.deepEqual(Array.from(y.dataSync()), expected);
      y.dispose();
      conv.dispose();
    }
    x.dispose();
  });

  const geometries: Array<{ n: number; h: number; w: number; cin: number; cout: number; k: number; stride: number; pad: Pad }> = [
    { n: 2, h: 7, w: 9, cin: 3, cout: 13, k: 3, stride: 1, pad: 'same' },
    { n: 1, h: 5, w: 3, cin: 16, cout: 8, k: 1, stride: 1, pad: 'valid' },
    { n: 3, h: 9, w: 9, cin: 5, cout: 24, k: 3, stride: 2, pad: 'same' },
    { n: 2, h: 12, w: 10, cin: 3, cout: 16, k: 7, stride: 2, pad: [[0, 0], [3, 3], [3, 3], [0, 0]] },
    { n: 1, h: 6, w: 6, cin: 7, cout: 3, k: 5, stride: 1, pad: 'valid' },
    { n: 2, h: 5, w: 5, cin: 33, cout: 40, k: 2, stride: 2, pad: [[0, 0], [1, 0], [0, 1], [0, 0]] },
  ];
  for (const g of geometries) {
    const label = `${g.n}x${g.h}x${g.w}x${g.cin} -> ${g.cout}, ${g.k}x${g.k}, stride ${g.stride}, pad ${JSON.stringify(g.pad)}`;
    const xv = normalValues(g.n * g.h * g.w * g.cin, g.cin * 7 + g.k);
    const fv = normalValues(g.k * g.k * g.cin * g.cout, g.cout * 3 + g.k);
    const bv = normalValues(g.cout, g.cout);
    /** tf.fused.conv2d of this geometry on the active backend. */
    const fusedConv = (activation: 'linear' | 'relu' | 'relu6') =>
      tf.fused.conv2d({
        x: tf.tensor4d(xv, [g.n, g.h, g.w, g.cin]),
        filter: tf.tensor4d(fv, [g.k, g.k, g.cin, g.cout]),
        strides: g.stride,
        pad: g.pad as 'same',
        bias: tf.tensor1d(bv),
        activation,
      });
    const reference = (activation: 'linear' | 'relu' | 'relu6') => onBackend('cpu', () => fusedConv(activation));

    it(`packed weights match cpu: ${label}`, async () => {
      for (const activation of ['linear', 'relu6'] as const) {
        const cpu = await reference(activation);
        await tf.setBackend('wasm');
        const x = tf.tensor4d(xv, [g.n, g.h, g.w, g.cin]);
        const conv = new IgemmConv2D({ filter: fv, filterShape: [g.k, g.k, g.cin, g.cout], bias: bv, strides: [g.stride, g.stride], pad: g.pad, activation });
        const tensors = tf.memory().numTensors;
        const buffers = tf.engine().backend.numDataIds();
        const before = igemmCallCounts().packed;
        const y = conv.apply(x);
        assert.equal(igemmCallCounts().packed, before + 1);
        // Only the output is new: the scratch (indirection table, zeros) is released.
        assert.equal(tf.memory().numTensors, tensors + 1);
        assert.equal(tf.engine().backend.numDataIds(), buffers + 1);
        assert.deepEqual(y.shape, cpu.shape);
        const err = relativeError(y.dataSync(), cpu.values);
        assert.ok(err < TOL, `${activation}: relative error ${err}`);
        tf.dispose([x, y]);
        conv.dispose();
      }
    });

    it(`wasm's Conv2D / FusedConv2D match cpu: ${label}`, async () => {
      const cpu = await reference('relu');
      await tf.setBackend('wasm');
      const before = igemmCallCounts().unpacked;
      const y = tf.tidy(() => fusedConv('relu'));
      // tfjs's filter layout is read in place when the output channels fill panels of 8; otherwise XNNPACK runs.
      assert.equal(igemmCallCounts().unpacked, before + (g.cout % 8 === 0 ? 1 : 0));
      const err = relativeError(y.dataSync(), cpu.values);
      assert.ok(err < TOL, `relative error ${err}`);
      y.dispose();
    });
  }

  it('wasm Conv2D with dilation 2 and an unfused activation (elu) match cpu', async () => {
    const xv = normalValues(2 * 9 * 9 * 4, 5);
    const fv = normalValues(3 * 3 * 4 * 16, 6);
    const run = (act: 'linear' | 'elu') => () =>
      tf.fused.conv2d({ x: tf.tensor4d(xv, [2, 9, 9, 4]), filter: tf.tensor4d(fv, [3, 3, 4, 16]), strides: 1, pad: 'same', dilations: 2, activation: act });
    for (const act of ['linear', 'elu'] as const) {
      const cpu = await onBackend('cpu', run(act));
      const before = igemmCallCounts().unpacked;
      const wasm = await onBackend('wasm', run(act));
      // elu is not a clamp: tfjs's own kernel runs it.
      assert.equal(igemmCallCounts().unpacked, before + (act === 'linear' ? 1 : 0));
      assert.ok(relativeError(wasm.values, cpu.values) < TOL, act);
    }
  });

  it('gradients of a conv stack with 16-channel layers (1x1 and 3x3, stride 1 and 2) match cpu', async () => {
    const xv = normalValues(3 * 6 * 6 * 8, 21);
    const f1 = normalValues(1 * 1 * 8 * 16, 22);
    const f2 = normalValues(3 * 3 * 16 * 16, 23);
    const f3 = normalValues(1 * 1 * 16 * 24, 24);
    const grads = async (backend: string) => {
      await tf.setBackend(backend);
      const x = tf.tensor4d(xv, [3, 6, 6, 8]);
      const ws = [tf.tensor4d(f1, [1, 1, 8, 16]), tf.tensor4d(f2, [3, 3, 16, 16]), tf.tensor4d(f3, [1, 1, 16, 24])];
      const loss = (a: tf.Tensor4D, b: tf.Tensor4D, c: tf.Tensor4D, d: tf.Tensor4D) => {
        const h1 = tf.relu(tf.conv2d(a, b, 1, 'valid'));
        const h2 = tf.relu6(tf.conv2d(h1, c, 2, 'same'));
        return tf.sum(tf.square(tf.conv2d(h2, d, 1, 'valid')));
      };
      const g = tf.grads(loss as (...a: tf.Tensor[]) => tf.Tensor)([x, ...ws]);
      const out = g.map((t) => Float32Array.from(t.dataSync()));
      tf.dispose([x, ...ws, ...g]);
      return out;
    };
    const cpu = await grads('cpu');
    const before = igemmCallCounts().unpacked;
    const wasm = await grads('wasm');
    // Three forward convolutions plus the input and filter gradients all ran on the kernel.
    assert.ok(igemmCallCounts().unpacked - before >= 6, `igemm calls ${igemmCallCounts().unpacked - before}`);
    wasm.forEach((g, i) => {
      const err = relativeError(g, cpu[i]);
      assert.ok(err < 1e-4, `gradient ${i}: relative error ${err}`);
    });
  });

  it('refuses a filter of the wrong size and an input with the wrong channels, naming the shapes', () => {
    assert.throws(() => new IgemmConv2D({ filter: new Float32Array(5), filterShape: [1, 1, 2, 3] }), /IgemmConv2D: filter has 5 values, shape \[1,1,2,3\] needs 6/);
    assert.throws(() => new IgemmConv2D({ filter: new Float32Array(6), filterShape: [1, 1, 2, 3], bias: new Float32Array(2) }), /bias has 2 values for 3 output channels/);
    const conv = new IgemmConv2D({ filter: new Float32Array(6), filterShape: [1, 1, 2, 3] });
    const x = tf.zeros([1, 2, 2, 4]) as tf.Tensor4D;
    assert.throws(() => conv.apply(x), /IgemmConv2D: input shape \[1,2,2,4\] does not end in 2 channels/);
    x.dispose();
    conv.dispose();
  });
});
