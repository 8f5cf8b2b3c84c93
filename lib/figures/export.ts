import * as fs from 'fs';
import * as path from 'path';
import { projectRoot, writeFileAtomic, writeJsonAtomic } from '../util/files';
import { missingFigure, type Figure } from './common';
import { fig1, loadPatientLevels } from './fig1';
import { fig2 } from './fig2';
import { fig3 } from './fig3';
import { fig4 } from './fig4';
import { fig5 } from './fig5';
import { fig6 } from './fig6';
import { fig7 } from './fig7';
import { fig8 } from './fig8';
import { fig9 } from './fig9';
import { readProbeResults } from '../probe/result';
import { parameterRowsFromRuns, tryParameterTable, type TableParameterRow } from './params';
import { escapeHtml, figureHtml, FigureRenderer, writeFigureFiles } from './render';
import { backbonesOf, loadResults, type StudyResults } from './results';
import { table1, type PatientRow } from './table1';
import { table2 } from './table2';
import { table3 } from './table3';
import { tableCsv } from './table';
import { applyStamp, figureStamp, probeStamp, type ErrorUnit } from './reference';

/** The paper's items in the order of the index page. */
export const PAPER_ITEMS = ['table1', 'table2', 'table3', 'fig1', 'fig2', 'fig3', 'fig4', 'fig5', 'fig6', 'fig7', 'fig8'] as const;
/** Beyond the paper, drawn only when their data exist: Fig. 9 (probes, `npm run probe`). */
export const EXTRA_ITEMS = ['fig9'] as const;
/** Every item of the index page, in order. */
export const FIGURE_ITEMS = [...PAPER_ITEMS, ...EXTRA_ITEMS] as const;
export type FigureItem = (typeof FIGURE_ITEMS)[number];

export interface WriteAllOptions {
  /** Output folder; default `<resultsDir>/figures`. */
  outDir?: string;
  /** Cohort manifest for Table I and Fig. 1; default the manifest named by the runs' provenance. */
  manifest?: string;
  /** Only these items. */
  only?: FigureItem[];
  /**
   * Where Tables II/III get parameter counts: 'auto' = cached parameter table, else lib/backbones'
   * parameterTable() (builds all models once, then cached), else the runs; 'runs' = runs only.
   */
  params?: 'auto' | 'runs';
  /** Skip PNG/SVG (HTML and CSV only). Without this, HTML only is written (with a warning) when headless Chromium cannot start. */
  noImages?: boolean;
  /** MAE of Figs. 4, 5, 7 and 8: 'patch' (the paper's, default) or 'volume' (mean of a volume's patch predictions). */
  unit?: ErrorUnit;
  log?: (msg: string) => void;
}

export interface WriteAllReport {
  outDir: string;
  files: string[];
  warnings: string[];
}

