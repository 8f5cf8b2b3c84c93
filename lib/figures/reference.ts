/**
 * What the result figures draw next to the runs: the baseline predictors (constant, handcrafted
 * ridge) as labelled reference lines, the choice between per-patch and per-volume MAE, and the
 * one-line stamp saying which data, weights and settings a figure shows.
 */
import * as path from 'path';
import type { BaselinePredictor, BaselineRecord, RunMetrics, RunRecord } from '../records';
import type { ProbeResult } from '../probe/result';
import { PRESETS } from '../study/presets';
import type { Figure, Layout } from './common';
import { mean } from './common';

/** Which MAE the figures show: the paper's per patch (default) or per volume (mean of a volume's patch predictions). */
export type ErrorUnit = 'patch' | 'volume';

/** The MAE of a record on a set, per patch or per volume. */
export function recordMAE(r: { metrics: RunMetrics }, set: 'train' | 'test', unit: ErrorUnit = 'patch'): number {
  if (unit === 'volume') return r.metrics.volumeMAE[set].overall;
  return (set === 'train' ? r.metrics.trainMAE : r.metrics.testMAE).overall;
}

/** Axis-title words for a set and unit. */
export function maeTitle(set: 'train' | 'test', unit: ErrorUnit = 'patch'): string {
  return `${set === 'train' ? 'Training' : 'Test'} MAE${unit === 'volume' ? ' per volume' : ''}`;
}

export const BASELINE_STYLE: Record<BaselinePredictor, { label: string; color: string; dash: string }> = {
  constant: { label: 'constant (training mean)', color: '#d62728', dash: 'dashdot' },
  'handcrafted-ridge': { label: 'handcrafted features + ridge', color: '#2ca02c', dash: 'longdash' },
};
export const BASELINE_ORDER: readonly BaselinePredictor[] = ['constant', 'handcrafted-ridge'];

/** Mean of `value` over the baseline records of a predictor at kind and n (and fold, when given); undefined when none. */
export function baselineMean(
  baselines: readonly BaselineRecord[] | undefined,
  predictor: BaselinePredictor,
  q: { kind: 'fold' | 'ensemble'; n: number; fold?: number },
  value: (b: BaselineRecord) => number,
): number | undefined {
  const xs = (baselines ?? []).filter((b) => b.predictor === predictor && b.kind === q.kind && b.n === q.n && (q.fold === undefined || b.fold === q.fold)).map(value);
  return xs.length ? mean(xs) : undefined;
}

/** One short line: data, weights per backbone, preset and where its training differs from the paper's, backend, study seed, MAE unit, commit. */
export function figureStamp(runs: readonly RunRecord[], unit: ErrorUnit = 'patch'): string {
  if (runs.length === 0) return '';
  const first = runs[0];
  const data = dataText(first);
  const byWeights = new Map<string, string[]>();
  for (const r of runs) {
    const w = r.provenance.weights as { kind: string; file?: string; seed?: number; bnCalibration?: unknown; task?: string };
    const text =
      w.kind === 'imagenet'
        ? `ImageNet ${path.basename(String(w.file))}`
        : w.kind === 'random init'
          ? `random init (seed ${w.seed}${w.bnCalibration ? ', BN calibrated' : ''})`
          : `${w.kind}${w.task ? ` ${w.task}` : ''}${w.file ? ` ${path.basename(w.file)}` : ''}`;
    const list = byWeights.get(text) ?? [];
    if (!list.includes(r.backbone)) list.push(r.backbone);
    byWeights.set(text, list);
  }
  // ImageNet files name their backbone; the others list the backbones they apply to.
  const weights = [...byWeights].map(([w, bs]) => (w.startsWith('ImageNet') ? w : `${bs.join(', ')}: ${w}`)).join('; ');
  const preset = first.provenance.preset;
  const settings: string[] = [];
  const paper = PRESETS.paper;
  for (const regime of ['frozen', 'partial'] as const) {
    const r = runs.find((x) => x.regime === regime);
    const t = r?.provenance.config.train as { learningRate?: number; epochs?: number; batchSize?: number; patience?: number } | undefined;
    if (!t) continue;
    const p = regime === 'frozen' ? paper.frozenTrain : paper.partialTrain;
    const diff: string[] = [];
    if (t.learningRate !== p.learningRate) diff.push(`lr ${t.learningRate}`);
    if (t.epochs !== p.epochs) diff.push(`${t.epochs} epochs`);
    if (t.batchSize !== p.batchSize) diff.push(`batch ${t.batchSize}`);
    if ((t.patience ?? 0) !== (p.patience ?? 0)) diff.push(`patience ${t.patience}`);
    if (diff.length) settings.push(`${regime} ${diff.join(', ')}`);
  }
  const keep = (first.provenance.config.patches as { keep?: number } | undefined)?.keep;
  if (keep !== undefined && keep !== paper.patches.keep) settings.push(`${keep} patches per plane`);
  const vsPaper = settings.length ? ` (${settings.join('; ')}; paper: lr ${paper.frozenTrain.learningRate}, ${paper.frozenTrain.epochs} epochs, ${paper.patches.keep} patches per plane)` : '';
  const backends = [...new Set(runs.map((r) => r.provenance.backend))].join(', ');
  const seeds = [...new Set(runs.map((r) => (r.provenance.config as { studySeed?: number }).studySeed).filter((s) => s !== undefined))];
  const seedText = seeds.length ? ` Seed ${seeds.join(', ')}.` : '';
  return `Data: ${data}. Weights: ${weights}. Preset ${preset}${vsPaper}. Backend ${backends}.${seedText} MAE per ${unit}. Commit ${first.provenance.gitCommit.slice(0, 10)}.`;
}

