import { strict as assert } from 'assert';
import { Rng } from '../../lib/util/rng';
import type { Volume } from '../../lib/types';
import { boxSum, extractPatch, patchVoxel, sampleNormalizedPatches, samplePatches, summedVolume, PLANES } from '../../lib/patches/sampler';
import { normalizeMinMax } from '../../lib/patches/normalize';

function volumeOf(dims: [number, number, number], f: (i: number, j: number, k: number) => number): Volume {
  const data = new Float32Array(dims[0] * dims[1] * dims[2]);
  for (let k = 0; k < dims[2]; k++)
    for (let j = 0; j < dims[1]; j++)
      for (let i = 0; i < dims[0]; i++) data[i + dims[0] * (j + dims[1] * k)] = f(i, j, k);
  const affine = [[2, 0, 0, 0], [0, 2, 0, 0], [0, 0, 2, 0], [0, 0, 0, 1]];
  return { data, dims, voxelSize: [2, 2, 2], affine };
}

const at = (v: Volume, i: number, j: number, k: number) => v.data[i + v.dims[0] * (j + v.dims[1] * k)];

describe('patches/normalize', () => {
  it('maps min to 0 and max to 1, linearly', () => {
    const v = volumeOf([2, 2, 2], (i, j, k) => 10 + i + 2 * j + 4 * k); // 10..17
    const n = normalizeMinMax(v);
    assert.equal(n.data[0], 0);
    assert.equal(n.data[7], 1);
    assert.ok(Math.abs(n.data[3] - 3 / 7) < 1e-7);
  });
  it('rejects a constant volume and NaN voxels, naming the source', () => {
    assert.throws(() => normalizeMinMax(volumeOf([2, 2, 2], () => 5), 'a.nii.gz'), /a\.nii\.gz: constant volume/);
    const v = volumeOf([2, 2, 2], () => 1);
    v.data[3] = NaN;
    assert.throws(() => normalizeMinMax(v, 'b.nii'), /b\.nii: voxel 3 is NaN/);
  });
});

