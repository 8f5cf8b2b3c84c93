import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readNpy, writeNifti } from '../../lib/io';
import { loadManifest, writeManifest, type CohortManifest } from '../../lib/manifest';
import { buildPatchDataset, gatherLabels, subsetIndices, patchDatasetKey } from '../../lib/patches';
import type { Volume } from '../../lib/types';
import { Rng } from '../../lib/util/rng';

/** A small cohort on disk: 3 patients x 2 count levels of 24^3 blobs, one level rated. */
function makeCohort(dir: string): string {
  const rng = new Rng(11);
  const manifest: CohortManifest = {
    schema: 'pet-iqa/cohort@1',
    name: 'dataset-test',
    synthetic: true,
    patients: ['A', 'B', 'C'].map((id) => ({ id, sex: 'F' as const, age: 60, weightKg: 70, injectedMBq: 200 })),
    reconstructions: [],
  };
  for (const p of ['A', 'B', 'C']) {
    for (const level of [10, 100]) {
      const dims: [number, number, number] = [24, 24, 24];
      const data = new Float32Array(24 ** 3);
      for (let k = 0; k < 24; k++)
        for (let j = 0; j < 24; j++)
          for (let i = 0; i < 24; i++) {
            const r2 = (i - 12) ** 2 + (j - 12) ** 2 + (k - 12) ** 2;
            data[i + 24 * (j + 24 * k)] = (r2 < 81 ? 1000 : 0) + 50 * rng.next();
          }
      const vol: Volume = { data, dims, voxelSize: [2, 2, 2], affine: [[2, 0, 0, -24], [0, 2, 0, -24], [0, 0, 2, -24], [0, 0, 0, 1]], units: 'Bq/ml' };
      const rel = `vol/${p}_${level}.nii.gz`;
      writeNifti(path.join(dir, rel), vol);
      manifest.reconstructions.push({
        id: `${p}-${level}`,
        patient: p,
        countPercent: level,
        path: rel,
        units: 'Bq/ml',
        ...(level === 100 ? { ratings: [{ rater: 'R1', GQR: 3, PR: 2.5, DC: 2 }, { rater: 'R2', GQR: 2.5, PR: 2.5, DC: 2.5 }] } : {}),
      });
    }
  }
  const file = path.join(dir, 'manifest.json');
  writeManifest(file, manifest);
  return file;
}

describe('patches/dataset', () => {
  let dir: string;
  let manifestFile: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pet-iqa-ds-'));
    manifestFile = makeCohort(dir);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('samples the rated volumes with their labels (mean of raters), and caches by content', async () => {
    const loaded = loadManifest(manifestFile);
    const cacheDir = path.join(dir, 'cache');
    const cfg = { size: 12, candidates: 60, keep: 5, seed: 3, cacheDir };
    const ds = await buildPatchDataset(loaded, cfg);
    assert.equal(ds.count, 3 * 3 * 5, '3 rated volumes x 3 planes x 5');
    assert.deepEqual([...new Set(ds.patchRecon)], ['A-100', 'B-100', 'C-100']);
    assert.deepEqual(Array.from(ds.labels.subarray(0, 3)), [2.75, 2.5, 2.25]);
    assert.equal(ds.patches.length, ds.count * 144);
    assert.ok(ds.patches.every((v) => v >= 0 && v <= 1), 'values normalised to [0, 1]');
    assert.equal(ds.stats.length, 9);
    // lib/util/cache's layout: patches [count, size, size] and labels [count, 3] as .npy, JSON sidecar.
    assert.deepEqual(fs.readdirSync(cacheDir).sort(), [`${ds.key}.0.npy`, `${ds.key}.1.npy`, `${ds.key}.json`]);
    assert.deepEqual(readNpy(path.join(cacheDir, `${ds.key}.0.npy`)).shape, [ds.count, 12, 12]);
    assert.deepEqual(Array.from(readNpy(path.join(cacheDir, `${ds.key}.1.npy`)).data), Array.from(ds.labels));

    const again = await buildPatchDataset(loaded, cfg);
    assert.deepEqual(Array.from(again.patches), Array.from(ds.patches));
    assert.deepEqual(again.meta, ds.meta);
    const reseeded = await buildPatchDataset(loaded, { ...cfg, seed: 4 });
    assert.notEqual(reseeded.key, ds.key);
    assert.notDeepEqual(reseeded.meta, ds.meta);
    assert.equal(patchDatasetKey(loaded, cfg), ds.key);
  });

  it('two worker threads give the same dataset as the calling thread', async () => {
    const loaded = loadManifest(manifestFile);
    const cfg = { size: 12, candidates: 60, keep: 5, seed: 5, cacheDir: null };
    const inThread = await buildPatchDataset(loaded, { ...cfg, workers: 0 });
    const seen: string[] = [];
    const parallel = await buildPatchDataset(loaded, { ...cfg, workers: 2, onProgress: (_d, _t, r) => seen.push(r) });
    assert.deepEqual(Array.from(parallel.patches), Array.from(inThread.patches));
    assert.deepEqual(parallel.meta, inThread.meta);
    assert.deepEqual(Array.from(parallel.labels), Array.from(inThread.labels));
    assert.equal(parallel.key, inThread.key);
    assert.deepEqual(seen.sort(), ['A-100', 'B-100', 'C-100']);
  });

  it('a damaged cache entry is rebuilt, not trusted', async () => {
    const loaded = loadManifest(manifestFile);
    const cacheDir = path.join(dir, 'cache2');
    const cfg = { size: 12, candidates: 60, keep: 5, seed: 1, cacheDir };
    const ds = await buildPatchDataset(loaded, cfg);
    fs.truncateSync(path.join(cacheDir, `${ds.key}.0.npy`), 100);
    const rebuilt = await buildPatchDataset(loaded, cfg);
    assert.deepEqual(Array.from(rebuilt.patches), Array.from(ds.patches));
  });

  it('selects patients by id and gathers their labels', async () => {
    const ds = await buildPatchDataset(loadManifest(manifestFile), { size: 12, candidates: 60, keep: 4, cacheDir: null });
    const idx = subsetIndices(ds, ['B']);
    assert.equal(idx.length, 12);
    for (const i of idx) assert.equal(ds.patchPatient[i], 'B');
    assert.equal(gatherLabels(ds, idx).length, 36);
    assert.throws(() => subsetIndices(ds, ['Z']), /patient 'Z' has no patches/);
  });
});
