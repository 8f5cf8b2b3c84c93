/**
 * Regenerates every figure and table of the paper from a results folder:
 *   npm run figures -- [--results DIR] [--out DIR] [--manifest FILE] [--only fig3,fig4] [--fake] [--no-images]
 * writes DIR/figures/{table1..3,fig1..8}.{html,png,svg} (+ .csv for tables) and index.html.
 * --fake first writes plausible fake results (seeded) into DIR, for trying the figures out.
 */
import { Command } from 'commander';
import * as fs from 'fs';
import * as path from 'path';
import { PAPER_ITEMS, writeAllFigures, writeFakeResults, type PaperItem } from '../lib/figures';
import { anyInt } from '../lib/util/cli';

async function main(): Promise<void> {
  const program = new Command()
    .name('figures')
    .description('Write the paper\'s figures and tables (HTML, PNG, SVG, CSV) from a results folder')
    .option('--results <dir>', 'results folder holding runs/*.json and design.json', 'results')
    .option('--out <dir>', 'output folder (default <results>/figures)')
    .option('--manifest <file>', 'cohort manifest for Table I and Fig. 1 (default: the one the runs name)')
    .option('--only <items>', `comma-separated subset of ${PAPER_ITEMS.join(',')}`)
    .option('--params <mode>', "parameter counts for Tables II/III: 'auto' or 'runs'", 'auto')
    .option('--fake [seed]', 'first write fake (seeded) results into --results, for development', (v) => String(anyInt(v)))
    .option('--no-images', 'skip PNG/SVG (no Chromium needed)')
    .parse();
  const o = program.opts<{ results: string; out?: string; manifest?: string; only?: string; params: 'auto' | 'runs'; fake?: string | boolean; images: boolean }>();
  const only = o.only ? (o.only.split(',').map((s) => s.trim()) as PaperItem[]) : undefined;
  const bad = only?.filter((k) => !(PAPER_ITEMS as readonly string[]).includes(k));
  if (bad?.length) throw new Error(`--only: unknown item(s) ${bad.join(', ')}; valid: ${PAPER_ITEMS.join(', ')}`);
  if (o.fake !== undefined && o.fake !== false) {
    const seed = typeof o.fake === 'string' ? Number(o.fake) : 1;
    writeFakeResults(o.results, { seed });
    console.log(`wrote fake results (seed ${seed}) to ${o.results}`);
  }
  if (!fs.existsSync(path.join(o.results, 'runs'))) {
    // The study runner writes results/<preset>/; point at the ones that exist rather than failing vaguely.
    const found = fs.existsSync(o.results)
      ? fs.readdirSync(o.results).filter((d) => fs.existsSync(path.join(o.results, d, 'runs'))).map((d) => path.join(o.results, d))
      : [];
    throw new Error(
      `no run records in ${path.join(o.results, 'runs')}.` +
        (found.length ? ` Results folders here: ${found.join(', ')}; pass one with --results, e.g. --results ${found[0]}.` : ' Run `npm run reproduce -- --preset quick` first, or try `--fake`.'),
    );
  }
  const started = Date.now();
  const report = await writeAllFigures(o.results, { outDir: o.out, manifest: o.manifest, only, params: o.params, noImages: !o.images });
  console.log(`${report.files.length} files in ${path.relative(process.cwd(), report.outDir) || '.'} (${((Date.now() - started) / 1000).toFixed(1)} s), ${report.warnings.length} warning(s); open ${path.join(report.outDir, 'index.html')}`);
}

main().catch((err) => {
  console.error(`figures: ${(err as Error).message}`);
  process.exit(1);
});
