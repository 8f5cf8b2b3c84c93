import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { assertFiniteNpy, decodeNpy, encodeNpy, parseNpyHeader, readNpy, writeNpy } from '../../lib/io/npy';
import { runFeatures, type FeaturesOpts } from '../../scripts/features';
import { tempDir, tinyModel } from '../weights/fixtures';

/** Bytes of an .npy file as NumPy writes them, with any header fields and payload. */
function npyBytes(header: string, payload: Uint8Array, major = 1): Buffer {
  const pre = major === 1 ? 10 : 12;
  let h = header;
  const total = Math.ceil((pre + h.length + 1) / 64) * 64;
  h = h + ' '.repeat(total - pre - h.length - 1) + '\n';
  const b = Buffer.alloc(total + payload.length);
  b.write('\x93NUMPY', 0, 'latin1');
  b[6] = major;
  b[7] = 0;
  if (major === 1) b.writeUInt16LE(h.length, 8);
  else b.writeUInt32LE(h.length, 8);
  b.write(h, pre, 'latin1');
  Buffer.from(payload).copy(b, total);
  return b;
}

describe('io/npy', () => {
  let tmp: ReturnType<typeof tempDir>;
  before(() => (tmp = tempDir('npy')));
  after(() => tmp.cleanup());

  it('round-trips float32 arrays of rank 0 to 4 and aligns the data to 64 bytes', () => {
    for (const shape of [[], [5], [2, 3], [2, 4, 4, 3], [0, 3]]) {
      const n = shape.reduce((a, b) => a * b, 1);
      const data = Float32Array.from({ length: n }, (_, i) => i * 0.5 - 3);
      const file = path.join(tmp.dir, `a${shape.join('x')}.npy`);
      writeNpy(file, { data, shape });
      const bytes = fs.readFileSync(file);
      assert.equal(parseNpyHeader(bytes).dataOffset % 64, 0);
      const back = readNpy(file);
      assert.deepEqual(back.shape, shape);
      assert.deepEqual(Array.from(back.data), Array.from(data));
    }
    assert.match(fs.readFileSync(path.join(tmp.dir, 'a5.npy')).toString('latin1'), /'shape': \(5,\)/);
  });

  it('reads a NumPy-written header (v1 and v2) and converts float64', () => {
    const f8 = new Float64Array([1.5, -2.25, 1e-3, 4]);
    const v1 = npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", new Uint8Array(f8.buffer));
    const a = decodeNpy(v1);
    assert.deepEqual(a.shape, [2, 2]);
    assert.deepEqual(Array.from(a.data), [1.5, -2.25, Math.fround(1e-3), 4]);
    const f4 = new Float32Array([7, 8, 9]);
    const v2 = npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", new Uint8Array(f4.buffer), 2);
    assert.deepEqual(Array.from(decodeNpy(v2).data), [7, 8, 9]);
    assert.deepEqual(decodeNpy(encodeNpy({ data: f4, shape: [3] })).shape, [3]);
  });

  it('gives clear errors for other dtypes, Fortran order, truncation and bad magic, naming the file', () => {
    const write = (name: string, b: Uint8Array) => {
      const f = path.join(tmp.dir, name);
      fs.writeFileSync(f, b);
      return f;
    };
    const i4 = write('i4.npy', npyBytes("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", new Uint8Array(8)));
    assert.throws(() => readNpy(i4), /i4\.npy: unsupported dtype '<i4'; expected little-endian float32 '<f4' or float64 '<f8'/);
    const be = write('be.npy', npyBytes("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", new Uint8Array(8)));
    assert.throws(() => readNpy(be), /unsupported dtype '>f4'.*big-endian/);
    const fo = write('fo.npy', npyBytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", new Uint8Array(16)));
    assert.throws(() => readNpy(fo), /fo\.npy: Fortran-order arrays are not supported/);
    const tr = write('tr.npy', npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", new Uint8Array(12)));
    assert.throws(() => readNpy(tr), /tr\.npy: data has 12 bytes but shape \(2, 2\) of '<f4' needs 16 \(file truncated\?\)/);
    const bad = write('bad.npy', Buffer.from('hello, this is not numpy'));
    assert.throws(() => readNpy(bad), /bad\.npy: not a NumPy \.npy file/);
    assert.throws(() => readNpy(path.join(tmp.dir, 'absent.npy')), /readNpy: cannot read .*absent\.npy/);
  });

  it('refuses to write data that does not match the shape, leaving no file', () => {
    const file = path.join(tmp.dir, 'mismatch.npy');
    assert.throws(() => writeNpy(file, { data: new Float32Array(5), shape: [2, 3] }), /writeNpy .*mismatch\.npy: shape \[2, 3\] holds 6 values but data has 5/);
    assert.equal(fs.existsSync(file), false);
  });
});

describe('non-finite values in .npy inputs', () => {
  const tmp = tempDir('npy-finite');
  after(() => tmp.cleanup());

  it('assertFiniteNpy names the file, the count and the first position in the shape', () => {
    const data = new Float32Array(2 * 4 * 4 * 3);
    assert.doesNotThrow(() => assertFiniteNpy({ data, shape: [2, 4, 4, 3] }, 'x.npy'));
    data[1 * 48 + 2 * 12 + 3 * 3 + 1] = NaN; // image 1, row 2, column 3, channel 1
    data[90] = Infinity;
    assert.throws(
      () => assertFiniteNpy({ data, shape: [2, 4, 4, 3] }, 'x.npy'),
      /^Error: x\.npy: 2 NaN\/Inf value\(s\) of 96; the first, at flat index 82 \(position \[1, 2, 3, 1\] of shape \[2, 4, 4, 3\]\), is NaN$/,
    );
  });

  it('the features command rejects an input batch with a NaN pixel, naming the file, and writes nothing', async () => {
    const input = path.join(tmp.dir, 'nan.npy');
    const data = new Float32Array(2 * 8 * 8 * 3).fill(0.5);
    data[7] = NaN;
    writeNpy(input, { data, shape: [2, 8, 8, 3] });
    const out = path.join(tmp.dir, 'y.npy');
    const opts: FeaturesOpts = { backbone: 'VGG16', weights: { kind: 'random' }, input, out, batch: '2', seed: '0', backend: 'cpu', json: false };
    // Rejected before any backend or model is touched.
    const backend = tf.getBackend();
    await assert.rejects(runFeatures(opts, { build: () => tinyModel(43) }), new RegExp(`^Error: ${input.replace(/[.]/g, '\\.')}: 1 NaN/Inf value\\(s\\) of 384; the first, at flat index 7 \\(position \\[0, 0, 2, 1\\]`));
    assert.equal(fs.existsSync(out), false);
    assert.equal(tf.getBackend(), backend);
  });
});
