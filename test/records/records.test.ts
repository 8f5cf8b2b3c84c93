import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { RUN_RECORD_SCHEMA, RecordError, ResultsDir, latestResultsDir, readModelMeta, readRunRecord, tryReadRunRecord } from '../../lib/records';
import { makeFakeRuns } from '../../lib/figures/fake';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'pet-iqa-records-'));

describe('records', () => {
  it('reads a valid run record and reports an invalid or old one with its file and field', () => {
    const dir = new ResultsDir(tmp());
    const [run] = makeFakeRuns({ seed: 1, backbones: ['VGG16'], folds: 1, sizes: [1], repeats: 0 }).runs;
    fs.mkdirSync(dir.runs, { recursive: true });
    const good = dir.runRecord(run.id);
    fs.writeFileSync(good, JSON.stringify(run));
    assert.equal(readRunRecord(good).metrics.testMAE.overall, run.metrics.testMAE.overall);
    assert.equal(readRunRecord(good).schema, RUN_RECORD_SCHEMA);

    const renamed = dir.runRecord('renamed');
    const { testMAE: _t, ...metrics } = run.metrics;
    fs.writeFileSync(renamed, JSON.stringify({ ...run, metrics: { ...metrics, testMae: run.metrics.testMAE } }));
    assert.throws(() => readRunRecord(renamed), (e: unknown) => e instanceof RecordError && e.file === renamed && e.field === 'metrics.testMAE' && e.message.startsWith(`${renamed}: field 'metrics.testMAE': Required`));

    const old = dir.runRecord('old');
    fs.writeFileSync(old, JSON.stringify({ ...run, schema: 'pet-iqa/run@0' }));
    const seen: string[] = [];
    assert.equal(tryReadRunRecord(old, (m) => seen.push(m)), undefined);
    assert.match(seen[0], /old\.json: field 'schema': .*an old or foreign file: schema "pet-iqa\/run@0"/);
    const broken = dir.runRecord('broken');
    fs.writeFileSync(broken, '{"sch');
    assert.throws(() => readRunRecord(broken), /broken\.json: invalid JSON in run record/);
    assert.equal(tryReadRunRecord(dir.runRecord('absent'), () => assert.fail('absent is not invalid')), undefined);
  });

  it('model metadata: problems name meta.json and the field', () => {
    const d = tmp();
    const file = path.join(d, 'meta.json');
    const meta = {
      schema: 'pet-iqa/model@1', backbone: 'MobileNet', regime: 'frozen', kind: 'fold', input: 'features', inputSize: 32,
      weights: { kind: 'random init', seed: 0 }, preprocessing: 'tf', patches: { size: 32, candidates: 10, keep: 2 }, foldBN: true,
      labelScale: { min: 0, max: 3, outputs: ['GQR', 'PR', 'DC'] }, runs: [{ id: 'r', minValLoss: 1, testMAE: { GQR: 1, PR: 1, DC: 1, overall: 1 }, seed: 0 }],
      data: { kind: 'synthetic', manifest: 'm', manifestSha256: 's', patchSetHash: 'h' }, backend: 'cpu', gitCommit: 'x', flattenSize: 128,
    };
    fs.writeFileSync(file, JSON.stringify(meta));
    assert.equal(readModelMeta(file).flattenSize, 128);
    fs.writeFileSync(file, JSON.stringify({ ...meta, flattenSize: undefined }));
    assert.throws(() => readModelMeta(file), /meta\.json: field 'flattenSize': must be a positive integer \(frozen regime\)/);
    fs.writeFileSync(file, JSON.stringify({ ...meta, patches: { ...meta.patches, size: 80 } }));
    assert.throws(() => readModelMeta(file), /field 'patches\.size': 80 differs from inputSize \(32\)/);
  });

  it('ResultsDir names the paths; latestResultsDir finds the most recently updated results folder', () => {
    const root = tmp();
    const a = new ResultsDir(path.join(root, 'quick'));
    assert.equal(a.runRecord('x'), path.join(root, 'quick', 'runs', 'x.json'));
    assert.equal(a.baselineRecord('b'), path.join(root, 'quick', 'baselines', 'b.json'));
    assert.equal(a.summaryCsv, path.join(root, 'quick', 'summary.csv'));
    assert.equal(a.figures, path.join(root, 'quick', 'figures'));
    assert.equal(a.model('M__frozen'), path.join(root, 'quick', 'models', 'M__frozen'));
    assert.equal(latestResultsDir(root), undefined);
    const b = new ResultsDir(path.join(root, 'group', 'smoke'));
    for (const [dir, t] of [[a, 1000], [b, 2000]] as const) {
      fs.mkdirSync(dir.runs, { recursive: true });
      fs.writeFileSync(dir.runRecord('r'), '{}');
      fs.utimesSync(dir.runRecord('r'), t, t);
    }
    assert.equal(latestResultsDir(root)?.root, b.root);
    fs.utimesSync(a.runRecord('r'), 3000, 3000);
    assert.equal(latestResultsDir(root)?.root, a.root);
  });
});
