import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { decomposeAffine, NiftiError, quaternToAffine, readNifti, writeNifti } from '../../lib/io';
import type { Volume } from '../../lib/types';
import { Rng } from '../../lib/util/rng';

const f32 = Math.fround;

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'pet-iqa-nifti-'));
}

/** 3x3 rotation about an axis (x, y or z) by `deg` degrees. */
function rotation(axis: 0 | 1 | 2, deg: number): number[][] {
  const t = (deg * Math.PI) / 180;
  const c = Math.cos(t);
  const s = Math.sin(t);
  const [p, q] = axis === 0 ? [1, 2] : axis === 1 ? [2, 0] : [0, 1];
  const R = [
    [1, 0, 0],
    [0, 1, 0],
    [0, 0, 1],
  ];
  R[p][p] = c;
  R[p][q] = -s;
  R[q][p] = s;
  R[q][q] = c;
  return R;
}

function matmul(A: number[][], B: number[][]): number[][] {
  return A.map((row) => B[0].map((_, j) => row.reduce((acc, v, k) => acc + v * B[k][j], 0)));
}

/** Affine = [R * diag(zooms) | offset]. */
function affineOf(R: number[][], zooms: number[], offset: number[]): number[][] {
  return [
    [R[0][0] * zooms[0], R[0][1] * zooms[1], R[0][2] * zooms[2], offset[0]],
    [R[1][0] * zooms[0], R[1][1] * zooms[1], R[1][2] * zooms[2], offset[1]],
    [R[2][0] * zooms[0], R[2][1] * zooms[1], R[2][2] * zooms[2], offset[2]],
    [0, 0, 0, 1],
  ];
}

/** Rotation by 30 deg about z then 20 deg about x, with the j axis flipped: det < 0. */
const ROT_FLIP = matmul(matmul(rotation(2, 30), rotation(0, 20)), [
  [1, 0, 0],
  [0, -1, 0],
  [0, 0, 1],
]);
const AFFINE = affineOf(ROT_FLIP, [2.09, 2.5, 3], [-100.25, 37.5, -12.125]);

function volumeOf(dims: [number, number, number], affine: number[][], fill: (i: number) => number, units?: string): Volume {
  const n = dims[0] * dims[1] * dims[2];
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = fill(i);
  const voxelSize = [0, 1, 2].map((c) => Math.hypot(affine[0][c], affine[1][c], affine[2][c])) as [number, number, number];
  return { data, dims, voxelSize, affine, units };
}

function assertClose(actual: number[][], expected: number[][], tol: number, what: string): void {
  for (let r = 0; r < expected.length; r++) {
    for (let c = 0; c < expected[r].length; c++) {
      assert.ok(Math.abs(actual[r][c] - expected[r][c]) <= tol, `${what}[${r}][${c}]: ${actual[r][c]} vs ${expected[r][c]}`);
    }
  }
}

interface RawHeaderArgs {
  datatype: number;
  bitpix: number;
  dim: number[];
  pixdim?: number[];
  slope?: number;
  inter?: number;
  qformCode?: number;
  sformCode?: number;
  quatern?: [number, number, number];
  qoffset?: [number, number, number];
  srow?: number[][];
  xyztUnits?: number;
  descrip?: string;
  intentName?: string;
  voxOffset?: number;
  littleEndian?: boolean;
  magic?: string;
}

