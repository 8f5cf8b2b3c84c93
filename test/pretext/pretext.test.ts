import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { writeNifti } from '../../lib/io';
import { writeManifest, type CohortManifest } from '../../lib/manifest';
import { ensurePretextWeights, loadPretextData, pretextTaskOf, pretrainBackbone, readPretextRecord, type PretextSpec } from '../../lib/pretext';
import type { Volume } from '../../lib/types';
import { Rng } from '../../lib/util/rng';
import { loadKerasH5Weights, saveKerasH5Weights } from '../../lib/weights/h5';
import { setupBackend, tinyBackbone } from '../train/helpers';

const LEVELS = [1, 10, 100];
const PATIENTS = ['A', 'B', 'C', 'D', 'E'];

/** 5 patients x 3 count levels of 24^3 blobs whose noise falls with the count level; E is the test patient; only 100 % is rated. */
function makeCohort(dir: string): string {
  const rng = new Rng(5);
  const manifest: CohortManifest = {
    schema: 'pet-iqa/cohort@1',
    name: 'pretext-test',
    synthetic: true,
    patients: PATIENTS.map((id) => ({ id, sex: 'M' as const, age: 50, weightKg: 80, injectedMBq: 200 })),
    reconstructions: [],
    testPatients: ['E'],
  };
  for (const p of PATIENTS) {
    for (const level of LEVELS) {
      const data = new Float32Array(24 ** 3);
      const noise = 400 / Math.sqrt(level);
      for (let k = 0; k < 24; k++)
        for (let j = 0; j < 24; j++)
          for (let i = 0; i < 24; i++) {
            const r2 = (i - 12) ** 2 + (j - 12) ** 2 + (k - 12) ** 2;
            data[i + 24 * (j + 24 * k)] = Math.max(0, (r2 < 100 ? 1000 : 0) + noise * rng.normal());
          }
      const vol: Volume = { data, dims: [24, 24, 24], voxelSize: [2, 2, 2], affine: [[2, 0, 0, -24], [0, 2, 0, -24], [0, 0, 2, -24], [0, 0, 0, 1]], units: 'Bq/ml' };
      const rel = `vol/${p}_${level}.nii.gz`;
      writeNifti(path.join(dir, rel), vol);
      manifest.reconstructions.push({
        id: `${p}-${level}`,
        patient: p,
        countPercent: level,
        path: rel,
        units: 'Bq/ml',
        ...(level === 100 ? { ratings: [{ rater: 'R1', GQR: 3, PR: 3, DC: 3 }] } : {}),
      });
    }
  }
  const file = path.join(dir, 'manifest.json');
  writeManifest(file, manifest);
  return file;
}

const PATCHES = { size: 16, candidates: 60, keep: 6, onTooFew: 'warn' as const, seed: 0 };

