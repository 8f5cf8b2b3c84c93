import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { runStudy } from '../../lib/study/runner';
import { readRecords } from '../../lib/study/summary';
import type { RunRecord } from '../../lib/types';
import { fixture, tmpDir } from './fixtures';

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

  it('runs the sweep: records, design, summary and kept models', async () => {
    const out = tmpDir('study-full-');
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
    assert.equal(csv.length, 18);
    for (const d of ['MobileNet__frozen', 'MobileNet__frozen__ensemble/member1', 'MobileNet__partial']) {
      assert.ok(fs.existsSync(path.join(out, 'models', d, 'model.json')), d);
    }
    const meta = JSON.parse(fs.readFileSync(path.join(out, 'models', 'MobileNet__partial', 'meta.json'), 'utf8'));
    assert.equal(meta.backbone, 'MobileNet');
    assert.equal(meta.weights.kind, 'random init');
    assert.equal(meta.weights.seed, 0);
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
