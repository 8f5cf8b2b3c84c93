import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { makeDesign } from '../../lib/design';
import { readDesign } from '../../lib/records';

describe('design/readDesign', () => {
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pet-iqa-design-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const patients = Array.from({ length: 13 }, (_, i) => `P${i + 1}`);

  it('reads back what the runner writes', () => {
    const d = makeDesign(patients, { seed: 2 });
    const f = path.join(dir, 'design.json');
    fs.writeFileSync(f, JSON.stringify(d));
    assert.deepEqual(readDesign(f), d);
  });

  it('names the file for a missing, non-JSON or invalid design', () => {
    assert.throws(() => readDesign(path.join(dir, 'absent.json')), /absent\.json: cannot read study design \(ENOENT\)/);
    const bad = path.join(dir, 'bad.json');
    fs.writeFileSync(bad, '{ not json');
    assert.throws(() => readDesign(bad), /bad\.json: invalid JSON in study design/);
    const d = makeDesign(patients, { seed: 2 });
    d.folds[1].validation = [d.testPatients[0], d.folds[1].validation[1]];
    const wrong = path.join(dir, 'wrong.json');
    fs.writeFileSync(wrong, JSON.stringify(d));
    assert.throws(() => readDesign(wrong), /wrong\.json: invalid design:[\s\S]*folds\[1\]\.validation: test patient/);
  });
});
