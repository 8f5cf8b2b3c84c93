import { METRICS } from '../types';
import { addFootnotes, baseLayout, COLORS, mean, missingFigure, missingFootnote, std, type Figure, type Trace } from './common';
import { backbonesOf, describeRun, failedBackbones, findRun, studyPlan, type StudyResults } from './results';

/**
 * Fig. 6: coefficient of variation of the test predictions per metric, averaged over the
 * backbones that trained (failed ones left out: their CoV of ~0 says "constant output"), vs n.
 * Each backbone is first averaged over its folds, so every backbone weighs the same;
 * error bars are the standard deviation over backbones.
 */
export function fig6(res: Pick<StudyResults, 'runs' | 'design'>, opts: { backbones?: string[] } = {}): Figure {
  const title = 'Fig. 6. CoV of predictions per metric vs training-set size (frozen)';
  const plan = studyPlan(res);
  const runs = res.runs.filter((r) => r.regime === 'frozen' && r.kind === 'fold');
  const failed = failedBackbones(res.runs);
  const kept = backbonesOf(runs, opts.backbones).filter((b) => !failed.has(b));
  const missing: string[] = [];
  const traces: Trace[] = [];
  const perN = new Map<number, Map<string, number[]>>(); // n -> metric -> per-backbone means
  for (const n of plan.sizes) {
    const byMetric = new Map<string, number[]>(METRICS.map((m) => [m, []]));
    for (const b of kept) {
      const rs = plan.folds.map((fold) => {
        const r = findRun(runs, { backbone: b, regime: 'frozen', kind: 'fold', fold, n });
        if (!r) missing.push(describeRun({ backbone: b, regime: 'frozen', kind: 'fold', fold, n }));
        return r;
      }).filter((r) => r !== undefined);
      if (rs.length === 0) continue;
      for (const m of METRICS) byMetric.get(m)!.push(mean(rs.map((r) => r!.metrics.testCoV[m])));
    }
    perN.set(n, byMetric);
  }
  const sizes = plan.sizes.filter((n) => (perN.get(n)?.get('GQR')?.length ?? 0) > 0);
  if (sizes.length === 0) {
    if (failed.size && kept.length === 0) {
      return missingFigure(title, 'Every backbone with runs failed to train (CoV is drawn for backbones that trained only):', [...failed], 'more epochs or patients, or another preset');
    }
    return missingFigure(title, 'No frozen fold runs of backbones that trained:', missing.length ? missing : ['no frozen fold runs'], 'npm run reproduce');
  }
  for (const m of METRICS) {
    const vals = sizes.map((n) => perN.get(n)!.get(m)!);
    traces.push({
      type: 'scatter',
      mode: 'lines+markers',
      name: m,
      x: sizes,
      y: vals.map(mean),
      error_y: { type: 'data', array: vals.map(std), visible: true, thickness: 1, width: 4 },
      line: { color: COLORS.metric[m], width: 2 },
      marker: { color: COLORS.metric[m], size: 8 },
      hovertemplate: `${m} n=%{x}<br>CoV %{y:.3f}<extra></extra>`,
    });
  }
  const fig: Figure = {
    data: traces,
    layout: {
      ...baseLayout(title),
      width: 760,
      height: 500,
      margin: { l: 70, r: 30, t: 90, b: 80 },
      xaxis: { title: { text: 'Training patients n' }, tickvals: sizes, showline: true, linecolor: '#333', zeroline: false },
      yaxis: { title: { text: 'CoV of predictions (std / mean)' }, rangemode: 'tozero', showline: true, linecolor: '#333', gridcolor: '#e5e5e5' },
      legend: { orientation: 'h', x: 1, xanchor: 'right', y: 1.02, yanchor: 'bottom' },
    },
    warnings: missing.length ? [`Fig. 6: missing ${missing.join('; ')}`] : [],
  };
  addFootnotes(
    fig.layout,
    [
      { text: `Mean over ${kept.length} backbones that trained${failed.size ? ` (left out as failed: ${[...failed].join(', ')})` : ''}; error bars: SD over backbones.` },
      ...(missing.length ? [missingFootnote(missing)] : []),
    ],
    70,
  );
  return fig;
}
