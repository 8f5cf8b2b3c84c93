import { strict as assert } from 'assert';
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { intensityProblems, loadManifest, ManifestError, parseManifest, type CohortManifest } from '../../lib/manifest';
import { sampleVolumes } from '../../lib/patches';
import { expandInputs } from '../../lib/score';
import { loadStudyData } from '../../lib/study/data';
import { digest, projectRoot } from '../../lib/util/files';
import { tinyCohort } from './tiny_cohort';

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Runs a script with tsx; resolves with its exit code and output. */
function runScript(script: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--require', require.resolve('tsx/cjs'), path.join(projectRoot(), 'scripts', script), ...args], { timeout: 120000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('manifest checksums (verified before use, cached) and the path rule', function () {
  this.timeout(180000);

  it('a wrong sha256 stops loadManifest, naming reconstructions[i].sha256 and the file; --no-verify loads and says so', () => {
    const c = tinyCohort({ wrongChecksum: 2 });
    const cache = path.join(c.dir, 'cache.json');
    assert.throws(
      () => loadManifest(c.manifest, { checksumCacheFile: cache }),
      (err: unknown) => {
        assert.ok(err instanceof ManifestError);
        assert.equal(err.problems.length, 1);
        assert.equal(err.problems[0].path, 'reconstructions[2].sha256');
        assert.equal(
          err.problems[0].message,
          `checksum mismatch: ${c.files[2]} has sha256 ${digest(fs.readFileSync(c.files[2]))}, the manifest says ${digest('another file')} (the file changed or is another file)`,
        );
        assert.match(err.message, new RegExp(`^Cohort manifest ${esc(c.manifest)}: 1 problem\n  reconstructions\\[2\\]\\.sha256: checksum mismatch`));
        return true;
      },
    );
    const loaded = loadManifest(c.manifest, { verifyChecksums: false, checksumCacheFile: cache });
    assert.deepEqual(loaded.checksums, { verified: false, withChecksum: 4, withoutChecksum: 0 });
  });

  it('digests are cached by size and mtime: an unchanged file is not re-read, a touched one is', () => {
    const c = tinyCohort();
    const cache = path.join(c.dir, 'cache', 'checksums.json');
    // Whole-second mtimes, which utimes can set back exactly.
    const mtime = new Date(Math.floor(Date.now() / 1000) * 1000 - 60000);
    for (const f of c.files) fs.utimesSync(f, mtime, mtime);
    assert.deepEqual(loadManifest(c.manifest, { checksumCacheFile: cache }).checksums, { verified: true, withChecksum: 4, withoutChecksum: 0 });
    const entries = JSON.parse(fs.readFileSync(cache, 'utf8')).entries;
    assert.deepEqual(Object.keys(entries).sort(), [...c.files].sort());
    assert.equal(entries[c.files[0]].sha256, digest(fs.readFileSync(c.files[0])));
    // Same size and mtime, other bytes: the cache answers, so the change goes unseen (the file was not re-hashed).
    const bytes = fs.readFileSync(c.files[1]);
    bytes[bytes.length - 1] ^= 0xff;
    fs.writeFileSync(c.files[1], bytes);
    fs.utimesSync(c.files[1], mtime, mtime);
    assert.doesNotThrow(() => loadManifest(c.manifest, { checksumCacheFile: cache }));
    // Touched: hashed again, and the change is caught.
    const later = new Date(mtime.getTime() + 5000);
    fs.utimesSync(c.files[1], later, later);
    assert.throws(() => loadManifest(c.manifest, { checksumCacheFile: cache }), /reconstructions\[1\]\.sha256: checksum mismatch/);
    // A damaged cache file is ignored, not trusted.
    fs.writeFileSync(cache, JSON.stringify({ schema: 'pet-iqa/checksum-cache@1', entries: { [c.files[1]]: { size: 1, mtimeNs: 'x', sha256: 'y' } } }));
    assert.throws(() => loadManifest(c.manifest, { checksumCacheFile: cache }), /reconstructions\[1\]\.sha256: checksum mismatch/);
  });

  it('reproduce (loadStudyData) and score (expandInputs) verify before use; --no-verify is recorded', async () => {
    const c = tinyCohort({ wrongChecksum: 0 });
    const patchConfig = { size: 8, candidates: 40, keep: 4, cacheDir: null, workers: 0 };
    await assert.rejects(loadStudyData({ kind: 'manifest', manifestPath: c.manifest, patchConfig }), /reconstructions\[0\]\.sha256: checksum mismatch/);
    const unverified = await loadStudyData({ kind: 'manifest', manifestPath: c.manifest, patchConfig, verifyChecksums: false });
    assert.deepEqual(unverified.provenance.checksums, { verified: false, withChecksum: 4, withoutChecksum: 0 });
    assert.equal(unverified.ds.count, 4 * 3 * 4);

    const rows = expandInputs([c.manifest]);
    assert.equal(rows.length, 1);
    assert.match(rows[0].error!, new RegExp(`^Cohort manifest ${esc(c.manifest)}: 1 problem\n  reconstructions\\[0\\]\\.sha256: checksum mismatch: ${esc(c.files[0])}`));
    const listed = expandInputs([c.manifest], { verifyChecksums: false });
    assert.deepEqual(listed.map((r) => r.source), [0, 1, 2, 3].map((i) => `${c.manifest} reconstructions[${i}].path`));
  });

  it('paths stay inside the manifest folder unless allowPathsOutside; errors name the field', async () => {
    const c = tinyCohort();
    const m = JSON.parse(fs.readFileSync(c.manifest, 'utf8')) as CohortManifest;
    const problems = (edit: (x: CohortManifest) => void) => {
      const x = structuredClone(m);
      edit(x);
      return parseManifest(x, { baseDir: c.dir, checkFiles: true }).problems.map((p) => `${p.path}: ${p.message}`);
    };
    const rule = `paths are relative to the manifest's folder (${c.dir}) and stay inside it unless the manifest sets "allowPathsOutside": true`;
    assert.deepEqual(
      problems((x) => {
        x.reconstructions[0].path = '../elsewhere/a.nii.gz';
        x.reconstructions[1].path = '/etc/passwd';
        x.reconstructions[2].path = 'vol/../../b.nii.gz';
        x.reconstructions[3].path = 'vol/./x/../B_100.nii.gz';
      }),
      [
        `reconstructions[0].path: "../elsewhere/a.nii.gz" leaves the manifest's folder; ${rule}`,
        `reconstructions[1].path: "/etc/passwd" is an absolute path; ${rule}`,
        `reconstructions[2].path: "vol/../../b.nii.gz" leaves the manifest's folder; ${rule}`,
      ],
    );
    // Allowed explicitly: /etc/passwd is then opened, and its read error names the manifest field.
    const outside = structuredClone(m);
    outside.allowPathsOutside = true;
    outside.reconstructions[1].path = '/etc/passwd';
    delete outside.reconstructions[1].sha256;
    fs.writeFileSync(c.manifest, JSON.stringify(outside));
    const loaded = loadManifest(c.manifest, { checksumCacheFile: null });
    await assert.rejects(
      sampleVolumes(loaded, loaded.manifest.reconstructions, { seed: 0, config: { size: 8, candidates: 40, keep: 4 }, workers: 0 }),
      new RegExp(`^NiftiError: ${esc(c.manifest)} reconstructions\\[1\\]\\.path: NIfTI /etc/passwd: not a NIfTI file`),
    );
  });

  it('intensity rule: SUV of the 99th percentile in [0.3, 60] for the stated units', () => {
    const patient = { injectedMBq: 200, weightKg: 70 }; // 1 SUV = 2857 Bq/ml
    assert.deepEqual(intensityProblems({ units: 'Bq/ml', p99: 11400, patient }), []);
    assert.deepEqual(intensityProblems({ units: 'kBq/ml', p99: 11.4, patient }), []);
    assert.deepEqual(intensityProblems({ units: 'SUV', p99: 4, patient }), []);
    assert.deepEqual(intensityProblems({ units: 'counts', p99: 1, patient }), [], 'units the rule does not know are not checked');
    assert.deepEqual(intensityProblems({ units: 'Bq/ml', p99: 11.4, patient }), [
      'intensity implausible for Bq/ml: the 99th percentile 11.4 Bq/ml is SUV 0.00399 for 200 MBq and 70 kg, below the plausible 0.3-60 for brain FDG by 75x (kBq/ml values declared as Bq/ml?)',
    ]);
    assert.deepEqual(intensityProblems({ units: 'kBq/ml', p99: 11400, patient }), [
      'intensity implausible for kBq/ml: the 99th percentile 11400 kBq/ml is SUV 3990 for 200 MBq and 70 kg, above the plausible 0.3-60 for brain FDG by 66x (Bq/ml values declared as kBq/ml?)',
    ]);
    assert.deepEqual(intensityProblems({ units: 'Bq/ml', headerUnits: 'kBq/ml', p99: 11400, patient }), ["the file's header says units=kBq/ml but the manifest says Bq/ml"]);
  });

  it('CLI patches: a wrong sha256 exits 1 naming the field; --no-verify runs, says so, and reports a kBq/ml volume declared Bq/ml', async () => {
    const c = tinyCohort({ wrongChecksum: 3, kBqVolume: 1 });
    const common = ['--manifest', c.manifest, '--size', '8', '--candidates', '40', '--keep', '4', '--workers', '0'];
    const [bad, unverified] = await Promise.all([runScript('patches.ts', common), runScript('patches.ts', [...common, '--no-verify', '--json'])]);
    assert.equal(bad.code, 1, bad.stderr);
    assert.match(bad.stderr, new RegExp(`^patches: Cohort manifest ${esc(c.manifest)}: 1 problem\n  reconstructions\\[3\\]\\.sha256: checksum mismatch: ${esc(c.files[3])} has sha256 [0-9a-f]{64}, the manifest says`));
    assert.equal(unverified.code, 0, unverified.stderr);
    const out = JSON.parse(unverified.stdout);
    assert.deepEqual(out.checksums, { verified: false, withChecksum: 4, withoutChecksum: 0 });
    assert.equal(out.warnings.length, 1, out.warnings.join('\n'));
    assert.match(out.warnings[0], /^A-100 \(reconstructions\[1\]\.units\): intensity implausible for Bq\/ml: the 99th percentile [\d.]+ Bq\/ml is SUV 0\.00\d+ for 200 MBq and 70 kg, below the plausible 0\.3-60 for brain FDG by \d+x \(kBq\/ml values declared as Bq\/ml\?\)$/);
  });
});
