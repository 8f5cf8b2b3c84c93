import { strict as assert } from 'assert';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  loadManifest,
  ManifestError,
  resolvePath,
  scoredReconstructions,
  withChecksums,
  writeManifest,
  type CohortManifest,
} from '../../lib/manifest';

function manifest(): CohortManifest {
  return {
    schema: 'pet-iqa/cohort@1',
    name: 'load-test',
    synthetic: true,
    patients: [{ id: 'a', sex: 'M', age: 50, weightKg: 80, injectedMBq: 200 }],
    reconstructions: [
      {
        id: 'a-5',
        patient: 'a',
        countPercent: 5,
        path: 'vol/a-5.nii',
        units: 'Bq/ml',
        ratings: [
          { rater: 'A', GQR: 0.5, PR: 1, DC: 1 },
          { rater: 'B', GQR: 1.5, PR: 1.5, DC: 1 },
        ],
        consensus: { GQR: 1, PR: 1, DC: 1 },
      },
      { id: 'a-50', patient: 'a', countPercent: 50, path: 'vol/a-50.nii', units: 'Bq/ml' },
    ],
  };
}

describe('manifest/load', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pet-iqa-load-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function writeVolumes(): void {
    fs.mkdirSync(path.join(dir, 'vol'));
    fs.writeFileSync(path.join(dir, 'vol', 'a-5.nii'), 'five');
    fs.writeFileSync(path.join(dir, 'vol', 'a-50.nii'), 'fifty');
  }

  it('writes, loads, resolves paths and lists the scored reconstructions with their labels', () => {
    writeVolumes();
    const file = path.join(dir, 'manifest.json');
    writeManifest(file, manifest());
    const loaded = loadManifest(file);
    assert.equal(loaded.file, file);
    assert.equal(loaded.dir, dir);
    assert.equal(loaded.sha256, crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex'));
    assert.deepEqual(loaded.manifest, manifest());
    assert.equal(resolvePath(loaded, loaded.manifest.reconstructions[1]), path.join(dir, 'vol', 'a-50.nii'));
    const scored = scoredReconstructions(loaded);
    assert.equal(scored.length, 1);
    assert.equal(scored[0].recon.id, 'a-5');
    assert.equal(scored[0].path, path.join(dir, 'vol', 'a-5.nii'));
    // GQR differs by 1 -> consensus 1; PR by 0.5 -> mean 1.25; DC equal -> 1.
    assert.deepEqual(scored[0].labels, { GQR: 1, PR: 1.25, DC: 1 });
  });

  it('throws ManifestError naming the file and listing all problems', () => {
    const file = path.join(dir, 'manifest.json');
    const bad: any = manifest();
    bad.reconstructions[1].patient = 'zz';
    bad.reconstructions[0].ratings[0].PR = 4;
    fs.writeFileSync(file, JSON.stringify(bad));
    assert.throws(
      () => loadManifest(file),
      (err: unknown) => {
        assert.ok(err instanceof ManifestError);
        assert.equal(err.file, file);
        assert.equal(err.problems.length, 4, err.message);
        assert.match(err.message, new RegExp(`^Cohort manifest ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: 4 problems\n`));
        assert.match(err.message, /\n {2}reconstructions\[0\]\.ratings\[0\]\.PR: score must be between 0 and 3/);
        assert.match(err.message, /\n {2}reconstructions\[1\]\.patient: unknown patient "zz"/);
        assert.match(err.message, /reconstructions\[0\]\.path: file not found/);
        assert.match(err.message, /reconstructions\[1\]\.path: file not found/);
        return true;
      },
    );
    assert.doesNotThrow(() => {
      try {
        loadManifest(file, { checkFiles: false });
      } catch (err) {
        assert.equal((err as ManifestError).problems.length, 2);
      }
    });
  });

  it('reports a missing file and invalid JSON', () => {
    const missing = path.join(dir, 'none.json');
    assert.throws(() => loadManifest(missing), new RegExp(`Cohort manifest ${missing}: 1 problem\n  file not found`));
    const broken = path.join(dir, 'broken.json');
    fs.writeFileSync(broken, '{ "schema": ');
    assert.throws(() => loadManifest(broken), /broken\.json: 1 problem\n {2}invalid JSON/);
  });

  it('writeManifest refuses an invalid manifest and writes nothing', () => {
    const file = path.join(dir, 'manifest.json');
    const bad: any = manifest();
    bad.patients[0].weightKg = -1;
    assert.throws(() => writeManifest(file, bad), /patients\[0\]\.weightKg: weightKg must be > 0/);
    assert.equal(fs.existsSync(file), false);
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  it('withChecksums fills in sha256 that verifyChecksums then accepts', () => {
    writeVolumes();
    const file = path.join(dir, 'manifest.json');
    const m = withChecksums(manifest(), dir);
    assert.equal(m.reconstructions[0].sha256, crypto.createHash('sha256').update('five').digest('hex'));
    writeManifest(file, m);
    assert.doesNotThrow(() => loadManifest(file, { verifyChecksums: true }));
    fs.writeFileSync(path.join(dir, 'vol', 'a-50.nii'), 'changed');
    assert.throws(() => loadManifest(file, { verifyChecksums: true }), /reconstructions\[1\]\.sha256: checksum mismatch/);
    assert.throws(() => withChecksums({ ...manifest(), reconstructions: [{ ...manifest().reconstructions[0], path: 'x.nii' }] }, dir), /reconstructions\[0\]\.path: file not found/);
  });
});
