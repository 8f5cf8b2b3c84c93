import { strict as assert } from 'assert';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { formatProblems, parseManifest, type CohortManifest } from '../../lib/manifest';

/** A small valid manifest; tests break one thing at a time. */
function validManifest(): CohortManifest {
  return {
    schema: 'pet-iqa/cohort@1',
    name: 'unit',
    synthetic: true,
    raters: ['A', 'B'],
    patients: [
      { id: '1', sex: 'F', age: 61, weightKg: 64, injectedMBq: 221.71 },
      { id: '3', sex: 'M', age: 64, weightKg: 58, injectedMBq: 240 },
    ],
    reconstructions: [
      {
        id: '1-1',
        patient: '1',
        countPercent: 1,
        path: 'v/1-1.nii.gz',
        units: 'Bq/ml',
        ratings: [
          { rater: 'A', GQR: 1, PR: 1, DC: 1 },
          { rater: 'B', GQR: 1.5, PR: 1, DC: 0.5 },
        ],
      },
      { id: '1-100', patient: '1', countPercent: 100, path: 'v/1-100.nii.gz', units: 'Bq/ml' },
      { id: '3-0.5', patient: '3', countPercent: 0.5, path: 'v/3-0.5.nii.gz', units: 'Bq/ml' },
    ],
    testPatients: ['3'],
  };
}

const clone = (m: CohortManifest): any => JSON.parse(JSON.stringify(m));

function problemsOf(json: unknown, opts: Partial<Parameters<typeof parseManifest>[1]> = {}): string[] {
  const res = parseManifest(json, { baseDir: '/nonexistent', ...opts });
  if (res.problems.length === 0) assert.ok(res.manifest, 'a manifest comes back when there are no problems');
  else assert.equal(res.manifest, undefined, 'no manifest when there are problems');
  return formatProblems(res.problems).split('\n').filter(Boolean);
}