/** Builds every figure object of the paper from a results folder (no files written). */
export function buildAllFigures(res: StudyResults, opts: Pick<WriteAllOptions, 'manifest' | 'params' | 'only' | 'log' | 'unit'> & { paramCache?: string } = {}): Record<FigureItem, Figure> {
  const unit = opts.unit ?? 'patch';
  const want = new Set<FigureItem>(opts.only ?? FIGURE_ITEMS);
  const out = {} as Record<FigureItem, Figure>;
  const manifest = opts.manifest ?? manifestOf(res);
  if (want.has('table1') || want.has('fig1')) {
    if (!manifest || !fs.existsSync(manifest)) {
      const what = manifest ? `No cohort manifest at ${manifest}` : 'No cohort manifest named by the runs (provenance.data.manifest) or --manifest';
      if (want.has('table1')) out.table1 = missingFigure('Table I. Patient demographics', what, [], 'npm run cohort -- --preset quick');
      if (want.has('fig1')) out.fig1 = missingFigure('Fig. 1. Transverse slice at the 7 count levels', what, [], 'npm run cohort -- --preset quick');
    } else {
      const m = JSON.parse(fs.readFileSync(manifest, 'utf8')) as { synthetic?: boolean; patients?: PatientRow[] };
      if (want.has('table1')) out.table1 = table1(m.patients ?? [], { synthetic: m.synthetic });
      if (want.has('fig1')) {
        try {
          const { patient, levels } = loadPatientLevels(manifest);
          out.fig1 = fig1(levels, { patient });
        } catch (err) {
          out.fig1 = missingFigure('Fig. 1. Transverse slice at the 7 count levels', 'Could not read the reconstructions:', [(err as Error).message]);
        }
      }
    }
  }
  if (want.has('table2') || want.has('table3')) {
    const rows = parameterRows(res, opts.params ?? 'auto', opts.paramCache, opts.log);
    if (want.has('table2')) out.table2 = table2(rows);
    // From runs alone only the backbones that were run have partial counts: list just those.
    const ran = new Set(backbonesOf(res.runs));
    if (want.has('table3')) out.table3 = table3(opts.params === 'runs' ? rows.filter((r) => ran.has(r.backbone)) : rows);
  }
  if (want.has('fig2')) out.fig2 = fig2();
  if (want.has('fig3')) out.fig3 = fig3(res);
  if (want.has('fig4')) out.fig4 = fig4(res, { unit });
  if (want.has('fig5')) out.fig5 = fig5(res, { unit });
  if (want.has('fig6')) out.fig6 = fig6(res);
  if (want.has('fig7')) out.fig7 = fig7(res, { unit });
  if (want.has('fig8')) out.fig8 = fig8(res, { unit });
  // Fig. 9 (probes, beyond the paper) only where `npm run probe` wrote results.
  const probes = want.has('fig9') ? readProbeResults(res.dir) : [];
  if (probes.length > 0) out.fig9 = fig9(probes);
  // Every figure says which data, weights and settings it shows.
  const stamp = figureStamp(res.runs, unit);
  for (const [key, fig] of Object.entries(out)) applyStamp(fig, key === 'fig9' ? probeStamp(probes, res.runs) : stamp);
  return out;
}

/**
 * Writes `<outDir>/<item>.html|.png|.svg` (+ `.csv` for tables), `index.html` linking them and
 * `figures.json` (items, files, warnings). Missing runs become figures that name them, and warnings.
 */
export async function writeAllFigures(resultsDir: string, opts: WriteAllOptions = {}): Promise<WriteAllReport> {
  const log = opts.log ?? ((m: string) => console.log(m));
  const outDir = opts.outDir ?? path.join(resultsDir, 'figures');
  const res = loadResults(resultsDir);
  const figs = buildAllFigures(res, { ...opts, paramCache: path.join(outDir, 'parameter-table.json'), log });
  const warnings = [...res.warnings];
  const files: string[] = [];
  const items = FIGURE_ITEMS.filter((k) => figs[k]);
  const renderer = opts.noImages ? undefined : await openRenderer(log);
  try {
    for (const k of items) {
      const fig = figs[k];
      const title = titleOf(fig, k);
      if (renderer) files.push(...(await writeFigureFiles(renderer, fig, outDir, k, title)));
      else {
        const html = path.join(outDir, `${k}.html`);
        fs.mkdirSync(outDir, { recursive: true });
        fs.writeFileSync(html, figureHtml(fig, title));
        files.push(html);
      }
      if (fig.table) {
        const csv = path.join(outDir, `${k}.csv`);
        writeFileAtomic(csv, tableCsv(fig));
        files.push(csv);
      }
      for (const w of fig.warnings ?? []) warnings.push(w);
      log(`  ${k}: ${title}${fig.warnings?.length ? ` (${fig.warnings.length} warning(s))` : ''}`);
    }
  } finally {
    await renderer?.close();
  }
  const index = path.join(outDir, 'index.html');
  const stamp = figureStamp(res.runs, opts.unit ?? 'patch');
  writeFileAtomic(index, indexHtml(resultsDir, stamp, items.map((k) => ({ key: k, title: titleOf(figs[k], k), table: !!figs[k].table, images: !!renderer })), warnings));
  files.push(index);
  writeJsonAtomic(path.join(outDir, 'figures.json'), { resultsDir, stamp, items, files: files.map((f) => path.relative(outDir, f)), warnings });
  for (const w of warnings) log(`warning: ${w}`);
  return { outDir, files, warnings };
}

