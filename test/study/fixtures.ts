import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { writeDatasetFile, type StudyDataset } from '../../lib/study/data';
import { getPreset, type StudyPreset } from '../../lib/study/presets';
import { Rng } from '../../lib/util/rng';

/** 13 patients x 3 volumes x `per` patches of 16 x 16 whose brightness and noise follow the labels. */
export function tinyDataset(per = 4, size = 16): StudyDataset {
  const rng = new Rng(42);
  const patients = Array.from({ length: 13 }, (_, i) => `p${i + 1}`);
  const patches: number[] = [];
  const labels: number[] = [];
  const patchPatient: string[] = [];
  const patchRecon: string[] = [];
  for (const p of patients) {
    for (let v = 0; v < 3; v++) {
      const q = [0.5, 1.5, 2.5][v] + rng.uniform(-0.5, 0.5);
      for (let k = 0; k < per; k++) {
        for (let i = 0; i < size * size; i++) patches.push(Math.min(1, Math.max(0, 0.2 + 0.2 * q + rng.normal(0, 0.3 / (1 + q)))));
        labels.push(q, q * 0.9, Math.min(3, q + 0.2));
        patchPatient.push(p);
        patchRecon.push(`${p}-v${v}`);
      }
    }
  }
  return { key: 'tiny-dataset-v1', size, count: patchPatient.length, patches: Float32Array.from(patches), labels: Float32Array.from(labels), patchPatient, patchRecon };
}

export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A dataset file plus a small preset for runner tests. */
export function fixture(): { dataFile: string; preset: StudyPreset; builderModule: string } {
  const dir = tmpDir('study-data-');
  const dataFile = path.join(dir, 'dataset.json');
  writeDatasetFile(dataFile, tinyDataset(), { kind: 'synthetic', manifest: 'test', manifestSha256: '0', patchSetHash: 'tiny-dataset-v1' });
  return { dataFile, preset: fixturePreset(), builderModule: path.join(__dirname, 'tiny_backbone.ts') };
}

/** The smoke preset cut down for the tiny dataset: 17 runs of one backbone (16 frozen, 1 partial). */
export function fixturePreset(): StudyPreset {
  const preset = getPreset('smoke');
  preset.patches = { ...preset.patches, size: 16 };
  preset.backbones = ['MobileNet'];
  preset.frozenTrain = { epochs: 3 };
  preset.partialTrain = { epochs: 1 };
  preset.design = { ...preset.design, trainingSizes: [1, 4], ensembleRepeats: 2 };
  preset.partial = { fold: 0, n: 4 };
  return preset;
}
