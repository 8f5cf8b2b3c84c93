import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { NIFTI_GZIP_SLACK_BYTES, readNifti, voxelDigest, writeNifti } from '../../lib/io';
import type { Volume } from '../../lib/types';

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function cube(n: number): Volume {
  const data = Float32Array.from({ length: n * n * n }, (_, i) => (i % 7) * 10);
  return { data, dims: [n, n, n], voxelSize: [2, 2, 2], affine: [[2, 0, 0, 0], [0, 2, 0, 0], [0, 0, 2, 0], [0, 0, 0, 1]], units: 'Bq/ml' };
}

describe('io/nifti: .nii.gz inflation is limited by the header; voxelDigest', function () {
  this.timeout(60000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nifti-limits-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('refuses a small .nii.gz that expands to 1 GB as soon as it passes what its header describes', () => {
    const nii = path.join(dir, 'small.nii');
    writeNifti(nii, cube(10)); // 352 + 4000 bytes
    const zeros = Buffer.alloc(8 << 20);
    const zerosGz = zlib.gzipSync(zeros, { level: 9 });
    // Concatenated gzip members: the real file, then 128 x 8 MB of zeros (gunzip reads them all as one stream).
    const bomb = Buffer.concat([zlib.gzipSync(fs.readFileSync(nii)), ...Array(128).fill(zerosGz)]);
    const file = path.join(dir, 'bomb.nii.gz');
    fs.writeFileSync(file, bomb);
    assert.ok(bomb.length < 2 << 20, `${bomb.length} bytes on disk`);
    const t0 = performance.now();
    assert.throws(
      () => readNifti(file),
      new RegExp(
        `^NiftiError: NIfTI ${esc(file)}: gzip data inflates to more than ${4352 + NIFTI_GZIP_SLACK_BYTES} bytes but the header describes 4352 ` +
          `\\(dims 10x10x10 of float32 need 4000 bytes from offset 352\\); refused without inflating the rest`,
      ),
    );
    const ms = performance.now() - t0;
    assert.ok(ms < 3000, `refused after ${ms.toFixed(0)} ms (inflating 1 GB takes seconds)`);
    // The same volume without the padding reads as before.
    const ok = path.join(dir, 'ok.nii.gz');
    writeNifti(ok, cube(10));
    assert.equal(readNifti(ok).data.length, 1000);
  });

  it('refuses a header describing more than its compressed bytes could hold, before inflating', () => {
    const nii = path.join(dir, 'claim.nii');
    writeNifti(nii, cube(4));
    const bytes = fs.readFileSync(nii);
    // dim = [3, 1000, 1000, 1000]: 4 GB of float32 claimed by a file of a few hundred bytes.
    bytes.writeInt16LE(1000, 42);
    bytes.writeInt16LE(1000, 44);
    bytes.writeInt16LE(1000, 46);
    const file = path.join(dir, 'claim.nii.gz');
    fs.writeFileSync(file, zlib.gzipSync(bytes));
    assert.throws(
      () => readNifti(file),
      new RegExp(`^NiftiError: NIfTI ${esc(file)}: truncated image data: dims 1000x1000x1000 of float32 need 4000000000 bytes from offset 352, more than \\d+ gzip-compressed bytes can hold`),
    );
  });

  it('voxelDigest depends on voxels and geometry, not on compression or the header description', () => {
    const v = cube(6);
    const files = {
      nii: path.join(dir, 'v.nii'),
      gz1: path.join(dir, 'v1.nii.gz'),
      gz9: path.join(dir, 'v9.nii.gz'),
      descr: path.join(dir, 'vd.nii.gz'),
    };
    writeNifti(files.nii, v);
    writeNifti(files.gz1, v, { compressionLevel: 1 });
    writeNifti(files.gz9, v, { compressionLevel: 9 });
    writeNifti(files.descr, v, { description: 'another description' });
    const digests = Object.values(files).map((f) => voxelDigest(readNifti(f)));
    assert.equal(new Set(Object.values(files).map((f) => fs.readFileSync(f).toString('hex'))).size, 4, 'four different files');
    assert.equal(new Set(digests).size, 1, 'one volume');
    const moved = { ...v, affine: v.affine.map((r, i) => (i === 0 ? [r[0], r[1], r[2], r[3] + 1] : r)) };
    const changed = { ...v, data: v.data.map((x, i) => (i === 5 ? x + 1 : x)) };
    assert.notEqual(voxelDigest(moved), digests[0]);
    assert.notEqual(voxelDigest(changed), digests[0]);
  });
});