/** A NIfTI-1 header built field by field at the offsets of nifti1.h (independent of the writer). */
function rawHeader(a: RawHeaderArgs): Buffer {
  const le = a.littleEndian ?? true;
  const voxOffset = a.voxOffset ?? 352;
  const buf = Buffer.alloc(voxOffset);
  const v = new DataView(buf.buffer, buf.byteOffset, buf.length);
  v.setInt32(0, 348, le);
  const dim = [...a.dim, 1, 1, 1, 1, 1, 1, 1, 1].slice(0, 8);
  dim.forEach((d, i) => v.setInt16(40 + 2 * i, d, le));
  v.setInt16(70, a.datatype, le);
  v.setInt16(72, a.bitpix, le);
  const pixdim = [...(a.pixdim ?? [1, 1, 1, 1]), 0, 0, 0, 0, 0, 0, 0, 0].slice(0, 8);
  pixdim.forEach((p, i) => v.setFloat32(76 + 4 * i, p, le));
  v.setFloat32(108, voxOffset, le);
  v.setFloat32(112, a.slope ?? 0, le);
  v.setFloat32(116, a.inter ?? 0, le);
  v.setUint8(123, a.xyztUnits ?? 2);
  buf.write(a.descrip ?? '', 148, 80, 'latin1');
  v.setInt16(252, a.qformCode ?? 0, le);
  v.setInt16(254, a.sformCode ?? 0, le);
  const q = a.quatern ?? [0, 0, 0];
  const o = a.qoffset ?? [0, 0, 0];
  [...q, ...o].forEach((x, i) => v.setFloat32(256 + 4 * i, x, le));
  const srow = a.srow ?? [
    [0, 0, 0, 0],
    [0, 0, 0, 0],
    [0, 0, 0, 0],
  ];
  srow.flat().forEach((x, i) => v.setFloat32(280 + 4 * i, x, le));
  buf.write(a.intentName ?? '', 328, 16, 'latin1');
  buf.write(a.magic ?? 'n+1\0', 344, 4, 'latin1');
  return buf;
}

function writeRaw(file: string, header: Buffer, body: Uint8Array): void {
  const bytes = Buffer.concat([header, Buffer.from(body.buffer, body.byteOffset, body.byteLength)]);
  fs.writeFileSync(file, file.endsWith('.gz') ? zlib.gzipSync(bytes) : bytes);
}

function expectNiftiError(fn: () => unknown, file: string, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof NiftiError, `expected NiftiError, got ${String(err)}`);
    assert.ok(err.message.includes(file), `message should name ${file}: ${err.message}`);
    assert.match(err.message, pattern);
    return true;
  });
}

