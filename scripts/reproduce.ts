/**
 * npm run reproduce -- --preset smoke|quick|paper [--backbones A,B] [--regime frozen|partial|both]
 *   [--shard i/N] [--out DIR] [--weights imagenet|random|pretext|FILE] [--workers K] [--backend NAME] [--max-runs M] [--plan]
 */
import { Command } from 'commander';
import * as path from 'path';
import { parseShard, runStudy, PRESET_NAMES } from '../lib/study';
import { defaultWorkerCount } from '../lib/util/workers';
import { nonNegativeInt, positiveInt } from '../lib/util/cli';
import { weightsOption, type WeightsSource } from '../lib/weights';

async function main(): Promise<void> {
  const program = new Command()
    .name('reproduce')
    .description('Run (or resume) the backbone comparison study; finished runs are skipped.')
    .requiredOption('--preset <name>', `preset: ${PRESET_NAMES.join(' | ')}`)
    .option('--backbones <list>', 'comma-separated backbone names (default: the preset\'s)')
    .option('--regime <regime>', 'frozen | partial | both (default: the preset\'s)')
    .option('--shard <i/N>', 'run only shard i of N (1-based), e.g. $SLURM_ARRAY_TASK_ID/8')
    .option('--out <dir>', 'output folder (default results/<preset>)')
    .addOption(weightsOption('backbone weights (missing ImageNet files are downloaded; offline: random init, refused by --preset paper)'))
    .option('--workers <k>', 'worker threads (0 = inline)', nonNegativeInt)
    .option('--backend <name>', 'force a tfjs backend in every worker (gpu | node | wasm | cpu)')
    .option('--max-runs <m>', 'stop after m runs (timed subsets)', positiveInt)
    .option('--no-progress', 'log lines instead of progress bars')
    .option('--no-figures', 'skip writing <out>/figures at the end')
    .option('--plan', 'print the runs per regime and backbone and the estimated hours, then stop')
    .option('--no-verify', "skip the check of the reconstructions' sha256 against the manifest (recorded in every run record)")
    .parse();
  const o = program.opts<{ preset: string; backbones?: string; regime?: string; shard?: string; out?: string; weights: WeightsSource; workers?: number; backend?: string; maxRuns?: number; progress: boolean; figures: boolean; plan?: boolean; verify: boolean }>();
  if (o.regime && !['frozen', 'partial', 'both'].includes(o.regime)) throw new Error(`--regime must be frozen, partial or both, got '${o.regime}'`);
  if (o.plan) return printPlan(o);
  const r = await runStudy({
    preset: o.preset,
    backbones: o.backbones?.split(',').map((s) => s.trim()).filter(Boolean),
    regime: o.regime as 'frozen' | 'partial' | 'both' | undefined,
    shard: o.shard ? parseShard(o.shard) : undefined,
    out: o.out,
    weights: o.weights,
    workers: o.workers,
    backend: o.backend,
    maxRuns: o.maxRuns,
    progress: o.progress === false ? false : undefined,
    verifyChecksums: o.verify !== false,
  });
  process.stderr.write(`done: ${r.ran} run(s) in ${r.runSeconds.toFixed(1)} s (+${r.extractSeconds.toFixed(1)} s features), ${r.skipped} skipped; ${r.records.length} records in ${r.out}\n`);
  if (o.figures && r.records.length > 0) {
    // The figures of what ran (never training): HTML always, PNG/SVG when headless Chromium works.
    const { writeAllFigures } = await import('../lib/figures');
    const report = await writeAllFigures(r.out);
    process.stderr.write(`figures: ${report.files.length} files, ${report.warnings.length} warning(s); open ${path.join(report.outDir, 'index.html')}\n`);
  }
}

/** --plan: the estimate on the backend the sweep would use, before any data or model is touched. */
async function printPlan(o: { preset: string; backbones?: string; regime?: string; workers?: number; backend?: string; shard?: string }): Promise<void> {
  const { estimateStudy, formatEstimate, getPreset } = await import('../lib/study');
  const { initBackend } = await import('../lib/backend');
  const preset = getPreset(o.preset);
  const workers = o.workers ?? defaultWorkerCount();
  const choice = await initBackend({ backend: o.backend, workers });
  const backbones = (o.backbones?.split(',').map((s) => s.trim()).filter(Boolean) ?? preset.backbones) as typeof preset.backbones;
  const regimes = !o.regime ? preset.regimes : o.regime === 'both' ? (['frozen', 'partial'] as const) : [o.regime as 'frozen' | 'partial'];
  process.stdout.write(formatEstimate(estimateStudy({ preset, backbones, regimes, backend: choice.backend, workers: Math.max(1, workers) })) + '\n');
  if (o.shard) process.stdout.write(`  (--shard ${o.shard}: this machine runs about 1/${parseShard(o.shard).count} of it)\n`);
}

main().catch((err) => {
  process.stderr.write(`reproduce: ${(err as Error).message}\n`);
  process.exit(1);
});
