import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { readNifti, writeNifti } from '../../lib/io';
import { expandInputs, loadScoringModel, scoreVolume } from '../../lib/score';
import { build, tmpDir, trainedSmokeStudy, type TrainedFixture } from './fixtures';

describe('score: a function of voxels and geometry only; meta.json consistent with its runs', function () {
  this.timeout(600000);
  let fx: TrainedFixture;
  before(async () => {
    fx = await trainedSmokeStudy();
  });

  it('the same volume uncompressed, gzip -1, gzip -9 and with another header description scores identically', async () => {
    const model = await loadScoringModel(fx.models.frozen, { build });
    const input = expandInputs([fx.manifest]).find((i) => fx.testPatients.includes(i.patient!) && i.countPercent === 5)!;
    const volume = readNifti(input.file);
    const dir = tmpDir('score-voxels-');
    const files = [
      ['raw.nii', {}],
      ['fast.nii.gz', { compressionLevel: 1 }],
      ['best.nii.gz', { compressionLevel: 9 }],
      ['described.nii.gz', { compressionLevel: 6, description: 'rewritten by another tool' }],
    ] as const;
    const rows = files.map(([name, opts]) => {
      const file = path.join(dir, name);
      writeNifti(file, volume, opts);
      return scoreVolume(model, { file }).score;
    });
    model.dispose();
    assert.equal(new Set(rows.map((r) => r.sha256)).size, 4, 'four different files');
    const first = rows[0];
    for (const r of rows.slice(1)) {
      assert.equal(r.voxelSha256, first.voxelSha256);
      assert.equal(r.seed, first.seed);
      assert.deepEqual(r.scores, first.scores);
      assert.deepEqual(r.sd, first.sd);
      assert.deepEqual(r.planes, first.planes);
    }
  });

  it('a meta.json naming another backbone than its runs fails naming the file and the fields', async () => {
    const d = path.join(tmpDir('score-meta-'), 'MobileNet__frozen');
    fs.cpSync(fx.models.frozen, d, { recursive: true });
    const metaFile = path.join(d, 'meta.json');
    const meta = JSON.parse(fs.readFileSync(metaFile, 'utf8'));
    meta.backbone = 'MobileNetV2';
    fs.writeFileSync(metaFile, JSON.stringify(meta));
    await assert.rejects(loadScoringModel(d, { build }), (err: Error) => {
      assert.equal(
        err.message,
        `model folder ${d}: ${metaFile}: field 'backbone' is "MobileNetV2" but field 'runs[0].id' (${JSON.stringify(meta.runs[0].id)}) is a run of MobileNet: the folder holds a MobileNet model (meta.json edited or copied from another model?)`,
      );
      return true;
    });
  });
});
