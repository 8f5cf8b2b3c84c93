/**
 * A tiny cohort on disk for the reliability tests: 2 patients (200 MBq, 70 kg) x 2 count levels of
 * 24 x 24 x 16 volumes, a bright ball on a dim background in Bq/ml with a 99th percentile near SUV 4
 * (11400 Bq/ml), as brain FDG. Options put one volume in kBq/ml or make a checksum wrong.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { writeNifti } from '../../lib/io';
import { writeManifest, type CohortManifest } from '../../lib/manifest';
import type { Volume } from '../../lib/types';
import { digest } from '../../lib/util/files';
import { Rng } from '../../lib/util/rng';

export interface TinyCohort {
  dir: string;
  manifest: string;
  /** Absolute paths of the volumes, in manifest order. */
  files: string[];
}

/** A ball of ~11400 Bq/ml (SUV 4 at 200 MBq / 70 kg) in a 500 Bq/ml background, with seeded noise. */
export function ballVolume(seed: number, dims: [number, number, number] = [24, 24, 16]): Volume {
  const rng = new Rng(seed);
  const [nx, ny, nz] = dims;
  const data = new Float32Array(nx * ny * nz);
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) {
        const r2 = ((i - nx / 2) / (nx / 3)) ** 2 + ((j - ny / 2) / (ny / 3)) ** 2 + ((k - nz / 2) / (nz / 3)) ** 2;
        data[i + nx * (j + ny * k)] = (r2 < 1 ? 10000 : 500) + 1000 * rng.next();
      }
  return { data, dims, voxelSize: [2, 2, 2], affine: [[2, 0, 0, -nx], [0, 2, 0, -ny], [0, 0, 2, -nz], [0, 0, 0, 1]], units: 'Bq/ml' };
}

export function tinyCohort(opts: { kBqVolume?: number; wrongChecksum?: number; edit?: (m: CohortManifest) => void } = {}): TinyCohort {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tiny-cohort-'));
  const manifest: CohortManifest = {
    schema: 'pet-iqa/cohort@1',
    name: 'tiny',
    synthetic: true,
    patients: ['A', 'B'].map((id) => ({ id, sex: 'F' as const, age: 60, weightKg: 70, injectedMBq: 200 })),
    reconstructions: [],
  };
  const files: string[] = [];
  let n = 0;
  for (const p of ['A', 'B']) {
    for (const level of [10, 100]) {
      const vol = ballVolume(n + 1);
      // The kBq/ml volume: values 1000x smaller, its header saying nothing about units.
      if (n === opts.kBqVolume) Object.assign(vol, { data: vol.data.map((x) => x / 1000), units: undefined });
      const rel = `vol/${p}_${level}.nii.gz`;
      const file = path.join(dir, rel);
      const sha = writeNifti(file, vol);
      files.push(file);
      manifest.reconstructions.push({
        id: `${p}-${level}`,
        patient: p,
        countPercent: level,
        path: rel,
        sha256: n === opts.wrongChecksum ? digest('another file') : sha,
        units: 'Bq/ml',
        ratings: [{ rater: 'R1', GQR: level === 100 ? 3 : 1, PR: 2, DC: 2 }],
      });
      n++;
    }
  }
  opts.edit?.(manifest);
  const file = path.join(dir, 'manifest.json');
  writeManifest(file, manifest);
  return { dir, manifest: file, files };
}
