/**
 * A trained smoke-cohort study made once per test process in its own tmp folder: the smoke cohort
 * (results/cohorts/smoke, generated when missing), the pooled test backbone, frozen (one fold run +
 * a 2-member ensemble, 100 epochs, 10 patches per plane) and partial (5 epochs) regimes.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend } from '../../lib/backend';
import { ensureCohort } from '../../lib/workspace/cohort';
import { runStudy } from '../../lib/study/runner';
import { getPreset, type StudyPreset } from '../../lib/study/presets';
import type { BackboneBuildFn } from '../../lib/score';

export const BUILDER_MODULE = path.join(__dirname, 'pooled_backbone.ts');
export const build = (require(BUILDER_MODULE) as { buildBackbone: BackboneBuildFn }).buildBackbone;

export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface TrainedFixture {
  out: string;
  manifest: string;
  preset: StudyPreset;
  testPatients: string[];
  models: { frozen: string; ensemble: string; partial: string };
}

let pending: Promise<TrainedFixture> | undefined;

export function trainedSmokeStudy(): Promise<TrainedFixture> {
  pending ??= (async () => {
    await initBackend();
    const manifest = await ensureCohort('smoke', () => undefined);
    const out = tmpDir('score-study-');
    const preset = getPreset('smoke');
    preset.backbones = ['MobileNet'];
    preset.regimes = ['frozen', 'partial'];
    preset.frozenTrain = { epochs: 100 };
    preset.partialTrain = { epochs: 5 };
    preset.patches = { ...preset.patches, keep: 10 };
    preset.design = { ...preset.design, folds: 1, trainingSizes: [8], ensembleRepeats: 2 };
    const r = await runStudy({
      preset,
      out,
      builderModule: BUILDER_MODULE,
      weights: { kind: 'random' },
      workers: 0,
      progress: false,
      cacheDir: path.join(out, 'cache'),
      data: { kind: 'manifest', manifestPath: manifest, patchConfig: { ...preset.patches, cacheDir: path.join(out, 'patch-cache') } },
      log: () => undefined,
    });
    const m = (n: string) => path.join(out, 'models', n);
    return { out, manifest, preset, testPatients: r.design.testPatients, models: { frozen: m('MobileNet__frozen'), ensemble: m('MobileNet__frozen__ensemble'), partial: m('MobileNet__partial') } };
  })();
  return pending;
}
