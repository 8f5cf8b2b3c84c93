import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { failedBackbones, loadResults, orderByParams, studyPlan, writeFakeResults } from '../../lib/figures';

describe('figures: reading results', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pet-iqa-fig-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('throws naming the folder and the command when there are no runs', () => {
    assert.throws(() => loadResults(dir), (e: Error) => e.message.includes(path.join(dir, 'runs')) && e.message.includes('npm run reproduce'));
  });

  it('reads the runs and design the runner writes, and skips bad records with a warning', () => {
    writeFakeResults(dir, { seed: 2, backbones: ['VGG16'], folds: 2, sizes: [1, 8], repeats: 2 });
    fs.writeFileSync(path.join(dir, 'runs', 'broken.json'), '{not json');
    const res = loadResults(dir);
    assert.strictEqual(res.runs.length, 2 * 2 + 2 * 2 + 1);
    assert.ok(res.warnings.some((w) => w.includes('broken.json')));
    assert.deepStrictEqual(studyPlan(res), { folds: [0, 1], sizes: [1, 8], ensemble: { fold: 0, repeats: 2, sizes: [1, 8] } });
  });

  it('infers the plan from the runs when design.json is missing', () => {
    writeFakeResults(dir, { seed: 2, backbones: ['VGG16'], folds: 2, sizes: [1, 8], repeats: 2 });
    fs.rmSync(path.join(dir, 'design.json'));
    const res = loadResults(dir);
    assert.ok(res.warnings.some((w) => w.includes('design.json')));
    assert.deepStrictEqual(studyPlan(res).folds, [0, 1]);
  });

  it('flags a backbone as failed when at least half its runs failed, and orders by parameters', () => {
    const { runs } = writeFakeResults(dir, { seed: 2, backbones: ['ResNet50', 'VGG16', 'MobileNetV3Small'], folds: 2, sizes: [1], repeats: 1 });
    assert.deepStrictEqual([...failedBackbones(runs)], ['ResNet50']);
    assert.deepStrictEqual(orderByParams(runs, ['ResNet50', 'VGG16', 'MobileNetV3Small']), ['MobileNetV3Small', 'VGG16', 'ResNet50']);
  });
});