function dataText(run: RunRecord): string {
  const d = run.provenance.data;
  return d.kind === 'synthetic' ? `synthetic cohort (${path.basename(path.dirname(d.manifest)) || d.manifest})` : `real data (${path.basename(d.manifest)})`;
}

/**
 * The stamp of Fig. 9: the probes' own weights per backbone (a probe file may show weights no run
 * used, random init beside pretext), preset, split, backend and commit; data from the runs when present.
 */
export function probeStamp(probes: readonly ProbeResult[], runs: readonly RunRecord[]): string {
  if (probes.length === 0) return '';
  const byBackbone = new Map<string, string[]>();
  for (const p of probes) {
    const file = typeof p.weights.file === 'string' ? ` ${path.basename(p.weights.file)}` : '';
    const list = byBackbone.get(p.backbone) ?? [];
    list.push(`${p.weightsLabel}${file}`);
    byBackbone.set(p.backbone, list);
  }
  const weights = [...byBackbone].map(([b, ws]) => `${b}: ${ws.join(', ')}`).join('; ');
  const p0 = probes[0];
  const data = runs.length ? `Data: ${dataText(runs[0])}. ` : '';
  const backends = [...new Set(probes.map((p) => p.backend))].join(', ');
  const commits = [...new Set(probes.map((p) => p.gitCommit.slice(0, 10)))].join(', ');
  return `${data}Weights probed: ${weights}. Preset ${p0.preset}, fold ${p0.fold}, n = ${p0.n}. Backend ${backends}. Commit ${commits}.`;
}

/** Adds the stamp as a grey line along the bottom edge of a figure (grows its height and bottom margin). */
export function applyStamp(fig: Figure, stamp: string): void {
  if (!stamp) return;
  const layout: Layout = fig.layout;
  const margin = { l: 70, r: 30, t: 70, b: 70, ...((layout.margin as Record<string, number>) ?? {}) };
  const width = Number(layout.width) || 900;
  // Wrapped at the figure's width (about 5.5 px per character at size 9) so it is never clipped.
  const chars = Math.max(60, Math.floor((width - 20) / 5.5));
  const lines: string[] = [];
  let line = '';
  for (const word of stamp.split(' ')) {
    if (line && (line + ' ' + word).length > chars) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  const extra = 12 * lines.length + 8;
  layout.height = (Number(layout.height) || 520) + extra;
  const annotations = ((layout.annotations as unknown[]) ?? []).slice();
  annotations.push({
    text: lines.join('<br>'),
    name: 'stamp',
    xref: 'paper',
    yref: 'paper',
    x: 0,
    y: 0,
    xshift: -margin.l + 8,
    yshift: -margin.b - 2,
    xanchor: 'left',
    yanchor: 'top',
    align: 'left',
    showarrow: false,
    font: { size: 9, color: '#555' },
  });
  margin.b += extra;
  layout.margin = margin;
  layout.annotations = annotations;
}
