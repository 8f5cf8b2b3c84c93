/**
 * Interoperability with nibabel (Debian's /usr/bin/python3 + python3-nibabel; the only place the
 * project touches Python). Both directions: nibabel reads what writeNifti wrote, and readNifti
 * reads what nibabel wrote; values are compared exactly through binary dumps.
 */
import { strict as assert } from 'assert';
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readNifti, writeNifti } from '../../lib/io';
import type { Volume } from '../../lib/types';
import { Rng } from '../../lib/util/rng';

const PYTHON = '/usr/bin/python3';

function requireNibabel(): void {
  const r = spawnSync(PYTHON, ['-c', 'import nibabel, numpy'], { encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(
      `nibabel is not importable by ${PYTHON} (${(r.stderr || String(r.error)).trim().split('\n').pop()}); ` +
        'run `bash scripts/setup.sh` (it installs python3-nibabel with apt)',
    );
  }
}

function python(script: string, args: string[]): string {
  return execFileSync(PYTHON, ['-c', script, ...args], { encoding: 'utf8' });
}

const READ_SCRIPT = `
import sys, json, numpy as np, nibabel as nib
img = nib.load(sys.argv[1])
h = img.header
d = np.asarray(img.dataobj)
np.ascontiguousarray(d.astype('<f4').ravel(order='F')).tofile(sys.argv[2])
print(json.dumps({
  'shape': list(img.shape), 'dtype': str(d.dtype),
  'affine': img.affine.tolist(), 'qform': h.get_qform().tolist(),
  'sform_code': int(h['sform_code']), 'qform_code': int(h['qform_code']),
  'zooms': [float(z) for z in h.get_zooms()], 'units': list(h.get_xyzt_units()),
  'descrip': h['descrip'].item().decode(), 'cal': [float(h['cal_min']), float(h['cal_max'])],
}))
`;

const WRITE_SCRIPT = `
import sys, json, numpy as np, nibabel as nib
out = sys.argv[1]
rng = np.random.default_rng(3)
c, s = np.cos(0.4), np.sin(0.4)
aff = np.array([[c * 1.5, -s * 2.0, 0, -40.5], [s * 1.5, c * 2.0, 0, 12.25], [0, 0, -2.5, 60.0], [0, 0, 0, 1]])
res = {}
for name, dtype, slope, inter in [('i16', np.int16, 0.5, 3.0), ('u8', np.uint8, 2.0, -1.0), ('f64', np.float64, 1.0, 0.0)]:
    lo, hi = (0, 255) if dtype == np.uint8 else (-3000, 3000)
    raw = rng.integers(lo, hi, size=(6, 5, 4)).astype(dtype)
    if dtype == np.float64:
        raw = raw / 7.0
    img = nib.Nifti1Image(raw, aff)
    img.header.set_slope_inter(slope, inter)
    f = out + '/' + name + '.nii.gz'
    img.to_filename(f)
    back = nib.load(f)
    np.ascontiguousarray(back.get_fdata().ravel(order='F')).astype('<f8').tofile(out + '/' + name + '.f64')
    res[name] = {'file': f, 'affine': back.affine.tolist(), 'shape': list(back.shape), 'zooms': [float(z) for z in back.header.get_zooms()]}
print(json.dumps(res))
`;

describe('io/nifti interop with nibabel', function () {
  this.timeout(60000);
  let dir: string;
  before(() => {
    requireNibabel();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pet-iqa-nibabel-'));
  });
  after(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('nibabel reads what writeNifti wrote: shape, affine, qform, zooms and every value exactly', () => {
    // Rotation 25 deg about z, 10 deg about y, the i axis flipped, anisotropic voxels, an offset.
    const a = (25 * Math.PI) / 180;
    const b = (10 * Math.PI) / 180;
    const Rz = [
      [Math.cos(a), -Math.sin(a), 0],
      [Math.sin(a), Math.cos(a), 0],
      [0, 0, 1],
    ];
    const Ry = [
      [Math.cos(b), 0, Math.sin(b)],
      [0, 1, 0],
      [-Math.sin(b), 0, Math.cos(b)],
    ];
    const R = Rz.map((row) => [0, 1, 2].map((j) => row.reduce((acc, v, k) => acc + v * Ry[k][j], 0)));
    const zooms = [2.09, 1.75, 3.2];
    const flip = [-1, 1, 1];
    const offset = [118.3, -97.6, -55.9];
    const affine = [
      ...[0, 1, 2].map((r) => [...[0, 1, 2].map((c) => R[r][c] * zooms[c] * flip[c]), offset[r]]),
      [0, 0, 0, 1],
    ];
    const dims: [number, number, number] = [7, 6, 5];
    const rng = new Rng(2024);
    const data = new Float32Array(7 * 6 * 5);
    for (let i = 0; i < data.length; i++) data[i] = rng.normal(0, 1e4);
    const vol: Volume = { data, dims, voxelSize: [zooms[0], zooms[1], zooms[2]], affine, units: 'Bq/ml' };
    const file = path.join(dir, 'ours.nii.gz');
    writeNifti(file, vol, { description: 'interop' });

    const dump = path.join(dir, 'ours.f32');
    const info = JSON.parse(python(READ_SCRIPT, [file, dump]));
    assert.deepEqual(info.shape, dims);
    assert.equal(info.dtype, 'float32');
    assert.deepEqual(info.affine, affine.map((row) => row.map(Math.fround)), 'nibabel affine is the float32 sform');
    assert.equal(info.sform_code, 1);
    assert.equal(info.qform_code, 1);
    for (let r = 0; r < 4; r++) {
      for (let c = 0; c < 4; c++) {
        assert.ok(Math.abs(info.qform[r][c] - affine[r][c]) < 1e-4, `nibabel qform[${r}][${c}] ${info.qform[r][c]} vs ${affine[r][c]}`);
      }
    }
    assert.deepEqual(info.zooms, zooms.map(Math.fround));
    assert.deepEqual(info.units, ['mm', 'unknown']);
    assert.equal(info.descrip, 'units=Bq/ml; interop');
    const bytes = fs.readFileSync(dump);
    const theirs = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    assert.equal(theirs.length, data.length);
    assert.deepEqual(Array.from(theirs), Array.from(data), 'voxel values, i fastest');
    assert.deepEqual(info.cal, [Math.min(...data), Math.max(...data)]);
  });

  it('readNifti reads what nibabel wrote (int16/uint8/float64 with slope and intercept, rotated affine)', () => {
    const res = JSON.parse(python(WRITE_SCRIPT, [dir]));
    for (const name of ['i16', 'u8', 'f64']) {
      const r = res[name];
      const v = readNifti(r.file);
      assert.deepEqual(v.dims, r.shape, `${name} dims`);
      assert.deepEqual(v.affine, r.affine, `${name} affine`);
      assert.deepEqual(v.voxelSize, r.zooms, `${name} zooms`);
      const bytes = fs.readFileSync(path.join(dir, `${name}.f64`));
      const expected = new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
      assert.equal(v.data.length, expected.length);
      const mismatch = Array.from(expected).findIndex((e, i) => Math.fround(e) !== v.data[i]);
      assert.equal(mismatch, -1, `${name} voxel ${mismatch}: ${v.data[mismatch]} vs nibabel ${expected[mismatch]}`);
    }
    assert.equal(readNifti(res.i16.file).datatype, 'int16');
    assert.equal(readNifti(res.u8.file).datatype, 'uint8');
    assert.equal(readNifti(res.f64.file).datatype, 'float64');
  });
});
