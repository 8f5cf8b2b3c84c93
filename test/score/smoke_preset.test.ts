import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend } from '../../lib/backend';
import { expandInputs, loadScoringModel, scoreBatch, spearman } from '../../lib/score';
import { runStudy } from '../../lib/study';
import { COUNT_LEVELS } from '../../lib/types';

/**
 * End to end with a real backbone: the 'smoke' preset's smallest backbone (MobileNetV3Small, random
 * init with calibrated BatchNormalization here, since no ImageNet weights can be downloaded), its
 * kept ensemble, and the held-out test patients scored at all 7 count levels.
 */
describe('score: a model trained on the smoke preset (MobileNetV3Small) ranks count levels', function () {
  this.timeout(600000);
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pet-iqa-smoke-score-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('mean predicted GQR of the test patients rises with count level', async () => {
    const study = await runStudy({ preset: 'smoke', backbones: ['MobileNetV3Small'], regime: 'frozen', out: path.join(dir, 'study'), progress: false, log: () => undefined });
    await initBackend();
    const model = await loadScoringModel(path.join(dir, 'study', 'models', 'MobileNetV3Small__frozen__ensemble'));
    const manifest = path.join(path.dirname(study.records[0].provenance.data.manifest), 'manifest.json');
    const byLevel = new Map<number, number[]>();
    const folders = study.design.testPatients.map((p) => path.join(path.dirname(path.resolve(manifest)), 'volumes', `patient-${p}`));
    const res = await scoreBatch({ model, inputs: expandInputs(folders), out: path.join(dir, 'scores'), png: false, progress: false, referenceCacheDir: null } as Parameters<typeof scoreBatch>[0]);
    for (const v of res.report.volumes) {
      assert.ok(v.scores, `${v.file} was scored`);
      const level = Number(/_([\d.]+)pct\.nii\.gz$/.exec(v.file)![1]);
      byLevel.set(level, [...(byLevel.get(level) ?? []), v.scores!.GQR]);
    }
    assert.deepEqual([...byLevel.keys()].sort((a, b) => a - b), [...COUNT_LEVELS]);
    const means = COUNT_LEVELS.map((l) => byLevel.get(l)!.reduce((a, b) => a + b, 0) / byLevel.get(l)!.length);
    const rho = spearman([...COUNT_LEVELS], means);
    assert.ok(rho >= 0.9, `Spearman(count level, mean GQR) = ${rho.toFixed(3)}; means ${means.map((m) => m.toFixed(2)).join(' ')}`);
    assert.ok(means[6] - means[0] > 0.3, `100 % scores ${means[6].toFixed(2)}, 0.5 % ${means[0].toFixed(2)}`);
    model.dispose();
  });
});
