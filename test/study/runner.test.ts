import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { runStudy } from '../../lib/study/runner';
import { readRecords } from '../../lib/study/summary';
import type { RunRecord } from '../../lib/types';
import { fixture, tinyDataset, tmpDir } from './fixtures';
import { readBaselines } from '../../lib/study/baselines';
import { subsetIndices } from '../../lib/patches/dataset';

/** A record without what legitimately differs between two identical runs. */
function stable(r: RunRecord): unknown {
  const { timings: _t, provenance, ...rest } = r;
  const { startedAt: _s, finishedAt: _f, machine: _m, ...prov } = provenance;
  return { ...rest, provenance: prov };
}

describe('study/runner (tiny backbone double, dataset file)', function () {
  this.timeout(120000);
  const fx = fixture();
  const cacheDir = tmpDir('study-cache-');
  const common = { preset: fx.preset, data: { kind: 'file' as const, file: fx.dataFile }, builderModule: fx.builderModule, weights: { kind: 'random' as const }, cacheDir, progress: false, log: () => undefined };
  let full: RunRecord[] = [];
  let fullOut = '';

  it('runs the sweep: records, design, summary and kept models', async () => {
    const out = tmpDir('study-full-');
    fullOut = out;
    const r = await runStudy({ ...common, out, workers: 0 });
    // 6 folds x 2 sizes + 2 repeats x 2 sizes frozen, 1 partial.
    assert.equal(r.planned, 12 + 4 + 1);
    assert.equal(r.ran, 17);
    full = readRecords(out);
    assert.equal(full.length, 17);
    for (const rec of full) {
      assert.equal(rec.provenance.weights.kind, 'random init');
      assert.equal(rec.history.length, rec.regime === 'frozen' ? 3 : 1);
      assert.equal(rec.metrics.minValLoss, Math.min(...rec.history.map((h) => h.valLoss)));
    }
    assert.ok(fs.existsSync(path.join(out, 'design.json')));
    const csv = fs.readFileSync(path.join(out, 'summary.csv'), 'utf8').trim().split('\n');
    // A header, 17 runs and 28 baselines (2 predictors x 14 splits: 6 folds x 2 sizes + the ensemble's 2 sizes).
    assert.equal(csv.length, 1 + 17 + 28);
    for (const rec of full) assert.ok(rec.metrics.volumeMAE.test.volumes === 9, `${rec.id}: 3 test patients x 3 volumes`);
    for (const d of ['MobileNet__frozen', 'MobileNet__frozen__ensemble/member1', 'MobileNet__partial']) {
      assert.ok(fs.existsSync(path.join(out, 'models', d, 'model.json')), d);
    }
    const meta = JSON.parse(fs.readFileSync(path.join(out, 'models', 'MobileNet__partial', 'meta.json'), 'utf8'));
    assert.equal(meta.backbone, 'MobileNet');
    assert.equal(meta.weights.kind, 'random init');
    assert.equal(meta.weights.seed, 0);
  });

  it('baselines: fitted on the same patches and splits as the runs, constant = training mean', () => {
    const ds = tinyDataset();
    const baselines = readBaselines(fullOut);
    assert.equal(baselines.length, 28);
    for (const run of full) {
      for (const predictor of ['constant', 'handcrafted-ridge'] as const) {
        const b = baselines.find((x) => x.predictor === predictor && x.kind === run.kind && x.fold === run.fold && x.n === run.n);
        assert.ok(b, `${predictor} baseline next to ${run.id}`);
        assert.deepEqual([b.trainPatients, b.validationPatients, b.testPatients], [run.trainPatients, run.validationPatients, run.testPatients]);
        assert.equal(b.provenance.data.patchSetHash, run.provenance.data.patchSetHash);
        assert.equal(b.metrics.volumeMAE.test.volumes, run.metrics.volumeMAE.test.volumes);
      }
    }
    // The constant is the mean training label; its test MAE recomputed from the dataset by hand.
    const c = baselines.find((b) => b.id === 'baseline__constant__fold2__n4')!;
    const train = subsetIndices(ds, c.trainPatients);
    const test = subsetIndices(ds, c.testPatients);
    const meanGQR = Array.from(train).reduce((s, i) => s + ds.labels[i * 3], 0) / train.length;
    assert.ok(Math.abs((c.model.value as { GQR: number }).GQR - meanGQR) < 1e-9);
    const maeGQR = Array.from(test).reduce((s, i) => s + Math.abs(meanGQR - ds.labels[i * 3]), 0) / test.length;
    assert.ok(Math.abs(c.metrics.testMAE.GQR - maeGQR) < 1e-5);
    // The tiny patches' brightness and noise follow the labels: the handcrafted ridge beats the constant.
    const h = baselines.find((b) => b.id === 'baseline__handcrafted-ridge__fold2__n4')!;
    assert.ok(h.metrics.testMAE.overall < 0.6 * c.metrics.testMAE.overall, `${h.metrics.testMAE.overall} vs ${c.metrics.testMAE.overall}`);
    assert.equal((h.model.validationPath as unknown[]).length, 17);
    // Summary rows carry them next to the runs.
    const csv = fs.readFileSync(path.join(fullOut, 'summary.csv'), 'utf8');
    assert.match(csv, /baseline,baseline__handcrafted-ridge__ensemble__fold0__n4,handcrafted-ridge,baseline,ensemble,0,4/);
  });

  it('an interrupted sweep resumes to the same records; shards merge to the same records', async () => {
    const out = tmpDir('study-resume-');
    const a = await runStudy({ ...common, out, workers: 0, maxRuns: 5 });
    assert.equal(a.ran, 5);
    // A half-written temporary file, as kill -9 would leave, is ignored.
    fs.writeFileSync(path.join(out, 'runs', '.frozen__x.json.123.tmp'), '{"sch');
    const b = await runStudy({ ...common, out, workers: 0 });
    assert.equal(b.skipped, 5);
    assert.equal(b.ran, 12);
    assert.deepEqual(readRecords(out).map(stable), full.map(stable));

    const sharded = tmpDir('study-shards-');
    for (const index of [1, 2, 3]) {
      const dir = path.join(sharded, `s${index}`);
      await runStudy({ ...common, out: dir, workers: 0, shard: { index, count: 3 } });
      for (const f of fs.readdirSync(path.join(dir, 'runs'))) {
        if (f.endsWith('.json')) fs.copyFileSync(path.join(dir, 'runs', f), path.join(sharded, 'merged.' + f));
      }
    }
    const merged = fs.readdirSync(sharded).filter((f) => f.startsWith('merged.')).map((f) => JSON.parse(fs.readFileSync(path.join(sharded, f), 'utf8')) as RunRecord);
    merged.sort((x, y) => (x.id < y.id ? -1 : 1));
    assert.deepEqual(merged.map(stable), full.map(stable));
  });

  it('worker threads (tsx in workers) give the same records as inline', async () => {
    const out = tmpDir('study-workers-');
    const r = await runStudy({ ...common, out, workers: 2, backbones: ['MobileNet'], maxRuns: 4 });
    assert.equal(r.ran, 4);
    const got = readRecords(out);
    for (const rec of got) assert.deepEqual(stable(rec), stable(full.find((f) => f.id === rec.id)!));
  });
});
