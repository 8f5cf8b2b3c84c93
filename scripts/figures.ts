/**
 * Regenerates every figure and table of the paper from a results folder:
 *   npm run figures -- [--results DIR (default: the latest results folder under results/)] [--out DIR] [--manifest FILE] [--only fig3,fig4] [--fake] [--no-images]
 * writes DIR/figures/{table1..3,fig1..8}.{html,png,svg} (+ .csv for tables) and index.html.
 * --fake first writes plausible fake results (seeded) into DIR, for trying the figures out.
 */
import { Command } from 'commander';
import * as fs from 'fs';
import * as path from 'path';
import { latestResultsDir, resultsRoot } from '../lib/records';
import { FIGURE_ITEMS, writeAllFigures, writeFakeResults, type FigureItem } from '../lib/figures';
import { anyInt } from '../lib/util/cli';

async function main(): Promise<void> {
  const program = new Command()
    .name('figures')
    .description('Write the paper\'s figures and tables (HTML, PNG, SVG, CSV) from a results folder')
    .option('--results <dir>', 'results folder holding runs/*.json and design.json (default: the most recently updated one under results/)')
    .option('--out <dir>', 'output folder (default <results>/figures)')
    .option('--manifest <file>', 'cohort manifest for Table I and Fig. 1 (default: the one the runs name)')
    .option('--only <items>', `comma-separated subset of ${FIGURE_ITEMS.join(',')}`)
    .option('--params <mode>', "parameter counts for Tables II/III: 'auto' or 'runs'", 'auto')
    .option('--fake [seed]', 'first write fake (seeded) results into --results, for development', (v) => String(anyInt(v)))
    .option('--no-images', 'skip PNG/SVG (no Chromium needed)')
    .option('--per-volume', "Figs. 4, 5, 7, 8 show the MAE per volume (mean of a volume's patch predictions) instead of the paper's per patch")
    .parse();
  const o = program.opts<{ results?: string; out?: string; manifest?: string; only?: string; params: 'auto' | 'runs'; fake?: string | boolean; images: boolean; perVolume?: boolean }>();
  if (o.results === undefined) {
    if (o.fake !== undefined && o.fake !== false) o.results = path.join(resultsRoot(), 'fake');
    else {
      const latest = latestResultsDir();
      if (!latest) throw new Error(`no results folder with run records under ${resultsRoot()}. Run \`npm run reproduce -- --preset quick\` first, or try \`--fake\`.`);
      o.results = latest.root;
      console.log(`results: ${path.relative(process.cwd(), latest.root) || '.'} (the most recently updated results folder; --results DIR picks another)`);
    }
  }
  const results = o.results;
  const only = o.only ? (o.only.split(',').map((s) => s.trim()) as FigureItem[]) : undefined;
  const bad = only?.filter((k) => !(FIGURE_ITEMS as readonly string[]).includes(k));
  if (bad?.length) throw new Error(`--only: unknown item(s) ${bad.join(', ')}; valid: ${FIGURE_ITEMS.join(', ')}`);
  if (o.fake !== undefined && o.fake !== false) {
    const seed = typeof o.fake === 'string' ? Number(o.fake) : 1;
    writeFakeResults(results, { seed });
    console.log(`wrote fake results (seed ${seed}) to ${results}`);
  }
  if (!fs.existsSync(path.join(results, 'runs'))) {
    // The study runner writes results/<preset>/; point at the ones that exist rather than failing vaguely.
    const found = fs.existsSync(results)
      ? fs.readdirSync(results).filter((d) => fs.existsSync(path.join(results, d, 'runs'))).map((d) => path.join(results, d))
      : [];
    throw new Error(
      `no run records in ${path.join(results, 'runs')}.` +
        (found.length ? ` Results folders here: ${found.join(', ')}; pass one with --results, e.g. --results ${found[0]}.` : ' Run `npm run reproduce -- --preset quick` first, or try `--fake`.'),
    );
  }
  const started = Date.now();
  const report = await writeAllFigures(results, { outDir: o.out, manifest: o.manifest, only, params: o.params, noImages: !o.images, unit: o.perVolume ? 'volume' : 'patch' });
  console.log(`${report.files.length} files in ${path.relative(process.cwd(), report.outDir) || '.'} (${((Date.now() - started) / 1000).toFixed(1)} s), ${report.warnings.length} warning(s); open ${path.join(report.outDir, 'index.html')}`);
}

main().catch((err) => {
  console.error(`figures: ${(err as Error).message}`);
  process.exit(1);
});