describe('io/nifti', () => {
  let dir: string;
  before(() => {
    dir = tmpDir();
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  describe('writeNifti / readNifti round trip', () => {
    for (const name of ['rt.nii', 'rt.nii.gz']) {
      it(`keeps values, dims, affine, voxel size and units (${name})`, () => {
        const rng = new Rng(7);
        const vol = volumeOf([5, 4, 3], AFFINE, () => rng.normal(1000, 300), 'Bq/ml');
        const file = path.join(dir, name);
        writeNifti(file, vol, { description: 'OSEM 2i21s' });
        const back = readNifti(file);
        assert.deepEqual(back.dims, [5, 4, 3]);
        assert.deepEqual(Array.from(back.data), Array.from(vol.data));
        assert.deepEqual(back.affine, AFFINE.map((row) => row.map(f32)), 'sform holds the float32-rounded affine');
        assert.equal(back.header.affineSource, 'sform');
        assert.equal(back.header.sformCode, 1);
        assert.equal(back.header.qformCode, 1);
        assert.equal(back.header.compressed, name.endsWith('.gz'));
        assert.deepEqual(back.voxelSize, [2.09, 2.5, 3].map(f32));
        assert.equal(back.units, 'Bq/ml');
        assert.equal(back.description, 'units=Bq/ml; OSEM 2i21s');
        assert.equal(back.header.intentName, 'Bq/ml');
        assert.equal(back.datatype, 'float32');
        assert.equal(back.header.pixdim[0], -1, 'qfac -1 for a flipped affine');
        let min = Infinity;
        let max = -Infinity;
        for (const v of vol.data) {
          min = Math.min(min, v);
          max = Math.max(max, v);
        }
        assert.equal(back.header.calMin, min);
        assert.equal(back.header.calMax, max);
      });
    }

    it('records units only when known and cuts long descriptions to the 80-byte field', () => {
      const file = path.join(dir, 'units.nii');
      writeNifti(file, volumeOf([2, 2, 2], AFFINE, (i) => i, 'Bq/ml'));
      assert.equal(readNifti(file).description, 'units=Bq/ml');
      writeNifti(file, volumeOf([2, 2, 2], AFFINE, (i) => i), { description: 'x'.repeat(200) });
      const v = readNifti(file);
      assert.equal(v.units, undefined);
      assert.equal(v.description, 'x'.repeat(79));
      writeNifti(file, volumeOf([2, 2, 2], AFFINE, (i) => i, 'Bq/ml'), { units: 'kBq/cc' });
      assert.equal(readNifti(file).units, 'kBq/cc', 'opts.units overrides volume.units');
    });

    it('writes a qform that reproduces the affine (rotation + flip)', () => {
      const file = path.join(dir, 'qform.nii');
      writeNifti(file, volumeOf([3, 3, 3], AFFINE, (i) => i));
      const back = readNifti(file);
      const h = back.header;
      // Recompute the qform from the stored quaternion fields, independently of the reader's choice.
      const bytes = fs.readFileSync(file);
      const q: [number, number, number] = [bytes.readFloatLE(256), bytes.readFloatLE(260), bytes.readFloatLE(264)];
      const off: [number, number, number] = [bytes.readFloatLE(268), bytes.readFloatLE(272), bytes.readFloatLE(276)];
      const qform = quaternToAffine(q, off, [h.pixdim[1], h.pixdim[2], h.pixdim[3]], h.pixdim[0] < 0 ? -1 : 1);
      assertClose(qform, AFFINE, 1e-5, 'qform');
    });

    it('writes qform_code 0 when the affine has shear', () => {
      const sheared = [
        [2, 0.5, 0, 1],
        [0, 2, 0, 2],
        [0, 0, 2, 3],
        [0, 0, 0, 1],
      ];
      const file = path.join(dir, 'shear.nii');
      const vol = volumeOf([2, 2, 2], sheared, (i) => i);
      writeNifti(file, vol);
      const back = readNifti(file);
      assert.equal(back.header.qformCode, 0);
      assert.equal(back.header.sformCode, 1);
      assert.deepEqual(back.affine, sheared);
      assert.deepEqual(decomposeAffine(sheared)?.sheared, true);
    });

    it('writes identical bytes for identical volumes (no gzip timestamp)', () => {
      const vol = volumeOf([16, 16, 8], AFFINE, (i) => (i % 7) * 0.5);
      const a = path.join(dir, 'det-a.nii.gz');
      const b = path.join(dir, 'det-b.nii.gz');
      writeNifti(a, vol);
      writeNifti(b, vol);
      const ba = fs.readFileSync(a);
      assert.deepEqual(ba, fs.readFileSync(b));
      assert.equal(ba.readUInt32LE(4), 0, 'gzip mtime is 0');
      assert.deepEqual(
        fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')),
        [],
        'no temporary files left',
      );
    });

    it('writes a paper-size mostly-zero volume quickly', function () {
      this.timeout(20000);
      const dims: [number, number, number] = [344, 344, 127];
      const vol = volumeOf(dims, affineOf(rotation(0, 0), [2.09, 2.09, 2.09], [0, 0, 0]), () => 0);
      // A brain-sized ball of activity in the middle.
      const [nx, ny, nz] = dims;
      for (let k = 30; k < nz - 30; k++) {
        for (let j = 100; j < ny - 100; j++) for (let i = 100; i < nx - 100; i++) vol.data[i + nx * (j + ny * k)] = 5000 + ((i * j + k) % 97);
      }
      const file = path.join(dir, 'big.nii.gz');
      const t0 = Date.now();
      writeNifti(file, vol);
      const tWrite = Date.now() - t0;
      const back = readNifti(file);
      assert.equal(back.data[172 + nx * (172 + ny * 63)], vol.data[172 + nx * (172 + ny * 63)]);
      assert.ok(tWrite < 10000, `write took ${tWrite} ms`);
    });
  });

  describe('hand-built headers', () => {
    const dims = [3, 2, 2];
    const n = 12;

    function check(name: string, datatype: number, bitpix: number, stored: ArrayLike<number>, body: Uint8Array, slope: number, inter: number) {
      const file = path.join(dir, name);
      writeRaw(file, rawHeader({ datatype, bitpix, dim: [3, ...dims], pixdim: [1, 2, 3, 4], slope, inter }), body);
      const v = readNifti(file);
      assert.deepEqual(v.dims, dims);
      const expected = Array.from(stored, (s) => f32(s * f32(slope) + f32(inter)));
      assert.deepEqual(Array.from(v.data), expected);
      assert.equal(v.header.scaled, true);
      assert.equal(v.header.affineSource, 'pixdim');
      assert.deepEqual(v.affine, [
        [2, 0, 0, 0],
        [0, 3, 0, 0],
        [0, 0, 4, 0],
        [0, 0, 0, 1],
      ]);
      assert.deepEqual(v.voxelSize, [2, 3, 4]);
      return v;
    }

    it('reads uint8 with slope and intercept', () => {
      const stored = Uint8Array.from({ length: n }, (_, i) => i * 20);
      const v = check('u8.nii', 2, 8, stored, stored, 0.5, -3);
      assert.equal(v.datatype, 'uint8');
      assert.equal(v.data[11], 220 * 0.5 - 3);
    });

    it('reads int16 with slope and intercept (.nii.gz)', () => {
      const stored = Int16Array.from({ length: n }, (_, i) => (i - 6) * 1000);
      const v = check('i16.nii.gz', 4, 16, stored, new Uint8Array(stored.buffer), 0.25, 10);
      assert.equal(v.datatype, 'int16');
      assert.equal(v.data[0], -6000 * 0.25 + 10);
    });

    it('reads int32 with slope and intercept', () => {
      const stored = Int32Array.from({ length: n }, (_, i) => (i - 3) * 100000);
      const v = check('i32.nii', 8, 32, stored, new Uint8Array(stored.buffer), 2, 1);
      assert.equal(v.data[11], 800000 * 2 + 1);
    });

    it('reads float64 with slope and intercept', () => {
      const stored = Float64Array.from({ length: n }, (_, i) => i * 0.125 - 0.5);
      const v = check('f64.nii', 64, 64, stored, new Uint8Array(stored.buffer), 4, 0.5);
      assert.equal(v.datatype, 'float64');
      assert.equal(v.data[1], (0.125 - 0.5) * 4 + 0.5);
    });

    it('ignores scl_slope 0 and reads big-endian int16', () => {
      const stored = [1, -2, 300, -4000, 5, 6, 7, 8, 9, 10, 11, 12];
      const body = Buffer.alloc(2 * n);
      stored.forEach((s, i) => body.writeInt16BE(s, 2 * i));
      const file = path.join(dir, 'be.nii');
      writeRaw(file, rawHeader({ datatype: 4, bitpix: 16, dim: [3, ...dims], slope: 0, inter: 7, littleEndian: false }), body);
      const v = readNifti(file);
      assert.deepEqual(Array.from(v.data), stored);
      assert.equal(v.header.scaled, false);
      assert.equal(v.header.littleEndian, false);
    });

    it('accepts 4-D with one frame and reads units from intent_name', () => {
      const body = new Float32Array(n).fill(2.5);
      const file = path.join(dir, 'four.nii');
      writeRaw(file, rawHeader({ datatype: 16, bitpix: 32, dim: [4, ...dims, 1], intentName: 'kBq/ml' }), new Uint8Array(body.buffer));
      const v = readNifti(file);
      assert.deepEqual(v.dims, dims);
      assert.equal(v.units, 'kBq/ml');
    });

    it('prefers the sform over the qform (sform_code > 0), then the qform, then pixdim', () => {
      // The qform: 90 degrees about z, pixdim 2, 3, 4, offset (10, 20, 30).
      const s = Math.SQRT1_2;
      const qformExpected = [
        [0, -3, 0, 10],
        [2, 0, 0, 20],
        [0, 0, 4, 30],
        [0, 0, 0, 1],
      ];
      const srow = [
        [1.5, 0, 0, -5],
        [0, 1.5, 0.25, -6],
        [0, 0, 1.5, -7],
      ];
      const body = new Uint8Array(n);
      const common = {
        datatype: 2,
        bitpix: 8,
        dim: [3, ...dims],
        pixdim: [1, 2, 3, 4],
        quatern: [0, 0, s] as [number, number, number],
        qoffset: [10, 20, 30] as [number, number, number],
        srow,
      };
      const both = path.join(dir, 'both.nii');
      writeRaw(both, rawHeader({ ...common, qformCode: 1, sformCode: 2 }), body);
      const vb = readNifti(both);
      assert.equal(vb.header.affineSource, 'sform');
      assert.deepEqual(vb.affine, [...srow.map((r) => r.map(f32)), [0, 0, 0, 1]]);

      const qOnly = path.join(dir, 'qonly.nii');
      writeRaw(qOnly, rawHeader({ ...common, qformCode: 1, sformCode: 0 }), body);
      const vq = readNifti(qOnly);
      assert.equal(vq.header.affineSource, 'qform');
      assertClose(vq.affine, qformExpected, 1e-6, 'qform affine');

      const qFlip = path.join(dir, 'qflip.nii');
      writeRaw(qFlip, rawHeader({ ...common, pixdim: [-1, 2, 3, 4], qformCode: 1, sformCode: 0 }), body);
      const vf = readNifti(qFlip);
      assertClose(vf.affine, qformExpected.map((r, i) => (i < 3 ? [r[0], r[1], -r[2], r[3]] : r)), 1e-6, 'qfac -1 affine');

      const none = path.join(dir, 'none.nii');
      writeRaw(none, rawHeader({ ...common, qformCode: 0, sformCode: 0 }), body);
      assert.equal(readNifti(none).header.affineSource, 'pixdim');
    });

    it('reads NIfTI-2 (int32 with slope, sform in float64)', () => {
      const hdr = Buffer.alloc(544);
      hdr.writeInt32LE(540, 0);
      hdr.write('n+2\0\r\n\x1a\n', 4, 'latin1');
      hdr.writeInt16LE(8, 12); // int32
      hdr.writeInt16LE(32, 14);
      [3, 3, 2, 2, 1, 1, 1, 1].forEach((d, i) => hdr.writeBigInt64LE(BigInt(d), 16 + 8 * i));
      [1, 0.5, 0.5, 0.5, 0, 0, 0, 0].forEach((p, i) => hdr.writeDoubleLE(p, 104 + 8 * i));
      hdr.writeBigInt64LE(544n, 168);
      hdr.writeDoubleLE(0.1, 176); // scl_slope, double precision in NIfTI-2
      hdr.writeDoubleLE(-2, 184);
      hdr.writeInt32LE(0, 344); // qform_code
      hdr.writeInt32LE(1, 348); // sform_code
      const srow = [
        [0.5, 0, 0, -1.1],
        [0, 0.5, 0, -2.2],
        [0, 0, 0.5, -3.3],
      ];
      srow.flat().forEach((x, i) => hdr.writeDoubleLE(x, 400 + 8 * i));
      hdr.writeInt32LE(2, 500); // xyzt_units mm
      const stored = Int32Array.from({ length: 12 }, (_, i) => i * 10 - 7);
      const file = path.join(dir, 'v2.nii');
      writeRaw(file, hdr, new Uint8Array(stored.buffer));
      const v = readNifti(file);
      assert.equal(v.header.version, 2);
      assert.equal(v.datatype, 'int32');
      assert.deepEqual(v.dims, [3, 2, 2]);
      assert.deepEqual(v.affine, [...srow, [0, 0, 0, 1]], 'NIfTI-2 srows are float64, kept exactly');
      assert.deepEqual(v.voxelSize, [0.5, 0.5, 0.5]);
      assert.deepEqual(Array.from(v.data), Array.from(stored, (s) => f32(s * 0.1 - 2)));
    });

    it('converts metre and micrometre units to mm', () => {
      const body = new Uint8Array(n);
      const srow = [
        [0.002, 0, 0, 0.1],
        [0, 0.002, 0, 0.2],
        [0, 0, 0.002, 0.3],
      ];
      const file = path.join(dir, 'metres.nii');
      writeRaw(file, rawHeader({ datatype: 2, bitpix: 8, dim: [3, ...dims], pixdim: [1, 0.002, 0.002, 0.002], sformCode: 1, srow, xyztUnits: 1 }), body);
      const v = readNifti(file);
      assert.equal(v.header.spatialUnits, 'm');
      assertClose(v.affine, [
        [2, 0, 0, 100],
        [0, 2, 0, 200],
        [0, 0, 2, 300],
        [0, 0, 0, 1],
      ], 1e-4, 'affine in mm');
      assertClose([v.voxelSize], [[2, 2, 2]], 1e-4, 'voxel size in mm');

      const um = path.join(dir, 'um.nii');
      writeRaw(um, rawHeader({ datatype: 2, bitpix: 8, dim: [3, ...dims], pixdim: [1, 500, 500, 500], xyztUnits: 3 }), body);
      assert.deepEqual(readNifti(um).voxelSize, [0.5, 0.5, 0.5]);
    });
  });

  describe('errors name the file and the problem', () => {
    const dims = [3, 2, 2];

    it('missing file', () => {
      const file = path.join(dir, 'nope.nii.gz');
      expectNiftiError(() => readNifti(file), file, /file not found/);
    });

    it('truncated gzip', () => {
      const file = path.join(dir, 'trunc.nii.gz');
      writeNifti(file, volumeOf([8, 8, 8], AFFINE, (i) => Math.sin(i)));
      const bytes = fs.readFileSync(file);
      fs.writeFileSync(file, bytes.subarray(0, bytes.length - 40));
      expectNiftiError(() => readNifti(file), file, /truncated or corrupt gzip/);
    });

    it('corrupt gzip', () => {
      const file = path.join(dir, 'corrupt.nii.gz');
      fs.writeFileSync(file, Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff, 1, 2, 3]));
      expectNiftiError(() => readNifti(file), file, /truncated or corrupt gzip/);
    });

    it('not NIfTI (wrong size / wrong magic / too short)', () => {
      const text = path.join(dir, 'text.nii');
      fs.writeFileSync(text, 'x'.repeat(400));
      expectNiftiError(() => readNifti(text), text, /not a NIfTI file: sizeof_hdr/);
      const magic = path.join(dir, 'magic.nii');
      writeRaw(magic, rawHeader({ datatype: 2, bitpix: 8, dim: [3, ...dims], magic: 'abc\0' }), new Uint8Array(12));
      expectNiftiError(() => readNifti(magic), magic, /wrong magic "abc\\u0000" at byte 344/);
      const short = path.join(dir, 'short.nii');
      fs.writeFileSync(short, Buffer.alloc(100));
      expectNiftiError(() => readNifti(short), short, /shorter than a NIfTI-1 header/);
    });

    it('truncated image data', () => {
      const file = path.join(dir, 'short-data.nii');
      writeRaw(file, rawHeader({ datatype: 4, bitpix: 16, dim: [3, ...dims] }), new Uint8Array(20));
      expectNiftiError(() => readNifti(file), file, /truncated image data: dims 3x2x2 of int16 need 24 bytes from offset 352, but only 20/);
    });

    it('unsupported datatype, naming the code', () => {
      const file = path.join(dir, 'complex.nii');
      writeRaw(file, rawHeader({ datatype: 32, bitpix: 64, dim: [3, ...dims] }), new Uint8Array(96));
      expectNiftiError(() => readNifti(file), file, /unsupported datatype code 32 \(complex64\)/);
      const odd = path.join(dir, 'odd.nii');
      writeRaw(odd, rawHeader({ datatype: 9, bitpix: 8, dim: [3, ...dims] }), new Uint8Array(12));
      expectNiftiError(() => readNifti(odd), odd, /unsupported datatype code 9 \(not a NIfTI datatype\)/);
    });

    it('wrong dimensionality: 2-D and true 4-D', () => {
      const two = path.join(dir, 'two.nii');
      writeRaw(two, rawHeader({ datatype: 2, bitpix: 8, dim: [2, 3, 4] }), new Uint8Array(12));
      expectNiftiError(() => readNifti(two), two, /is 2-D with dims 3x4; a 3-D volume is required/);
      const four = path.join(dir, 'four-frames.nii');
      writeRaw(four, rawHeader({ datatype: 2, bitpix: 8, dim: [4, 3, 2, 2, 5] }), new Uint8Array(60));
      expectNiftiError(() => readNifti(four), four, /is 4-D with dims 3x2x2x5; only 3-D volumes/);
    });

    it('NaN/Inf voxels on read (count and first index), accepted with allowNonFinite', () => {
      const body = new Float32Array(12).fill(1);
      body[5] = NaN;
      body[9] = Infinity;
      const file = path.join(dir, 'nan.nii');
      writeRaw(file, rawHeader({ datatype: 16, bitpix: 32, dim: [3, ...dims] }), new Uint8Array(body.buffer));
      expectNiftiError(() => readNifti(file), file, /contain 2 NaN\/Inf voxel\(s\); the first at index 5 \(i=2, j=1, k=0\) is NaN/);
      assert.ok(Number.isNaN(readNifti(file, { allowNonFinite: true }).data[5]));
    });

    it('on write: NaN voxels, data length vs dims, bad affine, bad name; nothing written', () => {
      const file = path.join(dir, 'bad-write.nii.gz');
      const nan = volumeOf([2, 2, 2], AFFINE, (i) => (i === 6 ? NaN : i));
      expectNiftiError(() => writeNifti(file, nan), file, /data contain 1 NaN\/Inf voxel\(s\); the first at index 6 \(i=0, j=1, k=1\)/);
      const short = { ...volumeOf([2, 2, 2], AFFINE, (i) => i), dims: [2, 2, 3] as [number, number, number] };
      expectNiftiError(() => writeNifti(file, short), file, /data length 8 does not match dims 2x2x3 \(= 12 voxels\)/);
      const singular = volumeOf([2, 2, 2], AFFINE, (i) => i);
      singular.affine = [
        [1, 0, 0, 0],
        [0, 0, 0, 0],
        [0, 0, 1, 0],
        [0, 0, 0, 1],
      ];
      singular.voxelSize = [1, 1, 1];
      expectNiftiError(() => writeNifti(file, singular), file, /affine is singular/);
      const wrongSize = { ...volumeOf([2, 2, 2], AFFINE, (i) => i), voxelSize: [2, 2, 2] as [number, number, number] };
      expectNiftiError(() => writeNifti(file, wrongSize), file, /voxelSize \[2, 2, 2\] disagrees with the affine's column lengths \[2.09, 2.5, 3\]/);
      const txt = path.join(dir, 'vol.img');
      expectNiftiError(() => writeNifti(txt, volumeOf([2, 2, 2], AFFINE, (i) => i)), txt, /must end with \.nii or \.nii\.gz/);
      assert.equal(fs.existsSync(file), false);
    });
  });
});
