/**
 * npm run pretrain -- --backbone NAME [--task count-level] [--preset quick] [--manifest FILE]
 *   [--steps N] [--batch B] [--crop C] [--lr X] [--seed S] [--out FILE] [--backend NAME]
 *
 * Pretrains a whole backbone from random init on a label-free pretext task of the cohort's
 * non-test patients and writes Keras-layout .h5 weights with a provenance JSON next to them
 * (default: the cache that `--weights pretext` uses, so reproduce reuses the file).
 */
import { Command } from 'commander';
import { getBackboneSpec, type BackboneName } from '../lib/backbones/registry';
import { ensureCohort } from '../lib/workspace';
import { loadManifest } from '../lib/manifest';
import { PRETEXT_TASKS, ensurePretextWeights, presetPretextSpec, studyTestPatients, type PretextTask } from '../lib/pretext';
import { getPreset, PRESET_NAMES } from '../lib/study/presets';

async function main(): Promise<void> {
  const num = (v: string) => Number(v);
  const program = new Command()
    .name('pretrain')
    .description('Pretrain a backbone from random init on a pretext task (no clinician labels); test patients are never read.')
    .requiredOption('--backbone <name>', 'backbone, e.g. MobileNetV2')
    .option('--task <task>', `pretext task: ${PRETEXT_TASKS.join(' | ')}`, 'count-level')
    .option('--preset <name>', `preset whose cohort, patches, design and pretext settings are used: ${PRESET_NAMES.join(' | ')}`, 'quick')
    .option('--manifest <file>', "cohort manifest (default: the preset's synthetic cohort, generated when missing)")
    .option('--steps <n>', 'optimiser steps (default: the preset\'s)', num)
    .option('--batch <b>', 'patches per step', num)
    .option('--crop <c>', 'side of the random crops trained on', num)
    .option('--lr <x>', 'Adam learning rate', num)
    .option('--jitter <s>', 'random intensity scale in [1/s, s] (1 = off)', num)
    .option('--seed <s>', 'seed (default: the preset\'s)', num)
    .option('--out <file>', 'write the .h5 here (and <file>.json) instead of the cache')
    .option('--backend <name>', 'tfjs backend (gpu | node | wasm | cpu)')
    .parse();
  const o = program.opts<{ backbone: string; task: string; preset: string; manifest?: string; steps?: number; batch?: number; crop?: number; lr?: number; jitter?: number; seed?: number; out?: string; backend?: string }>();
  const backbone = getBackboneSpec(o.backbone).name as BackboneName;
  if (!(PRETEXT_TASKS as readonly string[]).includes(o.task)) throw new Error(`--task must be one of ${PRETEXT_TASKS.join(', ')}, got '${o.task}'`);
  const preset = getPreset(o.preset);
  const log = (s: string) => process.stderr.write(s + '\n');
  const manifestPath = o.manifest ?? (await ensureCohort(preset.cohort, log));
  const testPatients = studyTestPatients(loadManifest(manifestPath), { ...preset.design, seed: preset.design.seed ?? preset.seed });
  const spec = presetPretextSpec(backbone, { preset, testPatients, manifestPath, task: o.task as PretextTask });
  spec.train = {
    ...spec.train,
    ...(o.steps !== undefined ? { steps: o.steps } : {}),
    ...(o.batch !== undefined ? { batchSize: o.batch } : {}),
    ...(o.crop !== undefined ? { crop: o.crop } : {}),
    ...(o.lr !== undefined ? { learningRate: o.lr } : {}),
    ...(o.jitter !== undefined ? { intensityJitter: o.jitter } : {}),
    ...(o.seed !== undefined ? { seed: o.seed } : {}),
  };
  const made = await ensurePretextWeights(spec, { out: o.out, log, backend: o.backend });
  const r = made.record;
  process.stdout.write(
    JSON.stringify(
      { file: made.file, cached: made.cached, label: r.label, steps: r.stepsRun, finalLoss: r.finalLoss, check: r.check, excludedPatients: r.excludedPatients, patients: r.patients, sha256: r.sha256, secondsPerStep: r.secondsPerStep, seconds: r.seconds },
      null,
      2,
    ) + '\n',
  );
}

main().catch((err) => {
  process.stderr.write(`pretrain: ${(err as Error).message}\n`);
  process.exit(1);
});
