import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { readNifti, writeNifti } from '../../lib/io';
import { buildPatchDataset } from '../../lib/patches';
import { loadManifest } from '../../lib/manifest';
import { aggregatePredictions, expandInputs, loadScoringModel, scoreBatch, scoreVolume, scoresCsv, type ScoringModel, type ScoreInput } from '../../lib/score';
import type { RunRecord, Volume } from '../../lib/types';
import { projectRoot } from '../../lib/util/files';
import { saveKerasH5Weights } from '../../lib/weights';
import { BUILDER_MODULE, build, tmpDir, trainedSmokeStudy, type TrainedFixture } from './fixtures';

const LEVELS = [0.5, 1, 5, 10, 25, 50, 100];

function copyDir(src: string, dst: string): void {
  fs.cpSync(src, dst, { recursive: true });
}

function editMeta(dir: string, edit: (m: Record<string, unknown>) => void): void {
  const f = path.join(dir, 'meta.json');
  const m = JSON.parse(fs.readFileSync(f, 'utf8'));
  edit(m);
  fs.writeFileSync(f, JSON.stringify(m));
}

async function rejects(p: Promise<unknown>, re: RegExp): Promise<void> {
  await assert.rejects(p, (err: Error) => {
    assert.match(err.message, re);
    return true;
  });
}

