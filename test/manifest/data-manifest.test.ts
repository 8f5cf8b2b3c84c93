/** The files shipped in data-manifest/: valid, and in step with the zod schema and Table I. */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  labelsOf,
  loadManifest,
  manifestJsonSchema,
  PAPER_PATIENTS,
  paperCohortTemplate,
  parseManifest,
  scoredReconstructions,
} from '../../lib/manifest';
import { COUNT_LEVELS } from '../../lib/types';

const ROOT = path.resolve(__dirname, '..', '..', 'data-manifest');
const readJson = (f: string) => JSON.parse(fs.readFileSync(path.join(ROOT, f), 'utf8'));
const REGENERATE = 'run `npx tsx data-manifest/generate.ts` to regenerate it';

describe('data-manifest/', () => {
  it('example/manifest.json is valid (without files) and gives the labels of the rule', () => {
    const res = parseManifest(readJson('example/manifest.json'), { baseDir: path.join(ROOT, 'example'), checkFiles: false });
    assert.deepEqual(res.problems, []);
    const labels = res.manifest!.reconstructions.map((r) => labelsOf(r));
    assert.deepEqual(labels, [
      { GQR: 1.5, PR: 1.5, DC: 0.75 },
      { GQR: 2.75, PR: 3, DC: 2.75 },
      { GQR: 2, PR: 2, DC: 1.5 },
      undefined,
    ]);
  });

  it('example/manifest.json loads with checkFiles once its files exist', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pet-iqa-example-'));
    try {
      const m = readJson('example/manifest.json');
      const file = path.join(dir, 'manifest.json');
      fs.writeFileSync(file, JSON.stringify(m));
      assert.throws(() => loadManifest(file), /4 problems[\s\S]*reconstructions\[3\]\.path: file not found/);
      for (const r of m.reconstructions) {
        fs.mkdirSync(path.dirname(path.join(dir, r.path)), { recursive: true });
        fs.writeFileSync(path.join(dir, r.path), r.id);
      }
      const loaded = loadManifest(file, { checkFiles: true });
      assert.deepEqual(
        scoredReconstructions(loaded).map((s) => s.recon.id),
        ['p1-1pct', 'p1-100pct', 'p2-10pct'],
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('paper-cohort.template.json is valid and holds Table I with 7 count levels per patient, unscored', () => {
    const json = readJson('paper-cohort.template.json');
    assert.deepEqual(json, paperCohortTemplate(), `paper-cohort.template.json is out of date: ${REGENERATE}`);
    const res = parseManifest(json, { baseDir: ROOT, checkFiles: false });
    assert.deepEqual(res.problems, []);
    const m = res.manifest!;
    assert.equal(m.synthetic, false);
    assert.deepEqual(
      m.patients.map((p) => p.id),
      ['1', '3', '5', '6', '10', '17', '27', '32', '37', '48', '54', '60', '64'],
    );
    // Spot checks against Table I of the paper.
    assert.deepEqual(m.patients.find((p) => p.id === '6'), { id: '6', sex: 'M', age: 68, weightKg: 100, injectedMBq: 234.8 });
    assert.deepEqual(m.patients.find((p) => p.id === '48'), { id: '48', sex: 'F', age: 58, weightKg: 94, injectedMBq: 212.82 });
    assert.equal(PAPER_PATIENTS.filter((p) => p.sex === 'F').length, 5);
    assert.equal(m.reconstructions.length, 13 * 7);
    for (const p of m.patients) {
      assert.deepEqual(
        m.reconstructions.filter((r) => r.patient === p.id).map((r) => r.countPercent),
        [...COUNT_LEVELS],
      );
    }
    assert.ok(m.reconstructions.every((r) => r.ratings === undefined && r.consensus === undefined && r.units === 'Bq/ml'));
  });

  it('schema.json is the JSON Schema generated from the zod schema', () => {
    assert.deepEqual(readJson('schema.json'), manifestJsonSchema(), `schema.json is out of date: ${REGENERATE}`);
    const onDisk = readJson('schema.json');
    // It says what the validator enforces: closed objects, required fields, the half-point grid.
    const recon = onDisk.properties.reconstructions.items;
    assert.equal(onDisk.additionalProperties, false);
    assert.equal(recon.additionalProperties, false);
    assert.deepEqual(recon.required.sort(), ['countPercent', 'id', 'path', 'patient', 'units']);
    assert.equal(recon.properties.ratings.items.properties.GQR.multipleOf, 0.5);
    assert.equal(recon.properties.countPercent.exclusiveMinimum, 0);
  });
});