describe('manifest/validate: parseManifest', () => {
  it('accepts a valid manifest and returns it typed', () => {
    const res = parseManifest(validManifest(), { baseDir: '/x' });
    assert.deepEqual(res.problems, []);
    assert.equal(res.manifest?.reconstructions[0].ratings?.[1].GQR, 1.5);
  });

  it('reports every problem at once, each with its field path', () => {
    const m = clone(validManifest());
    m.patients.push({ id: '1', sex: 'X', age: 50, weightKg: 70, injectedMBq: 200 }); // duplicate id, bad sex
    m.reconstructions[0].ratings[1].GQR = 2.25; // off the half-step grid
    m.reconstructions[0].ratings[0].DC = 3.5; // out of range
    m.reconstructions[1].patient = '99'; // unknown patient
    m.reconstructions[2].id = '1-1'; // duplicate recon id
    m.reconstructions[2].countPercent = 0; // not in (0, 100]
    m.reconstructions[1].pth = 'typo'; // unknown key
    m.testPatients = ['3', '42']; // unknown test patient
    const problems = problemsOf(m);
    assert.deepEqual(problems.sort(), [
      'patients[2].id: duplicate patient id "1" (also patients[0])',
      'patients[2].sex: sex must be "F" or "M"',
      'reconstructions[0].ratings[0].DC: score must be between 0 and 3',
      'reconstructions[0].ratings[1].GQR: score must be on the half-point grid (0, 0.5, ..., 3)',
      'reconstructions[1].patient: unknown patient "99" (not in patients)',
      'reconstructions[1].pth: unknown key "pth" (typo?)',
      'reconstructions[2].countPercent: countPercent must be in (0, 100]',
      'reconstructions[2].id: duplicate reconstruction id "1-1" (also reconstructions[0])',
      'testPatients[1]: unknown patient "42" (not in patients)',
    ]);
  });

  it('requires a consensus where the two raters differ by >= 1, naming the metrics', () => {
    const m = clone(validManifest());
    m.reconstructions[0].ratings[1] = { rater: 'B', GQR: 2, PR: 1, DC: 2.5 };
    assert.deepEqual(problemsOf(m), ['reconstructions[0].consensus: required: the raters differ by >= 1 on GQR 1 vs 2, DC 1 vs 2.5']);
    m.reconstructions[0].consensus = { GQR: 1.5, PR: 1, DC: 2 };
    assert.deepEqual(problemsOf(m), []);
  });

  it('checks raters: known, not repeated, at most two', () => {
    const m = clone(validManifest());
    m.reconstructions[0].ratings[1].rater = 'A';
    m.reconstructions[1].ratings = [{ rater: 'C', GQR: 1, PR: 1, DC: 1 }];
    m.reconstructions[2].ratings = ['A', 'B', 'B'].map((rater) => ({ rater, GQR: 1, PR: 1, DC: 1 }));
    assert.deepEqual(problemsOf(m).sort(), [
      'reconstructions[0].ratings[1].rater: rater "A" already rated this reconstruction (ratings[0])',
      'reconstructions[1].ratings[0].rater: unknown rater "C" (raters: A, B)',
      'reconstructions[2].ratings: 3 ratings; the label rule is defined for 1 or 2 raters',
      'reconstructions[2].ratings[2].rater: rater "B" already rated this reconstruction (ratings[1])',
    ]);
  });

  it('reports missing fields, wrong types, a wrong schema id and unknown top-level keys', () => {
    const m = clone(validManifest());
    delete m.name;
    m.schema = 'pet-iqa/cohort@2';
    m.synthetic = 'yes';
    m.patient = [];
    delete m.reconstructions[2].units;
    m.reconstructions[1].sha256 = 'ABC';
    const problems = problemsOf(m);
    assert.equal(problems.length, 6, problems.join('\n'));
    assert.ok(problems.includes('schema: schema must be "pet-iqa/cohort@1"'));
    assert.ok(problems.includes('synthetic: synthetic must be true or false'));
    assert.ok(problems.includes('patient: unknown key "patient" (typo?)'));
    assert.ok(problems.includes('reconstructions[1].sha256: sha256 must be 64 lowercase hex digits'));
    assert.ok(problems.some((p) => /^name: required field is missing/.test(p)), problems.join('\n'));
    assert.ok(problems.some((p) => /^reconstructions\[2\]\.units: required field is missing/.test(p)), problems.join('\n'));
  });

  it('rejects two reconstructions of one patient at the same count level', () => {
    const m = clone(validManifest());
    m.reconstructions[1].countPercent = 1;
    assert.deepEqual(problemsOf(m), ['reconstructions[1].countPercent: patient "1" already has a reconstruction at 1% (reconstructions[0])']);
  });

  it('rejects a non-object document', () => {
    assert.deepEqual(problemsOf([1, 2], { source: 'm.json' }), ['m.json: must be a JSON object, got an array']);
    assert.deepEqual(problemsOf(null), ['manifest: must be a JSON object, got null']);
  });

  describe('files and checksums', () => {
    let dir: string;
    before(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pet-iqa-manifest-'));
      fs.mkdirSync(path.join(dir, 'v'));
      fs.writeFileSync(path.join(dir, 'v', '1-1.nii.gz'), 'one');
      fs.writeFileSync(path.join(dir, 'v', '1-100.nii.gz'), 'hundred');
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('reports missing files with their absolute path only when checkFiles is on', () => {
      assert.deepEqual(problemsOf(validManifest(), { baseDir: dir }), []);
      assert.deepEqual(problemsOf(validManifest(), { baseDir: dir, checkFiles: true }), [
        `reconstructions[2].path: file not found (${path.join(dir, 'v', '3-0.5.nii.gz')})`,
      ]);
    });

    it('verifies sha256 when asked', () => {
      const m = clone(validManifest());
      m.reconstructions.pop();
      const sha = (s: string) => crypto.createHash('sha256').update(s).digest('hex');
      m.reconstructions[0].sha256 = sha('one');
      m.reconstructions[1].sha256 = sha('not hundred');
      assert.deepEqual(problemsOf(m, { baseDir: dir, checkFiles: true }), [], 'checksums are not read without verifyChecksums');
      assert.deepEqual(problemsOf(m, { baseDir: dir, verifyChecksums: true }), [
        `reconstructions[1].sha256: checksum mismatch: ${path.join(dir, 'v', '1-100.nii.gz')} has sha256 ${sha('hundred')}, the manifest says ${sha('not hundred')} (the file changed or is another file)`,
      ]);
    });
  });
});
