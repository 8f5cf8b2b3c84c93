/**
 * npm run probe -- --backbone NAME[,NAME...] [--weights random|pretext|imagenet|FILE[,...]] [--preset quick]
 *   [--fold F] [--n N] [--max-points P] [--out DIR] [--backend NAME]
 *
 * For each block output, a ridge probe (penalty chosen on validation) from spatially averaged
 * activations (mean and std per channel) to GQR, PR and DC; test MAE against depth, next to the
 * paper's frozen protocol and the constant and handcrafted baselines. Writes
 * <out>/probe/<backbone>__<weights>.json (Fig. 9 draws them).
 */
import { Command } from 'commander';
import { runProbe } from '../lib/probe';
import { PRESET_NAMES } from '../lib/study/presets';

async function main(): Promise<void> {
  const program = new Command()
    .name('probe')
    .description('Ridge probes of every block output of a backbone: where the quality scores live.')
    .requiredOption('--backbone <names>', 'backbone(s), comma-separated')
    .option('--weights <list>', 'random | pretext | imagenet | a weights file; comma-separated for several', 'random')
    .option('--preset <name>', `preset: ${PRESET_NAMES.join(' | ')}`, 'quick')
    .option('--fold <f>', "design fold (default: the preset's partial-regime fold)", (v) => Number(v))
    .option('--n <n>', "training patients (default: the preset's partial-regime n)", (v) => Number(v))
    .option('--max-points <p>', 'most block outputs probed', (v) => Number(v))
    .option('--out <dir>', 'results folder (default results/<preset>)')
    .option('--backend <name>', 'tfjs backend')
    .parse();
  const o = program.opts<{ backbone: string; weights: string; preset: string; fold?: number; n?: number; maxPoints?: number; out?: string; backend?: string }>();
  for (const backbone of o.backbone.split(',').map((s) => s.trim()).filter(Boolean)) {
    for (const weights of o.weights.split(',').map((s) => s.trim()).filter(Boolean)) {
      const { file, result } = await runProbe({ backbone, weights, preset: o.preset, fold: o.fold, n: o.n, maxPoints: o.maxPoints, out: o.out, backend: o.backend });
      const best = result.points.reduce((a, b) => (b.test.perPatch.overall < a.test.perPatch.overall ? b : a));
      process.stderr.write(`${backbone} (${result.weightsLabel}): best block ${best.name} (depth ${best.depth.toFixed(2)}) ${best.test.perPatch.overall.toFixed(3)} per patch; last ${result.points[result.points.length - 1].test.perPatch.overall.toFixed(3)}; wrote ${file} (${result.seconds.toFixed(0)} s)\n`);
    }
  }
}

main().catch((err) => {
  process.stderr.write(`probe: ${(err as Error).message}\n`);
  process.exit(1);
});