describe('patches/sampler', () => {
  it('summed-volume box sums equal brute-force sums', () => {
    const rng = new Rng(1);
    const v = volumeOf([7, 5, 6], () => rng.next());
    const S = summedVolume(v);
    for (let t = 0; t < 50; t++) {
      const a = [rng.int(7), rng.int(5), rng.int(6)];
      const b = [a[0] + 1 + rng.int(7 - a[0]), a[1] + 1 + rng.int(5 - a[1]), a[2] + 1 + rng.int(6 - a[2])];
      let brute = 0;
      for (let k = a[2]; k < b[2]; k++) for (let j = a[1]; j < b[1]; j++) for (let i = a[0]; i < b[0]; i++) brute += at(v, i, j, k);
      assert.ok(Math.abs(boxSum(S, v.dims, a[0], b[0], a[1], b[1], a[2], b[2]) - brute) < 1e-9);
    }
  });

  it('a reused (dirty) scratch table gives the same sums as a fresh one', () => {
    const rng = new Rng(2);
    const v = volumeOf([6, 5, 4], () => rng.next());
    const dirty = new Float64Array(7 * 6 * 5 + 13).fill(12345);
    assert.deepEqual(Array.from(summedVolume(v, dirty)), Array.from(summedVolume(v)));
  });

  it('sampleNormalizedPatches equals normalizeMinMax followed by samplePatches', () => {
    const rng = new Rng(4);
    const v = volumeOf([40, 36, 34], (i, j, k) => 5000 * Math.exp(-((i - 20) ** 2 + (j - 18) ** 2 + (k - 17) ** 2) / 150) + 200 * rng.next() - 50);
    const cfg = { size: 16, candidates: 200, keep: 20 };
    const fused = sampleNormalizedPatches(v, cfg, new Rng(8), 'v');
    const twoStep = samplePatches(normalizeMinMax(v), cfg, new Rng(8), 'v');
    assert.deepEqual(fused.locations, twoStep.locations);
    assert.deepEqual(fused.stats, twoStep.stats);
    assert.deepEqual(Array.from(fused.data), Array.from(twoStep.data));
    assert.ok(Math.abs(fused.volumeMean - twoStep.volumeMean) < 1e-7 * twoStep.volumeMean);
  });

  it('rejects exactly the candidates whose mean is below 1/8 of the volume mean (hand-made half volume)', () => {
    // Foreground is i < 20 of 40: volume mean 0.5, threshold 1/16. A transverse or coronal patch
    // of size 16 at column c has mean max(0, min(16, 20 - c)) / 16, so it survives iff c <= 19.
    // Sagittal patches lie in one i-slice: all-ones (survive) when i < 20, all zeros otherwise.
    const v = volumeOf([40, 40, 40], (i) => (i < 20 ? 1 : 0));
    const out = samplePatches(v, { size: 16, candidates: 400, keep: 50, recordCandidates: true }, new Rng(3));
    assert.equal(out.volumeMean, 0.5);
    assert.equal(out.threshold, 0.5 / 8);
    assert.equal(out.candidates!.length, 1200);
    for (const c of out.candidates!) {
      const expectedMean = c.plane === 'sagittal' ? (c.slice < 20 ? 1 : 0) : Math.max(0, Math.min(16, 20 - c.col)) / 16;
      assert.ok(Math.abs(c.mean - expectedMean) < 1e-12, `mean of ${JSON.stringify(c)}`);
      assert.equal(c.background, expectedMean < 1 / 16);
    }
    for (const s of out.stats) {
      const expected = out.candidates!.filter((c) => c.plane === s.plane && !c.background).length;
      assert.equal(s.survivors, expected);
      assert.equal(s.kept, 50);
      assert.equal(s.candidates, 400);
    }
  });

  it('keeps patches that lie inside the volume, pass the threshold and hold the right voxels', () => {
    const rng = new Rng(5);
    const v = normalizeMinMax(volumeOf([50, 44, 36], (i, j, k) => Math.exp(-((i - 25) ** 2 + (j - 22) ** 2 + (k - 18) ** 2) / 200) + 0.01 * rng.next()));
    const out = samplePatches(v, { size: 20, candidates: 300, keep: 30 }, new Rng(9));
    assert.equal(out.locations.length, 90);
    assert.deepEqual(out.stats.map((s) => s.plane), [...PLANES]);
    out.locations.forEach((loc, p) => {
      let sum = 0;
      for (let r = 0; r < 20; r++)
        for (let c = 0; c < 20; c++) {
          const [i, j, k] = patchVoxel(loc, r, c);
          assert.ok(i >= 0 && i < 50 && j >= 0 && j < 44 && k >= 0 && k < 36, 'inside the volume');
          const value = out.data[p * 400 + r * 20 + c];
          assert.equal(value, at(v, i, j, k));
          sum += value;
        }
      assert.ok(sum / 400 >= out.threshold);
    });
    const single = extractPatch(v, out.locations[0], 20, new Float32Array(400));
    assert.deepEqual(Array.from(single), Array.from(out.data.subarray(0, 400)));
  });

  it('same seed gives identical patches, a different seed different ones', () => {
    const v = volumeOf([30, 30, 30], (i, j, k) => (i + j + k) % 7);
    const cfg = { size: 10, candidates: 100, keep: 10 };
    const a = samplePatches(v, cfg, new Rng(42));
    const b = samplePatches(v, cfg, new Rng(42));
    const c = samplePatches(v, cfg, new Rng(43));
    assert.deepEqual(a.locations, b.locations);
    assert.deepEqual(Array.from(a.data), Array.from(b.data));
    assert.notDeepEqual(a.locations, c.locations);
  });

  it('errors for a volume smaller than the patch, and for too few survivors unless told to warn', () => {
    const small = volumeOf([100, 100, 20], () => 1);
    assert.throws(() => samplePatches(small, { size: 32 }, new Rng(1), 'tiny.nii.gz'), /tiny\.nii\.gz: volume 100x100x20 is smaller than a 32x32 patch in the sagittal plane/);
    // One bright voxel: almost every candidate is background.
    const sparse = volumeOf([40, 40, 40], (i, j, k) => (i === 5 && j === 5 && k === 5 ? 1 : 0));
    assert.throws(() => samplePatches(sparse, { size: 8, candidates: 50, keep: 20 }, new Rng(1), 'sparse.nii'), /sparse\.nii: only \d+ of 50 candidates in the sagittal plane passed the background threshold; 20 are needed/);
    const warned = samplePatches(sparse, { size: 8, candidates: 50, keep: 20, onTooFew: 'warn' }, new Rng(1), 'sparse.nii');
    assert.equal(warned.warnings.length, 3);
    assert.ok(warned.stats.every((s) => s.kept === s.survivors && s.kept < 20));
  });

  it('validates its settings', () => {
    const v = volumeOf([20, 20, 20], () => 1);
    assert.throws(() => samplePatches(v, { size: 0 }, new Rng(1)), /size must be a positive integer/);
    assert.throws(() => samplePatches(v, { size: 4, planes: ['axial' as never] }, new Rng(1)), /unknown plane 'axial'/);
  });
});
