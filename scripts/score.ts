/**
 * Scores reconstructions with a kept model of the study:
 *   npm run score -- --model results/quick/models/MobileNet__frozen [--out DIR] FILE_OR_FOLDER_OR_MANIFEST...
 * Writes <out>/scores.json, <out>/scores.csv and <out>/png/<volume>.png (default out
 * results/scores/<results>__<model>). Exit code 0 when every volume scored, 1 when a volume or a
 * model failed (the others are still scored), 2 for bad usage.
 */
import { Command, Option } from 'commander';
import * as path from 'path';
import { initBackend } from '../lib/backend';
import { expandInputs, loadScoringModel, scoreBatch, type BackboneBuildFn, type ScoreInput, type VolumeScore } from '../lib/score';
import { positiveInt } from '../lib/util/cli';
import { weightsOption, type WeightsSource } from '../lib/weights';

interface CliOptions {
  model: string[];
  out?: string;
  png: boolean;
  reference?: string;
  backend?: string;
  batchSize: number;
  progress?: boolean;
  builder?: string;
  verify: boolean;
  weights?: WeightsSource;
}

async function main(argv: string[]): Promise<number> {
  const program = new Command()
    .name('npm run score --')
    .description('Score PET reconstructions (GQR, PR, DC on 0-3) with a kept model folder of the study.')
    .argument('<inputs...>', 'NIfTI files (.nii/.nii.gz), folders of them, or cohort manifests (.json)')
    .requiredOption('-m, --model <dir>', 'kept model folder <results>/models/<backbone>__<regime>[__ensemble] (repeat to score with several)', (v: string, prev: string[] = []) => [...prev, v])
    .option('-o, --out <dir>', 'report folder (default results/scores/<results>__<model>; with several models, <out>/<model name>)')
    .option('--no-png', 'do not write a PNG per volume')
    .option('--reference <manifest>', 'cohort manifest describing the training data (default: the one recorded in the model)')
    .option('--backend <name>', 'tfjs backend: gpu, node, wasm or cpu (default: first that works)')
    .option('--batch-size <n>', 'patches per forward pass', positiveInt, 32)
    .option('--no-progress', 'no progress bar (one line per volume instead)')
    .option('--no-verify', "skip the check of manifest inputs' sha256 (recorded in the report)")
    .addOption(weightsOption('the backbone weights file (default: the one the model recorded, else the Keras cache, else downloaded; its sha256 must match)', null))
    .addOption(new Option('--builder <module>', 'module exporting buildBackbone (a test double; default lib/backbones)').hideHelp())
    .exitOverride();
  try {
    program.parse(argv, { from: 'user' });
  } catch (err) {
    const code = (err as { exitCode?: number; code?: string }).code;
    return code === 'commander.helpDisplayed' || code === 'commander.version' ? 0 : 2;
  }
  const opts = program.opts<CliOptions>();
  const inputs: ScoreInput[] = expandInputs(program.args, { verifyChecksums: opts.verify !== false });
  const choice = await initBackend(opts.backend ? { backend: opts.backend } : {});
  const log = (s: string) => process.stderr.write(s + '\n');
  let status = 0;
  for (const dir of opts.model) {
    let model;
    try {
      const build = opts.builder ? (require(path.resolve(opts.builder)) as { buildBackbone: BackboneBuildFn }).buildBackbone : undefined;
      model = await loadScoringModel(dir, { batchSize: opts.batchSize, build, weights: opts.weights });
    } catch (err) {
      log(`error: ${(err as Error).message}`);
      status = 1;
      continue;
    }
    const out = opts.out ? (opts.model.length > 1 ? path.join(opts.out, model.name) : opts.out) : undefined;
    log(`scoring ${inputs.length} volume(s) with ${model.name} (${model.backbone}, ${model.regime}, ${model.kind}${model.kind === 'ensemble' ? ` of ${model.members.length}` : ''}, weights ${model.weights.kind}); backend ${choice.backend}`);
    const useBar = opts.progress !== false && process.stderr.isTTY === true;
    const cp = require('cli-progress') as typeof import('cli-progress');
    const bar = useBar ? new cp.SingleBar({ stream: process.stderr, format: 'score [{bar}] {value}/{total} | ETA {eta_formatted} | {info}', hideCursor: true }, cp.Presets.shades_classic) : undefined;
    bar?.start(inputs.length, 0, { info: '' });
    const describe = (row: VolumeScore) =>
      row.error ? `FAILED ${row.error}` : `${path.basename(row.file)} GQR ${row.scores!.GQR.toFixed(2)} PR ${row.scores!.PR.toFixed(2)} DC ${row.scores!.DC.toFixed(2)}${row.flags.length ? ` [${row.flags.map((f) => f.code).join(',')}]` : ''}`;
    let res;
    try {
      res = await scoreBatch({
        model,
        inputs,
        out,
        png: opts.png,
        reference: opts.reference,
        verifyChecksums: opts.verify !== false,
        backend: choice.backend,
        onVolume: (done, total, row) => {
          if (bar) {
            bar.update(done, { info: describe(row).slice(0, 60) });
          } else log(`[${done}/${total}] ${describe(row)}`);
        },
      });
    } finally {
      bar?.stop();
      model.dispose();
    }
    if (res.report.reference.reason && res.report.reference.reason !== 'disabled') log(`note: no out-of-distribution checks against the training data: ${res.report.reference.reason}`);
    for (const v of res.report.volumes) if (v.error && bar) log(`error: ${v.error}`);
    log(`${res.scored} scored (${res.flagged} flagged), ${res.failed} failed -> ${res.csv}, ${res.json}`);
    if (res.failed > 0) status = 1;
  }
  return status;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`error: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