describe('pretext', function () {
  this.timeout(120000);
  let dir: string;
  let manifest: string;
  before(async () => {
    await setupBackend();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pretext-'));
    manifest = makeCohort(dir);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads every count level, rated or not, of the non-test patients only, labelled ln(count %)', async () => {
    const data = await loadPretextData(manifest, { excludePatients: ['E'], patchConfig: { ...PATCHES, cacheDir: null, workers: 0 } });
    assert.deepEqual(data.patients, ['A', 'B', 'C', 'D']);
    assert.deepEqual(data.excludedPatients, ['E']);
    assert.ok(!data.patchPatient.includes('E'));
    assert.equal(data.count, 4 * 3 * 3 * 6);
    for (let i = 0; i < data.count; i++) {
      const level = Number(data.patchRecon[i].split('-')[1]);
      assert.equal(data.targets[i], Math.fround(Math.log(level)));
    }
    assert.deepEqual([...new Set(data.patchRecon.map((r) => r.split('-')[1]))].sort(), ['1', '10', '100']);
  });

  it('parses --weights pretext[:task] and rejects unknown tasks', () => {
    assert.equal(pretextTaskOf('pretext'), 'count-level');
    assert.equal(pretextTaskOf('pretext:count-level'), 'count-level');
    assert.equal(pretextTaskOf('imagenet'), undefined);
    assert.throws(() => pretextTaskOf('pretext:denoise'), /unknown pretext task 'denoise'; valid tasks: count-level/);
  });

  it('pretraining on a tiny cohort lowers the pretext loss and the model ranks count levels in inference mode', async () => {
    const data = await loadPretextData(manifest, { excludePatients: ['E'], patchConfig: { ...PATCHES, cacheDir: null, workers: 0 } });
    const base = tinyBackbone(16, 3);
    const rows = (ps: string[]) => data.patchPatient.flatMap((p, i) => (ps.includes(p) ? [i] : []));
    const r = pretrainBackbone({ base, preprocessing: 'tf', patches: data.patches, size: 16, targets: data.targets, train: rows(['A', 'B', 'C']), validation: rows(['D']), config: { steps: 60, batchSize: 16, crop: 16, learningRate: 1e-2, calibrationImages: 32 } });
    const first = r.losses.slice(0, 5).reduce((a, b) => a + b) / 5;
    const last = r.losses.slice(-10).reduce((a, b) => a + b) / 10;
    assert.ok(last < 0.5 * first, `loss ${first.toFixed(3)} -> ${last.toFixed(3)}`);
    assert.equal(r.losses.length, 60);
    assert.equal(r.bnLayers, 4);
    // Inference mode (re-measured BN statistics) on an unseen patient: not collapsed, better than the mean.
    assert.ok(r.check.r2 > 0.5, `check R2 ${r.check.r2}`);
    assert.ok(r.check.predictionSpread > 0.5, `spread ${r.check.predictionSpread}`);
    base.dispose();
  });

  it('writes a Keras .h5 that the loader reads back bit-exactly', async () => {
    const a = tinyBackbone(16, 3);
    const b = tinyBackbone(16, 9);
    const file = path.join(dir, 'roundtrip.h5');
    await saveKerasH5Weights(a, file);
    await loadKerasH5Weights(b, file);
    const wa = a.getWeights();
    const wb = b.getWeights();
    assert.equal(wa.length, wb.length);
    wa.forEach((w, i) => assert.deepEqual(Buffer.from((wb[i].dataSync() as Float32Array).buffer), Buffer.from((w.dataSync() as Float32Array).buffer), `weight ${i}`));
    a.dispose();
    b.dispose();
  });

  it('ensurePretextWeights trains once without the test patient, caches by key, round-trips, and retrains a tampered file', async () => {
    const spec: PretextSpec = { backbone: 'MobileNet', manifestPath: manifest, cohort: 'tiny', excludePatients: ['E'], patchConfig: PATCHES, train: { steps: 4, batchSize: 8, crop: 16, calibrationImages: 16 }, checkPatients: 1 };
    const cacheDir = path.join(dir, 'cache');
    const logs: string[] = [];
    const build = (_n: string, args: { inputSize?: number; seed?: number }) => tinyBackbone(args.inputSize ?? 16, 1 + (args.seed ?? 0));
    const first = await ensurePretextWeights(spec, { cacheDir, build, log: (s) => logs.push(s) });
    assert.equal(first.cached, false);
    const rec = readPretextRecord(first.file.replace(/\.h5$/, '.json'));
    assert.deepEqual(rec.excludedPatients, ['E']);
    assert.ok(!rec.patients.includes('E') && !rec.trainPatients.includes('E') && !rec.checkPatients.includes('E'));
    assert.equal(rec.stepsRun, 4);
    assert.equal(rec.label, 'pretext (count level, tiny)');
    assert.equal(first.provenance.kind, 'pretext');
    assert.equal(first.provenance.label, 'pretext (count level, tiny)');
    // The file holds what a fresh model loads.
    const m = tinyBackbone(16, 7);
    await loadKerasH5Weights(m, first.file);
    m.dispose();
    const again = await ensurePretextWeights(spec, { cacheDir, build, log: (s) => logs.push(s) });
    assert.equal(again.cached, true);
    assert.equal(again.record.sha256, rec.sha256);
    // Another step count is another file.
    const other = await ensurePretextWeights({ ...spec, train: { ...spec.train, steps: 3 } }, { cacheDir, build, log: () => undefined });
    assert.notEqual(other.file, first.file);
    fs.appendFileSync(first.file, 'x');
    const redone = await ensurePretextWeights(spec, { cacheDir, build, log: (s) => logs.push(s) });
    assert.equal(redone.cached, false);
    assert.ok(logs.some((l) => /does not match its record; pretraining again/.test(l)));
  });
});
