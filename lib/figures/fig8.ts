import { addFootnotes, baseLayout, COLORS, LABEL_NOISE_MAE, mean, missingFigure, missingFootnote, thousands, type Figure } from './common';
import { BASELINE_ORDER, BASELINE_STYLE, baselineMean, recordMAE, maeTitle, type ErrorUnit } from './reference';
import { backbonesOf, describeRun, findRun, studyPlan, type StudyResults } from './results';

/**
 * Fig. 8: test MAE per backbone, frozen (dark) vs first-60 %-frozen (light) bars, with the
 * partial regime's trainable parameters as a line on a second (log) axis. The frozen bar is the
 * frozen run on the partial run's fold and n (the same data), else the mean over folds at that n.
 */
export function fig8(res: Pick<StudyResults, 'runs' | 'design' | 'baselines'>, opts: { backbones?: string[]; unit?: ErrorUnit } = {}): Figure {
  const unit = opts.unit ?? 'patch';
  const title = 'Fig. 8. Test MAE, frozen vs partly unfrozen (first 60 % of layers frozen)';
  const plan = studyPlan(res);
  const partialRuns = res.runs.filter((r) => r.regime === 'partial');
  const backbones = backbonesOf(res.runs, opts.backbones);
  const n = partialRuns[0]?.n ?? Math.max(...plan.sizes);
  const missing: string[] = [];
  const frozenY: Array<number | null> = [];
  const partialY: Array<number | null> = [];
  const paramsY: Array<number | null> = [];
  for (const b of backbones) {
    const p = partialRuns.find((r) => r.backbone === b && r.n === n);
    if (!p) missing.push(describeRun({ backbone: b, regime: 'partial', kind: 'fold', n }));
    const fold = p?.fold ?? plan.ensemble.fold;
    const f = findRun(res.runs, { backbone: b, regime: 'frozen', kind: 'fold', fold, n });
    const fAll = res.runs.filter((r) => r.backbone === b && r.regime === 'frozen' && r.kind === 'fold' && r.n === n);
    if (!f && fAll.length === 0) missing.push(describeRun({ backbone: b, regime: 'frozen', kind: 'fold', fold, n }));
    frozenY.push(f ? recordMAE(f, 'test', unit) : fAll.length ? mean(fAll.map((r) => recordMAE(r, 'test', unit))) : null);
    partialY.push(p ? recordMAE(p, 'test', unit) : null);
    paramsY.push(p ? p.trainableParams : null);
  }
  if (partialRuns.length === 0) {
    return missingFigure(title, 'No partial-regime runs:', missing.filter((m) => m.startsWith('partial')), 'npm run reproduce (the partial regime runs one fold at the largest n)');
  }
  // The label-noise line is labelled on the left: the baselines' labels sit on the right.
  const annotations: unknown[] = [
    { text: `label noise (${LABEL_NOISE_MAE.toFixed(2)})`, xref: 'paper', x: 0, xanchor: 'left', yref: 'y', y: LABEL_NOISE_MAE, yanchor: 'top', showarrow: false, bgcolor: 'rgba(255,255,255,0.85)', font: { size: 10, color: COLORS.reference } },
  ];
  // Baselines on the partial run's fold and n (the same patients and patches): labelled lines across the bars.
  const partialFold = partialRuns[0]?.fold ?? plan.ensemble.fold;
  const refShapes: unknown[] = [];
  for (const predictor of BASELINE_ORDER) {
    const y = baselineMean(res.baselines, predictor, { kind: 'fold', n, fold: partialFold }, (b) => recordMAE(b, 'test', unit));
    if (y === undefined) continue;
    const st = BASELINE_STYLE[predictor];
    refShapes.push({ type: 'line', xref: 'paper', x0: 0, x1: 1, yref: 'y', y0: y, y1: y, line: { color: st.color, dash: st.dash, width: 1.5 } });
    annotations.push({ text: `${st.label} (${y.toFixed(2)})`, xref: 'paper', x: 1, xanchor: 'right', yref: 'y', y, yanchor: 'bottom', showarrow: false, font: { size: 10, color: st.color } });
  }
  const fig: Figure = {
    data: [
      { type: 'bar', name: 'frozen', x: backbones, y: frozenY, marker: { color: COLORS.frozen }, offsetgroup: 'frozen', hovertemplate: '%{x}<br>frozen MAE %{y:.3f}<extra></extra>' },
      { type: 'bar', name: 'first 60 % frozen', x: backbones, y: partialY, marker: { color: COLORS.partial }, offsetgroup: 'partial', hovertemplate: '%{x}<br>partial MAE %{y:.3f}<extra></extra>' },
      { type: 'scatter', mode: 'lines+markers', name: 'trainable parameters (60 % frozen)', x: backbones, y: paramsY, yaxis: 'y2', line: { color: COLORS.params, width: 2, dash: 'dash' }, marker: { size: 6 }, connectgaps: true, hovertemplate: '%{x}<br>%{y:,} trainable<extra></extra>' },
    ],
    layout: {
      ...baseLayout(title),
      width: 1050,
      height: 560,
      barmode: 'group',
      margin: { l: 70, r: 90, t: 70, b: 150 },
      xaxis: { tickangle: -45, showline: true, linecolor: '#333', categoryorder: 'array', categoryarray: backbones },
      yaxis: { title: { text: `${maeTitle('test', unit)} (n = ${n})` }, rangemode: 'tozero', showline: true, linecolor: '#333', gridcolor: '#e5e5e5' },
      yaxis2: { title: { text: 'Trainable parameters (60 % frozen)', font: { color: COLORS.params } }, type: 'log', overlaying: 'y', side: 'right', showgrid: false, tickfont: { color: COLORS.params }, ...logTicks(paramsY) },
      legend: { orientation: 'h', x: 0, y: 1.02, yanchor: 'bottom' },
      shapes: [{ type: 'line', xref: 'paper', x0: 0, x1: 1, yref: 'y', y0: LABEL_NOISE_MAE, y1: LABEL_NOISE_MAE, line: { color: COLORS.reference, dash: 'dot', width: 1.2 } }, ...refShapes],
      annotations,
    },
    warnings: missing.length ? [`Fig. 8: missing ${missing.join('; ')}`] : [],
  };
  if (missing.length) addFootnotes(fig.layout, [missingFootnote(missing)], 140);
  return fig;
}

/** Explicit 1-2-5 ticks with readable labels ("20k", "3M") for a log axis, whatever its span. */
function logTicks(values: Array<number | null>): Record<string, unknown> {
  const v = values.filter((x): x is number => x !== null && x > 0);
  if (v.length === 0) return {};
  const lo = Math.log10(Math.min(...v)) - 0.3;
  const hi = Math.log10(Math.max(...v)) + 0.3;
  const ticks: number[] = [];
  for (let e = Math.floor(lo); e <= Math.ceil(hi); e++) for (const m of [1, 2, 5]) {
    const t = m * 10 ** e;
    if (Math.log10(t) >= lo && Math.log10(t) <= hi) ticks.push(t);
  }
  const label = (t: number) => (t >= 1e6 ? `${t / 1e6}M` : t >= 1e3 ? `${t / 1e3}k` : thousands(t));
  return { range: [lo, hi], tickvals: ticks, ticktext: ticks.map(label) };
}
