/**
 * Survivor statistics of the paper's patch sampler over a cohort:
 *   npm run -s patches -- --manifest FILE [--json] [--rated-only] [--size 80] [--candidates 1000]
 *                         [--keep 100] [--threshold 0.125] [--seed 0] [--on-too-few error|warn]
 * Prints, per volume and plane, candidates, survivors and kept patches, and a summary per plane
 * next to the paper's "about 200-500 of 1000 survive".
 */
import { Command, Option } from 'commander';
import * as cliProgress from 'cli-progress';
import { intensityProblems, loadManifest, labelsOf } from '../lib/manifest';
import { PLANES, sampleVolumes, type Plane } from '../lib/patches';
import { defaultWorkerCount } from '../lib/util/workers';
import { anyInt, nonNegativeInt, positiveInt, positiveNumber } from '../lib/util/cli';

interface Row {
  recon: string;
  patient: string;
  countPercent: number;
  plane: Plane;
  candidates: number;
  survivors: number;
  kept: number;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

async function main(): Promise<void> {
  const program = new Command()
    .name('patches')
    .description('Survivor counts of the background-rejecting patch sampler, per volume and plane')
    .requiredOption('--manifest <file>', 'cohort manifest (JSON)')
    .option('--json', 'print JSON instead of a table')
    .option('--rated-only', 'only the rated reconstructions (the ones in the training data)')
    .option('--size <n>', 'patch size', positiveInt, 80)
    .option('--candidates <n>', 'candidate positions per plane', positiveInt, 1000)
    .option('--keep <n>', 'patches kept per plane', positiveInt, 100)
    .option('--threshold <f>', 'background threshold as a fraction of the volume mean', positiveNumber, 1 / 8)
    .option('--seed <n>', 'sampler seed', anyInt, 0)
    .addOption(new Option('--on-too-few <mode>', 'when fewer survivors than --keep').choices(['error', 'warn']).default('error'))
    .option('--workers <n>', 'worker threads (0: none)', nonNegativeInt, defaultWorkerCount())
    .option('--no-verify', "skip the check of the reconstructions' sha256 against the manifest (recorded in the output)")
    .parse();
  const o = program.opts();
  const started = Date.now();
  const loaded = loadManifest(o.manifest, { checkFiles: true, verifyChecksums: o.verify !== false });
  const recons = loaded.manifest.reconstructions.filter((r) => !o.ratedOnly || labelsOf(r) !== undefined);
  const config = {
    size: Number(o.size),
    candidates: Number(o.candidates),
    keep: Number(o.keep),
    thresholdFraction: Number(o.threshold),
    onTooFew: o.onTooFew as 'error' | 'warn',
  };
  const seed = Number(o.seed);
  const bar = new cliProgress.SingleBar(
    { format: 'patches |{bar}| {value}/{total} volumes | ETA {eta_formatted} | {recon}', stream: process.stderr, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  if (process.stderr.isTTY) bar.start(recons.length, 0, { recon: '' });
  const rows: Row[] = [];
  const warnings: string[] = [];
  // The same derived streams as buildPatchDataset, so these counts are those of the training data.
  const sampled = await sampleVolumes(loaded, recons, {
    seed,
    config,
    workers: Number(o.workers),
    intensity: true,
    onResult: (i) => {
      if (process.stderr.isTTY) bar.increment(1, { recon: recons[i].id });
    },
  });
  recons.forEach((recon, v) => {
    for (const s of sampled[v].stats) rows.push({ recon: recon.id, patient: recon.patient, countPercent: recon.countPercent, ...s });
    warnings.push(...sampled[v].warnings);
    // Units: does the intensity scale fit what the manifest says (kBq/ml declared Bq/ml and the like)?
    const patient = loaded.manifest.patients.find((p) => p.id === recon.patient)!;
    const field = `reconstructions[${loaded.manifest.reconstructions.indexOf(recon)}].units`;
    for (const problem of intensityProblems({ units: recon.units, headerUnits: sampled[v].intensity?.headerUnits, p99: sampled[v].intensity!.p99, patient })) {
      warnings.push(`${recon.id} (${field}): ${problem}`);
    }
  });
  if (process.stderr.isTTY) bar.stop();
  const seconds = (Date.now() - started) / 1000;
  const summary = PLANES.map((plane) => {
    const s = rows.filter((r) => r.plane === plane).map((r) => r.survivors).sort((a, b) => a - b);
    return {
      plane,
      volumes: s.length,
      min: s[0],
      median: quantile(s, 0.5),
      max: s[s.length - 1],
      meanFraction: s.reduce((a, b) => a + b, 0) / Math.max(1, s.length) / config.candidates,
      insidePaperRange: s.filter((v) => v >= 0.2 * config.candidates && v <= 0.5 * config.candidates).length,
    };
  });
  if (o.json) {
    process.stdout.write(JSON.stringify({ manifest: loaded.file, checksums: loaded.checksums, config: { ...config, seed }, seconds, volumes: rows, summary, warnings }, null, 2) + '\n');
    return;
  }
  console.log(`${'reconstruction'.padEnd(28)} ${'plane'.padEnd(11)} candidates survivors kept`);
  for (const r of rows) {
    console.log(`${r.recon.padEnd(28)} ${r.plane.padEnd(11)} ${String(r.candidates).padStart(10)} ${String(r.survivors).padStart(9)} ${String(r.kept).padStart(4)}`);
  }
  console.log('\nSurvivors per plane (the paper saw about 200-500 of 1000):');
  for (const s of summary) {
    console.log(
      `  ${s.plane.padEnd(11)} min ${s.min}, median ${s.median}, max ${s.max} of ${config.candidates}; ` +
        `${s.insidePaperRange}/${s.volumes} volumes inside 20-50 %`,
    );
  }
  for (const w of warnings) console.warn(`warning: ${w}`);
  console.log(`\n${recons.length} volumes in ${seconds.toFixed(1)} s`);
}

main().catch((err: Error) => {
  console.error(`patches: ${err.message}`);
  process.exit(1);
});