/** The PNG/SVG renderer, or undefined (with a logged warning) when headless Chromium cannot start. */
async function openRenderer(log: (msg: string) => void): Promise<FigureRenderer | undefined> {
  try {
    return await FigureRenderer.open();
  } catch (err) {
    log(`warning: PNG/SVG export failed (${(err as Error).message}); writing HTML only`);
    return undefined;
  }
}

function titleOf(fig: Figure, fallback: string): string {
  const t = fig.layout.title as { text?: string } | string | undefined;
  return (typeof t === 'string' ? t : t?.text ?? fallback).replace(/<[^>]+>/g, '');
}

/** The manifest the runs were trained on, if they agree on one and it is a file path. */
function manifestOf(res: StudyResults): string | undefined {
  const m = res.runs.map((r) => r.provenance?.data?.manifest).find((m) => typeof m === 'string' && m.endsWith('.json'));
  if (!m) return undefined;
  if (path.isAbsolute(m)) return m;
  // Runners record paths relative to the project root; notebooks run from notebooks/, so try both.
  const candidates = [path.resolve(projectRoot(), m), path.resolve(m), path.resolve(res.dir, m)];
  return candidates.find((p) => fs.existsSync(p)) ?? candidates[0];
}

function parameterRows(res: StudyResults, mode: 'auto' | 'runs', cache?: string, log?: (m: string) => void): TableParameterRow[] {
  const fromRuns = parameterRowsFromRuns(res.runs);
  if (mode === 'runs') return fromRuns;
  let table: TableParameterRow[] | undefined;
  if (cache && fs.existsSync(cache)) table = JSON.parse(fs.readFileSync(cache, 'utf8')) as TableParameterRow[];
  else {
    table = tryParameterTable(log);
    if (table && cache) writeJsonAtomic(cache, table);
  }
  if (!table) return fromRuns;
  // Counts from the models themselves, with run records filling any gap.
  return fromRuns.map((r) => ({ ...r, ...Object.fromEntries(Object.entries(table!.find((t) => t.backbone === r.backbone) ?? {}).filter(([, v]) => v !== undefined)) }));
}

function indexHtml(resultsDir: string, stamp: string, items: Array<{ key: string; title: string; table: boolean; images: boolean }>, warnings: string[]): string {
  const rows = items
    .map((i) => {
      const links = [`<a href="${i.key}.html">interactive</a>`];
      if (i.images) links.push(`<a href="${i.key}.png">PNG</a>`, `<a href="${i.key}.svg">SVG</a>`);
      if (i.table) links.push(`<a href="${i.key}.csv">CSV</a>`);
      const thumb = i.images ? `<a href="${i.key}.html"><img src="${i.key}.png" alt="${escapeHtml(i.title)}" style="max-width:420px;border:1px solid #ccc"></a>` : '';
      return `<tr><td><b>${i.key}</b></td><td>${escapeHtml(i.title)}<br>${links.join(' | ')}</td><td>${thumb}</td></tr>`;
    })
    .join('\n');
  const warn = warnings.length ? `<h2>Warnings</h2><ul style="color:#a00">${warnings.map((w) => `<li>${escapeHtml(w)}</li>`).join('')}</ul>` : '';
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>pet-iqa figures</title>
<style>body{font-family:Arial,Helvetica,sans-serif;margin:20px}td{vertical-align:top;padding:6px 12px;border-bottom:1px solid #eee}</style></head>
<body><h1>Figures and tables</h1><p>Hopson et al., Deep Convolutional Backbone Comparison for Automated PET Image Quality Assessment. Results: <code>${escapeHtml(resultsDir)}</code>.</p>
<p style="color:#555;font-size:13px">${escapeHtml(stamp)}</p>
<table>${rows}</table>${warn}</body></html>
`;
}
