import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import {
  describeWeightsSource,
  formatWeightsSource,
  loadBackboneWithWeights,
  parseWeightsSource,
  resolveWeights,
  saveKerasH5Weights,
  weightsOption,
  type WeightsSource,
} from '../../lib/weights';
import { outputOf, tempDir, tinyModel, maxAbsDiff } from './fixtures';

describe('weights/source: the typed --weights value', () => {
  let tmp: ReturnType<typeof tempDir>;
  before(async () => {
    await tf.setBackend('cpu');
    tmp = tempDir('source');
  });
  after(() => tmp.cleanup());

  it('parses keywords, pretext tasks and existing files (relative to cwd), and formats them back', () => {
    fs.writeFileSync(path.join(tmp.dir, 'w.h5'), 'x');
    const cases: Array<[string, WeightsSource, string]> = [
      ['imagenet', { kind: 'imagenet' }, 'ImageNet (Keras)'],
      ['random', { kind: 'random' }, 'random init'],
      ['pretext', { kind: 'pretext', task: 'count-level' }, 'pretext count-level'],
      ['pretext:count-level', { kind: 'pretext', task: 'count-level' }, 'pretext count-level'],
      ['w.h5', { kind: 'file', path: path.join(tmp.dir, 'w.h5') }, `file ${path.join(tmp.dir, 'w.h5')}`],
    ];
    for (const [text, source, described] of cases) {
      const parsed = parseWeightsSource(text, { cwd: tmp.dir });
      assert.deepEqual(parsed, source, text);
      assert.equal(describeWeightsSource(parsed), described);
      assert.deepEqual(parseWeightsSource(formatWeightsSource(parsed), { cwd: tmp.dir }), source);
    }
  });

  it('rejects a typo, a missing file, a folder and an unknown pretext task, listing the valid values', () => {
    const valid = /valid values: imagenet \| random \| pretext \| pretext:count-level \| FILE \(a Keras \.h5 or TensorFlow\.js model\.json\)$/;
    assert.throws(() => parseWeightsSource('imagnet'), (e: Error) => /^--weights 'imagnet' is neither a weights source nor an existing file \(did you mean 'imagenet'\?\)/.test(e.message) && valid.test(e.message));
    assert.throws(() => parseWeightsSource('Random '), /did you mean 'random'/);
    assert.throws(() => parseWeightsSource('/no/such/weights.h5'), (e: Error) => /^--weights '\/no\/such\/weights\.h5' is neither a weights source nor an existing file; valid values/.test(e.message));
    assert.throws(() => parseWeightsSource(tmp.dir), /is neither a weights source nor an existing file/);
    assert.throws(() => parseWeightsSource(''), /is neither/);
    assert.throws(() => parseWeightsSource('pretext:rotation'), /--weights 'pretext:rotation': unknown pretext task 'rotation'; valid tasks: count-level/);
  });

  it('the shared commander option parses to a WeightsSource, defaults to imagenet and turns a bad value into a usage error', () => {
    const opt = weightsOption();
    assert.deepEqual(opt.defaultValue, { kind: 'imagenet' });
    assert.deepEqual(opt.parseArg!('random', undefined), { kind: 'random' });
    assert.throws(() => opt.parseArg!('imagnet', undefined), (e: Error) => e.constructor.name === 'InvalidArgumentError' && /did you mean 'imagenet'/.test(e.message));
    assert.equal(weightsOption('x', null).defaultValue, undefined);
  });

  it('pretext: a clear error without a resolver; with one, its file is loaded and its provenance kept', async () => {
    const source: WeightsSource = { kind: 'pretext', task: 'count-level' };
    await assert.rejects(resolveWeights('MobileNet', { weights: source }), /--weights pretext:count-level: pretext pretraining is not available in this command \(no pretext resolver/);
    const src = tinyModel(61);
    const file = path.join(tmp.dir, 'pretext.h5');
    await saveKerasH5Weights(src, file);
    const asked: string[] = [];
    const provenance = { kind: 'imagenet' as const, file, sha256: 'f'.repeat(64) }; // stands in for the pretext helper's variant
    const r = await loadBackboneWithWeights('MobileNet', {
      weights: source,
      build: () => tinyModel(62),
      pretext: async (backbone, s) => {
        asked.push(`${backbone} ${s.task}`);
        return { file, provenance };
      },
    });
    assert.deepEqual(asked, ['MobileNet count-level']);
    assert.deepEqual(r.provenance, provenance);
    assert.equal(maxAbsDiff(outputOf(src), outputOf(r.model)), 0);
    r.model.dispose();
  });
});
