import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { comparableRecord, mergeShards } from '../../lib/study/merge';
import { runStudy } from '../../lib/study/runner';
import { readRecords } from '../../lib/study/summary';
import { fixture, tmpDir } from './fixtures';

describe('study/merge: a sweep run as 2 shards merges to the unsharded run', function () {
  this.timeout(300000);
  const fx = fixture();
  const cacheDir = tmpDir('merge-cache-');
  const common = { preset: fx.preset, data: { kind: 'file' as const, file: fx.dataFile }, builderModule: fx.builderModule, weights: { kind: 'random' as const }, cacheDir, progress: false, log: () => undefined, workers: 0 };
  const root = tmpDir('merge-');
  const whole = path.join(root, 'whole');
  const shards = [path.join(root, 'shard-1'), path.join(root, 'shard-2')];

  before(async () => {
    await runStudy({ ...common, out: whole });
    for (const [i, dir] of shards.entries()) await runStudy({ ...common, out: dir, shard: { index: i + 1, count: 2 } });
  });

  it('merged records, summary and kept models equal the unsharded run', async () => {
    const out = path.join(root, 'merged');
    const r = await mergeShards({ shards, out });
    const expected = readRecords(whole);
    assert.equal(r.runs, expected.length);
    assert.equal(r.planned, expected.length);
    assert.deepEqual(r.missing, []);
    assert.equal(r.duplicates, 0);
    assert.deepEqual(r.perShard.map((s) => s.runs).reduce((a, b) => a + b, 0), expected.length);
    assert.deepEqual(readRecords(out).map(comparableRecord), expected.map(comparableRecord));
    // The summary without its last column, trainSeconds (timings differ between runs).
    const csv = (dir: string) => fs.readFileSync(path.join(dir, 'summary.csv'), 'utf8').trim().split('\n').map((l) => l.replace(/,[^,]*$/, ''));
    assert.equal(csv(out)[0], 'record,id,backbone,regime,kind,fold,n,repeat,trainableParams,keptEpoch,epochsRun,minValLoss,trainMAE,valMAE,testMAE,testMAE_GQR,testMAE_PR,testMAE_DC,testVolumeMAE,testVolumeMAE_GQR,testVolumeMAE_PR,testVolumeMAE_DC,testCoV_GQR,testCoV_PR,testCoV_DC,randomLabelMAE,failedToTrain,weights,backend');
    // Baseline rows (constant, handcrafted ridge) come along: every shard fits those of the whole plan.
    assert.ok(csv(out).some((l) => l.startsWith('baseline,')), 'baseline rows in the merged summary');
    assert.deepEqual(csv(out), csv(whole));
    const models = (dir: string) => fs.readdirSync(path.join(dir, 'models')).sort();
    assert.deepEqual(models(out), models(whole));
    assert.ok(!fs.existsSync(`${out}.merging-${process.pid}`));
  });

  it('a run in two shards that agree counts once; one that disagrees is refused, naming both files and the field', async () => {
    const id = fs.readdirSync(path.join(shards[0], 'runs')).find((f) => f.endsWith('.json'))!;
    const extra = path.join(root, 'extra');
    fs.mkdirSync(path.join(extra, 'runs'), { recursive: true });
    fs.copyFileSync(path.join(shards[0], 'design.json'), path.join(extra, 'design.json'));
    const rec = JSON.parse(fs.readFileSync(path.join(shards[0], 'runs', id), 'utf8'));
    fs.writeFileSync(path.join(extra, 'runs', id), JSON.stringify({ ...rec, timings: { totalSeconds: 1 } }));
    const ok = await mergeShards({ shards: [...shards, extra], out: path.join(root, 'merged-dup') });
    assert.equal(ok.duplicates, 1);
    rec.metrics.testMAE.overall += 0.01;
    fs.writeFileSync(path.join(extra, 'runs', id), JSON.stringify(rec));
    const bad = path.join(root, 'merged-bad');
    await assert.rejects(
      mergeShards({ shards: [...shards, extra], out: bad }),
      new RegExp(`run ${id.replace('.json', '')} disagrees between .*shard-1/runs/${id} and .*extra/runs/${id} \\(field metrics\\.testMAE\\.overall\\)`),
    );
    assert.ok(!fs.existsSync(bad), 'nothing half-written');
  });

  it('reports the planned runs no shard has, and refuses another design or a non-empty output', async () => {
    const r = await mergeShards({ shards: [shards[0]], out: path.join(root, 'merged-half') });
    const second = readRecords(shards[1]).map((x) => x.id).sort();
    assert.deepEqual(r.missing, second);
    await assert.rejects(mergeShards({ shards, out: whole }), /exists and is not empty/);
    const other = path.join(root, 'other');
    fs.mkdirSync(other);
    fs.writeFileSync(path.join(other, 'design.json'), JSON.stringify({ folds: [] }));
    await assert.rejects(mergeShards({ shards: [shards[0], other], out: path.join(root, 'm3') }), /other\/design\.json and .*shard-1\/design\.json are different designs/);
  });
});