describe('score (smoke cohort, model trained through lib/study with the pooled test backbone)', function () {
  this.timeout(600000);
  let fx: TrainedFixture;
  let testInputs: ScoreInput[];

  before(async () => {
    fx = await trainedSmokeStudy();
    testInputs = expandInputs([fx.manifest]).filter((i) => fx.testPatients.includes(i.patient!));
  });

  it('rebuilds fold, ensemble and partial models: their predictions on the study test patches give the recorded test MAE', async () => {
    const loaded = loadManifest(fx.manifest);
    const ds = await buildPatchDataset(loaded, { ...fx.preset.patches, cacheDir: path.join(fx.out, 'patch-cache') });
    const test = ds.patchPatient.map((p, i) => (fx.testPatients.includes(p) ? i : -1)).filter((i) => i >= 0);
    const area = ds.size * ds.size;
    const patches = new Float32Array(test.length * area);
    test.forEach((r, i) => patches.set(ds.patches.subarray(r * area, (r + 1) * area), i * area));
    for (const dir of [fx.models.frozen, fx.models.ensemble, fx.models.partial]) {
      const model = await loadScoringModel(dir, { build });
      const meta = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8'));
      const preds = model.predict(patches, test.length);
      assert.equal(preds.length, meta.runs.length);
      preds.forEach((p, k) => {
        const rec = JSON.parse(fs.readFileSync(path.join(fx.out, 'runs', `${meta.runs[k].id}.json`), 'utf8')) as RunRecord;
        let ae = 0;
        test.forEach((r, i) => {
          for (let m = 0; m < 3; m++) ae += Math.abs(p[i * 3 + m] - ds.labels[r * 3 + m]);
        });
        const mae = ae / (test.length * 3);
        assert.ok(Math.abs(mae - rec.metrics.testMAE.overall) < 1e-4, `${path.basename(dir)} member ${k}: MAE ${mae} vs recorded ${rec.metrics.testMAE.overall}`);
      });
      model.dispose();
    }
  });

  it('mean predicted GQR rises with count level across all 7 levels on the held-out test patients', async () => {
    const model = await loadScoringModel(fx.models.frozen, { build });
    const res = await scoreBatch({ model, inputs: testInputs, out: tmpDir('score-levels-'), png: false, referenceCacheDir: null });
    model.dispose();
    assert.equal(res.failed, 0);
    assert.equal(res.scored, fx.testPatients.length * 7);
    const meanAt = (l: number, m: 'GQR' | 'PR' | 'DC') => {
      const vs = res.report.volumes.filter((v) => v.countPercent === l);
      return vs.reduce((a, v) => a + v.scores![m], 0) / vs.length;
    };
    const gqr = LEVELS.map((l) => meanAt(l, 'GQR'));
    for (let i = 1; i < gqr.length; i++) assert.ok(gqr[i] > gqr[i - 1], `mean GQR by level ${gqr.map((g) => g.toFixed(3)).join(' ')}`);
    // Each test patient: 100 % scores clearly above 0.5 %.
    for (const p of fx.testPatients) {
      const at = (l: number) => res.report.volumes.find((v) => v.patient === p && v.countPercent === l)!.scores!.GQR;
      assert.ok(at(100) - at(0.5) > 0.2, `patient ${p}: GQR ${at(0.5)} at 0.5 % vs ${at(100)} at 100 %`);
    }
    // The cohort's own volumes are not flagged as out of distribution.
    assert.deepEqual(res.report.volumes.flatMap((v) => v.flags.map((f) => `${v.id}: ${f.message}`)), []);
  });

  it('scores a volume identically twice: same seed, same patches, same numbers, same report bytes', async () => {
    const model = await loadScoringModel(fx.models.ensemble, { build });
    const input = testInputs.find((i) => i.countPercent === 5)!;
    const a = scoreVolume(model, input).score;
    const b = scoreVolume(model, input).score;
    assert.deepEqual(a, b);
    assert.equal(a.members!.length, 2);
    assert.ok(a.ensembleSd!.GQR >= 0 && a.sd!.GQR > 0);
    // A copy of the file under another name: same bytes, same scores.
    const copy = path.join(tmpDir('score-copy-'), 'renamed.nii.gz');
    fs.copyFileSync(input.file, copy);
    assert.deepEqual(scoreVolume(model, { file: copy }).score.scores, a.scores);
    const o1 = tmpDir('score-twice-');
    const o2 = tmpDir('score-twice-');
    await scoreBatch({ model, inputs: [input, input], out: o1, png: false, referenceCacheDir: null });
    await scoreBatch({ model, inputs: [input, input], out: o2, png: false, referenceCacheDir: null });
    model.dispose();
    assert.equal(fs.readFileSync(path.join(o1, 'scores.csv'), 'utf8'), fs.readFileSync(path.join(o2, 'scores.csv'), 'utf8'));
    const j1 = JSON.parse(fs.readFileSync(path.join(o1, 'scores.json'), 'utf8'));
    const j2 = JSON.parse(fs.readFileSync(path.join(o2, 'scores.json'), 'utf8'));
    assert.deepEqual(j1.volumes, j2.volumes);
    assert.deepEqual(j1.volumes[0], j1.volumes[1]);
  });

  it('flags volumes far from the training data instead of scoring them silently', async () => {
    const model = await loadScoringModel(fx.models.frozen, { build });
    const dir = tmpDir('score-ood-');
    const src = readNifti(testInputs.find((i) => i.countPercent === 25)!.file);
    const up: Volume = (() => {
      // Nearest-neighbour upsampling by 2: twice the matrix, half the voxel size.
      const [nx, ny, nz] = src.dims;
      const d = new Float32Array(nx * ny * nz * 8);
      for (let k = 0; k < 2 * nz; k++) for (let j = 0; j < 2 * ny; j++) for (let i = 0; i < 2 * nx; i++) d[i + 2 * nx * (j + 2 * ny * k)] = src.data[(i >> 1) + nx * ((j >> 1) + ny * (k >> 1))];
      const affine = src.affine.map((r, ri) => (ri < 3 ? [r[0] / 2, r[1] / 2, r[2] / 2, r[3]] : [...r]));
      return { data: d, dims: [2 * nx, 2 * ny, 2 * nz], voxelSize: src.voxelSize.map((v) => v / 2) as [number, number, number], affine, units: 'Bq/ml' };
    })();
    writeNifti(path.join(dir, 'resampled.nii.gz'), up);
    writeNifti(path.join(dir, 'kbq.nii.gz'), { ...src, data: src.data.map((x) => x / 1000), units: 'kBq/ml' });
    writeNifti(path.join(dir, 'scaled.nii.gz'), { ...src, data: src.data.map((x) => x * 1000), units: 'Bq/ml' });
    writeNifti(path.join(dir, 'nounits.nii.gz'), { ...src, units: undefined });
    const res = await scoreBatch({ model, inputs: expandInputs([dir]), out: path.join(dir, 'report'), png: false, referenceCacheDir: null });
    const codes = Object.fromEntries(res.report.volumes.map((v) => [path.basename(v.file), v.flags.map((f) => f.code).sort()]));
    assert.deepEqual(codes, {
      'kbq.nii.gz': ['intensity', 'units'],
      'nounits.nii.gz': ['units'],
      'resampled.nii.gz': ['matrix', 'voxel-size'],
      'scaled.nii.gz': ['intensity'],
    });
    for (const v of res.report.volumes) assert.ok(v.scores, 'flagged volumes are still scored');
    const csv = fs.readFileSync(res.csv, 'utf8');
    assert.match(csv, /kbq\.nii\.gz,[^\n]*,units;intensity,\n/);
    const msg = res.report.volumes.find((v) => v.file.endsWith('resampled.nii.gz'))!.flags.map((f) => f.message).join(' ');
    // Expected text from the training volume itself (the smoke grid may change with the cohort preset).
    const mm = (v: number) => String(+v.toPrecision(4));
    assert.ok(msg.includes(`matrix ${up.dims.join('x')} differs from the training matrix ${src.dims.join('x')}`), msg);
    assert.ok(msg.includes(`voxel size ${up.voxelSize.map(mm).join(' x ')} mm differs from the training ${src.voxelSize.map(mm).join(' x ')} mm`), msg);

    // Too few non-background patches: a sampler that needs every candidate to pass.
    const strict: ScoringModel = { ...model, patches: { ...model.patches, candidates: 30, keep: 30 } };
    const s = scoreVolume(strict, testInputs[0]).score;
    assert.deepEqual(s.flags.map((f) => f.code), ['few-patches']);
    assert.match(s.flags[0].message, /only \d+ sagittal, \d+ coronal, \d+ transverse of 30 patches per plane passed the background threshold/);
    model.dispose();
  });

  it('model folder errors name the folder and what does not match', async () => {
    const root = tmpDir('score-badmodels-');
    const mk = (name: string, from: string, edit?: (m: Record<string, unknown>) => void) => {
      const d = path.join(root, name);
      copyDir(from, d);
      if (edit) editMeta(d, edit);
      return d;
    };
    await rejects(loadScoringModel(path.join(root, 'absent'), { build }), /model folder .*absent: not a folder/);
    const noMeta = mk('nometa', fx.models.frozen);
    fs.rmSync(path.join(noMeta, 'meta.json'));
    await rejects(loadScoringModel(noMeta, { build }), /nometa.*meta\.json: missing/);
    await rejects(loadScoringModel(mk('badbackbone', fx.models.frozen, (m) => (m.backbone = 'ResNet9')), { build }), /meta\.json: field 'backbone': .*ResNet9/);
    await rejects(loadScoringModel(mk('flatten', fx.models.frozen, (m) => (m.flattenSize = 999)), { build }), /flatten: the rebuilt MobileNet at 32x32 gives 128 features, meta\.json 'flattenSize' says 999/);
    const member = mk('member', fx.models.ensemble);
    fs.rmSync(path.join(member, 'member1', 'weights.bin'));
    await rejects(loadScoringModel(member, { build }), /member: member1\/weights\.bin is missing/);
    // The frozen head in a partial folder: its weights do not fit the rebuilt suffix.
    const swapped = mk('swapped', fx.models.partial);
    for (const f of ['model.json', 'weights.bin']) fs.copyFileSync(path.join(fx.models.frozen, f), path.join(swapped, f));
    await rejects(loadScoringModel(swapped, { build }), /swapped: model\.json does not fit the rebuilt .*do not match/);
    // ImageNet weights: missing, and present with another sha256.
    const cacheDir = tmpDir('score-keras-');
    const sha = 'ab'.repeat(32);
    const fake = path.join(cacheDir, 'mobilenet_1_0_224_tf_no_top.h5');
    await rejects(
      loadScoringModel(mk('imagenet-missing', fx.models.frozen, (m) => (m.weights = { kind: 'imagenet', file: '/nowhere/mobilenet_1_0_224_tf_no_top.h5', sha256: sha })), { build, cacheDir }),
      new RegExp(`imagenet-missing: the ImageNet weights it was trained with are missing: expected mobilenet_1_0_224_tf_no_top\\.h5 with sha256 ${sha}`),
    );
    fs.writeFileSync(fake, 'not the weights');
    await rejects(
      loadScoringModel(mk('imagenet-other', fx.models.frozen, (m) => (m.weights = { kind: 'imagenet', file: fake, sha256: sha })), { build, cacheDir }),
      new RegExp(`imagenet-other: ImageNet weights do not match the model: meta\\.json expects mobilenet_1_0_224_tf_no_top\\.h5 with sha256 ${sha}, but ${fake.replace(/[.]/g, '\\.')} has sha256 [0-9a-f]{64}`),
    );
    // Missing from the cache: downloaded as Keras does (the layout of the backbone being built), then its sha256 checked.
    const served = path.join(root, 'served.h5');
    const double = build('MobileNet', { inputSize: 32, seed: 5 });
    await saveKerasH5Weights(double, served);
    double.dispose();
    const body = fs.readFileSync(served);
    const server = http.createServer((req, res) => {
      if (req.url === '/mobilenet/mobilenet_1_0_224_tf_no_top.h5') res.writeHead(200, { 'Content-Length': body.length }).end(body);
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const download = { enabled: true, baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
      const dlCache = tmpDir('score-download-');
      const servedSha = crypto.createHash('sha256').update(body).digest('hex');
      const model = await loadScoringModel(mk('imagenet-download', fx.models.frozen, (m) => (m.weights = { kind: 'imagenet', file: '/nowhere/mobilenet_1_0_224_tf_no_top.h5', sha256: servedSha })), { build, cacheDir: dlCache, download });
      assert.equal(model.weightsFile, path.join(dlCache, 'mobilenet_1_0_224_tf_no_top.h5'));
      model.dispose();
      // Downloaded, but not the file the model was trained with: refused.
      await rejects(
        loadScoringModel(mk('imagenet-download-other', fx.models.frozen, (m) => (m.weights = { kind: 'imagenet', file: '/nowhere/mobilenet_1_0_224_tf_no_top.h5', sha256: sha })), { build, cacheDir: tmpDir('score-download-'), download }),
        new RegExp(`imagenet-download-other: ImageNet weights do not match the model: meta\\.json expects mobilenet_1_0_224_tf_no_top\\.h5 with sha256 ${sha}, but .*score-download-.*mobilenet_1_0_224_tf_no_top\\.h5 has sha256 ${servedSha}`),
      );
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('CLI: a corrupt NIfTI, an unreadable path and a wrong model folder each give their error; the rest is scored', async function () {
    const dir = tmpDir('score-cli-');
    const good = testInputs.find((i) => i.countPercent === 50)!.file;
    const vols = path.join(dir, 'vols');
    fs.mkdirSync(vols);
    fs.copyFileSync(good, path.join(vols, 'a_good.nii.gz'));
    fs.writeFileSync(path.join(vols, 'b_corrupt.nii.gz'), zlib.gzipSync(Buffer.from('this is not a NIfTI header')));
    fs.copyFileSync(good, path.join(vols, 'c_good.nii.gz'));
    const wrong = path.join(dir, 'wrong_model');
    copyDir(fx.models.frozen, wrong);
    editMeta(wrong, (m) => (m.weights = { kind: 'imagenet', file: path.join(dir, 'missing.h5'), sha256: 'cd'.repeat(32) }));
    const out = path.join(dir, 'out');
    const r = spawnSync(
      process.execPath,
      ['--require', require.resolve('tsx/cjs'), path.join(projectRoot(), 'scripts', 'score.ts'), '--builder', BUILDER_MODULE, '--model', wrong, '--model', fx.models.frozen, '--out', out, vols, path.join(dir, 'nope.nii.gz')],
      { encoding: 'utf8', env: { ...process.env, PET_IQA_KERAS_CACHE: dir }, timeout: 300000 },
    );
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /error: model folder .*wrong_model: the ImageNet weights it was trained with are missing/);
    const rep = path.join(out, path.basename(path.dirname(path.dirname(fx.models.frozen))) + '__MobileNet__frozen');
    assert.ok(!fs.existsSync(path.join(out, 'wrong_model')), 'nothing written for the wrong model');
    const lines = fs.readFileSync(path.join(rep, 'scores.csv'), 'utf8').trim().split('\n');
    assert.equal(lines[0], 'file,GQR,PR,DC,GQR_sd,PR_sd,DC_sd,patches,flags,error');
    assert.equal(lines.length, 5);
    const rows = lines.slice(1).map((l) => l.split(','));
    assert.deepEqual(rows.map((x) => path.basename(x[0])), ['a_good.nii.gz', 'b_corrupt.nii.gz', 'c_good.nii.gz', 'nope.nii.gz']);
    assert.equal(rows[0].slice(1, 4).join(','), rows[2].slice(1, 4).join(','), 'same bytes, same scores');
    assert.ok(Number(rows[0][1]) > 0 && rows[0][9] === '');
    assert.match(lines[2], /b_corrupt\.nii\.gz,,,,,,,,,"?NIfTI .*b_corrupt\.nii\.gz: /);
    assert.match(lines[4], /nope\.nii\.gz,,,,,,,,,.*nope\.nii\.gz: no such file or folder/);
    assert.deepEqual(fs.readdirSync(path.join(rep, 'png')).sort(), ['a_good.png', 'c_good.png']);
    const png = fs.readFileSync(path.join(rep, 'png', 'a_good.png'));
    assert.equal(png.subarray(1, 4).toString(), 'PNG');
    assert.match(r.stderr, /2 scored \(0 flagged\), 2 failed/);
  });

  it('aggregates members: spread over patches and over member means; CSV has the ensemble columns', () => {
    const a = Float32Array.from([1, 2, 3, 3, 2, 1]); // member 0: patches (1,2,3), (3,2,1)
    const b = Float32Array.from([2, 2, 2, 2, 2, 2]);
    const g = aggregatePredictions([a, b], 2);
    assert.deepEqual(g.scores, { GQR: 2, PR: 2, DC: 2 });
    assert.deepEqual(g.members, [{ GQR: 2, PR: 2, DC: 2 }, { GQR: 2, PR: 2, DC: 2 }]);
    assert.deepEqual(g.sd, { GQR: 0.5, PR: 0, DC: 0.5 });
    assert.deepEqual(g.ensembleSd, { GQR: 0, PR: 0, DC: 0 });
    const csv = scoresCsv([{ file: 'x, "y".nii', ...g, patches: 2, flags: [{ code: 'units', message: '' }] }], true);
    assert.equal(csv, 'file,GQR,PR,DC,GQR_sd,PR_sd,DC_sd,GQR_ens_sd,PR_ens_sd,DC_ens_sd,patches,flags,error\n"x, ""y"".nii",2,2,2,0.5,0,0.5,0,0,0,2,units,\n');
  });
});
