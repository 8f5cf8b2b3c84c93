import { addFootnotes, baseLayout, COLORS, LABEL_NOISE_MAE, missingFigure, missingFootnote, type Figure, type Footnote, type Trace } from './common';
import { BASELINE_ORDER, BASELINE_STYLE, baselineMean } from './reference';
import { absentBackbones, backbonesOf, describeRun, failedBackbones, findRun, studyPlan, type StudyResults } from './results';

/**
 * Fig. 3: minimum validation loss (MSE) per backbone, frozen regime, at the largest training set
 * (n = 8 in the paper): one box per backbone over the folds, every fold a point.
 */
export function fig3(res: Pick<StudyResults, 'runs' | 'design' | 'baselines'>, opts: { n?: number; backbones?: string[] } = {}): Figure {
  const plan = studyPlan(res);
  const n = opts.n ?? Math.max(...plan.sizes);
  const title = `Fig. 3. Minimum validation loss per backbone (frozen, n = ${n})`;
  const backbones = backbonesOf(res.runs.filter((r) => r.regime === 'frozen'), opts.backbones);
  const failed = failedBackbones(res.runs);
  const missing: string[] = [];
  const traces: Trace[] = [];
  for (const b of backbones) {
    const ys: number[] = [];
    for (const fold of plan.folds) {
      const r = findRun(res.runs, { backbone: b, regime: 'frozen', kind: 'fold', fold, n });
      if (r) ys.push(r.metrics.minValLoss);
      else missing.push(describeRun({ backbone: b, regime: 'frozen', kind: 'fold', fold, n }));
    }
    if (ys.length === 0) continue;
    const color = failed.has(b) ? COLORS.failed : COLORS.ok;
    traces.push({ type: 'box', name: b, x: ys.map(() => b), y: ys, boxpoints: 'all', jitter: 0.3, pointpos: 0, marker: { color, size: 4 }, line: { color, width: 1.2 }, fillcolor: 'rgba(0,0,0,0)', showlegend: false, hovertemplate: `${b}<br>min val loss %{y:.3f}<extra></extra>` });
  }
  const absent = absentBackbones(res.runs);
  if (traces.length === 0) return missingFigure(title, 'No frozen fold runs at this n:', missing.length ? missing : [`frozen runs with n = ${n}`], 'npm run reproduce');
  const layout: Record<string, unknown> = {
      ...baseLayout(title),
      width: 1000,
      height: 540,
      margin: { l: 70, r: 30, t: 70, b: 150 },
      xaxis: { tickangle: -45, categoryorder: 'array', categoryarray: backbones, showline: true, linecolor: '#333' },
      yaxis: { title: { text: 'Minimum validation loss (MSE)' }, rangemode: 'tozero', showline: true, linecolor: '#333', gridcolor: '#e5e5e5', zeroline: false },
      shapes: [{ type: 'line', xref: 'paper', x0: 0, x1: 1, yref: 'y', y0: LABEL_NOISE_MAE, y1: LABEL_NOISE_MAE, line: { color: COLORS.reference, dash: 'dash', width: 1.2 } }],
      annotations: [
        { text: 'loss 0.5', xref: 'paper', x: 1, xanchor: 'right', yref: 'y', y: LABEL_NOISE_MAE, yanchor: 'bottom', showarrow: false, font: { size: 10, color: COLORS.reference } },
        ...(failed.size ? [{ text: 'grey: failed to train', xref: 'paper', yref: 'paper', x: 1, y: 1.02, xanchor: 'right', yanchor: 'bottom', showarrow: false, font: { size: 10, color: '#777' } }] : []),
      ],
  };
  // Baselines: their validation MSE on the same folds at this n (mean over folds), labelled lines.
  const refs = BASELINE_ORDER.map((p) => ({ p, y: baselineMean(res.baselines, p, { kind: 'fold', n }, (b) => b.metrics.minValLoss) })).filter((x): x is { p: typeof x.p; y: number } => x.y !== undefined);
  for (const { p, y } of refs) {
    const st = BASELINE_STYLE[p];
    (layout.shapes as unknown[]).push({ type: 'line', xref: 'paper', x0: 0, x1: 1, yref: 'y', y0: y, y1: y, line: { color: st.color, dash: st.dash, width: 1.5 } });
    (layout.annotations as unknown[]).push({ text: `${st.label} (${y.toFixed(2)})`, xref: 'paper', x: 0, xanchor: 'left', yref: 'y', y, yanchor: 'bottom', showarrow: false, font: { size: 10, color: st.color } });
  }
  const foot: Footnote[] = [];
  if (refs.length) foot.push({ text: `Coloured lines: validation MSE of the baseline predictors on the same folds and patches (mean over folds, n = ${n}).` });
  if (missing.length) foot.push(missingFootnote(missing));
  if (absent.length) foot.push({ text: `No runs for: ${absent.join(', ')}` });
  addFootnotes(layout, foot, 140);
  // Backbones with no run at all are noted in the figure only: small presets leave most out on purpose.
  return { data: traces, layout, warnings: missing.length ? [`Fig. 3: missing ${missing.join('; ')}`] : [] };
}
