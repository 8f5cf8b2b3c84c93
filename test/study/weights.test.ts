import { strict as assert } from 'assert';
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { getPreset } from '../../lib/study/presets';
import { prepareStudyWeights } from '../../lib/study/weights';

const ROOT = path.resolve(__dirname, '..', '..');

/** Runs scripts/reproduce.ts with tsx; `env` replaces the weight-location variables. */
function reproduce(args: string[], env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  const clean = { ...process.env };
  for (const k of ['PET_IQA_KERAS_CACHE', 'PET_IQA_WEIGHTS_DIR', 'PET_IQA_WEIGHTS_BASE_URL', 'PET_IQA_OFFLINE']) delete clean[k];
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), path.join(ROOT, 'scripts', 'reproduce.ts'), ...args], { cwd: ROOT, timeout: 90000, env: { ...clean, ...env } }, (err, _stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
    );
  });
}

describe('study/weights: a study\'s weights before anything is written', function () {
  this.timeout(120000);
  let tmp: string;
  const offline = () => ({ cacheDir: path.join(tmp, 'empty-cache'), download: { enabled: true, baseUrl: 'http://127.0.0.1:1/' } });
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pet-iqa-study-weights-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('the paper preset refuses a random init it was not asked for; --weights random is accepted', async () => {
    const log: string[] = [];
    const paper = getPreset('paper');
    await assert.rejects(
      prepareStudyWeights({ preset: paper, backbones: ['MobileNet', 'VGG16'], weights: { kind: 'imagenet' }, log: (l) => log.push(l), ...offline() }),
      (e: Error) =>
        /^--preset paper reproduces the paper's ImageNet transfer learning and will not run on a random init: no ImageNet weights for MobileNet, VGG16: the download server cannot be reached/.test(e.message) &&
        /or run on a random init explicitly with --weights random\.$/.test(e.message),
    );
    assert.ok(!log.some((l) => l.includes('WARNING')), 'the refusal replaces the banner');
    assert.equal((await prepareStudyWeights({ preset: paper, backbones: ['MobileNet'], weights: { kind: 'random' }, log: (l) => log.push(l), ...offline() })).size, 0);
  });

  it('other presets go on with one banner and random init (quick: pretext instead, no banner); pretext without a resolver is refused up front', async () => {
    const log: string[] = [];
    const located = await prepareStudyWeights({ preset: getPreset('smoke'), backbones: ['MobileNetV3Small', 'MobileNet', 'MobileNetV2'], weights: { kind: 'imagenet' }, log: (l) => log.push(l), ...offline() });
    assert.deepEqual([...located.keys()], ['MobileNetV3Small', 'MobileNet', 'MobileNetV2']);
    assert.ok([...located.values()].every((l) => !l.file));
    assert.equal(log.filter((l) => l.includes('WARNING: no ImageNet weights for MobileNetV3Small, MobileNet, MobileNetV2')).length, 1);
    // The quick preset falls back to pretext weights, said per backbone by lib/pretext: no random-init banner.
    const quickLog: string[] = [];
    await prepareStudyWeights({ preset: getPreset('quick'), backbones: ['MobileNet'], weights: { kind: 'imagenet' }, log: (l) => quickLog.push(l), ...offline() });
    assert.ok(!quickLog.some((l) => l.includes('WARNING')), quickLog.join('\n'));
    // ...but one line says that ImageNet is missing and what replaces it.
    assert.deepEqual(quickLog.filter((l) => l.includes('no ImageNet weights')), [
      "no ImageNet weights for MobileNet: the download server cannot be reached (offline?). The 'quick' preset pretrains pretext weights for them instead (below); these results are NOT ImageNet transfer learning.",
    ]);
    await assert.rejects(
      prepareStudyWeights({ preset: getPreset('quick'), backbones: ['MobileNet'], weights: { kind: 'pretext', task: 'count-level' }, log: () => undefined }),
      /pretext pretraining is not available/,
    );
  });

  it('CLI: a --weights typo and the paper preset offline stop reproduce before it writes anything', async () => {
    const typoOut = path.join(tmp, 'typo');
    const typo = await reproduce(['--preset', 'smoke', '--weights', 'imagnet', '--out', typoOut], {});
    assert.equal(typo.code, 1);
    assert.match(typo.stderr, /--weights 'imagnet' is neither a weights source nor an existing file \(did you mean 'imagenet'\?\); valid values: imagenet \| random \| pretext/);
    assert.equal(fs.existsSync(typoOut), false);

    const paperOut = path.join(tmp, 'paper');
    const paper = await reproduce(['--preset', 'paper', '--out', paperOut], { PET_IQA_KERAS_CACHE: path.join(tmp, 'empty-cache'), PET_IQA_WEIGHTS_BASE_URL: 'http://127.0.0.1:1/' });
    assert.equal(paper.code, 1);
    assert.match(paper.stderr, /reproduce: --preset paper reproduces the paper's ImageNet transfer learning and will not run on a random init/);
    assert.match(paper.stderr, /--weights random/);
    assert.doesNotMatch(paper.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(fs.existsSync(paperOut), false);
  });
});
