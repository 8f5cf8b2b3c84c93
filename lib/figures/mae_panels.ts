import { axisSuffix, COLORS, LABEL_NOISE_MAE, missingFigure, PAPER_RANDOM_LABEL_MAE, panelGridLayout, thousands, type Figure, type Trace } from './common';
import { BASELINE_ORDER, BASELINE_STYLE, baselineMean, recordMAE, maeTitle, type ErrorUnit } from './reference';
import { absentBackbones, backbonesOf, describeRun, failedBackbones, findRun, orderByParams, randomLabelMAE, studyPlan, trainableParams, type StudyResults } from './results';

/**
 * Figs. 4 and 5: one panel per backbone (ordered by trainable parameters, fewest top-left), a box
 * per training-set size over the folds, dashed lines at the random-label MAE and at 0.5.
 */
export function maePanels(
  res: Pick<StudyResults, 'runs' | 'design' | 'baselines'>,
  which: 'train' | 'test',
  title: string,
  opts: { backbones?: string[]; regime?: 'frozen' | 'partial'; unit?: ErrorUnit } = {},
): Figure {
  const regime = opts.regime ?? 'frozen';
  const unit = opts.unit ?? 'patch';
  const plan = studyPlan(res);
  const runs = res.runs.filter((r) => r.regime === regime && r.kind === 'fold');
  const backbones = orderByParams(res.runs, backbonesOf(runs, opts.backbones), regime);
  const failed = failedBackbones(res.runs, regime);
  const randomMAE = randomLabelMAE(res.runs);
  const missing: string[] = [];
  const traces: Trace[] = [];
  let ymax = Math.max(randomMAE, LABEL_NOISE_MAE);
  backbones.forEach((b, i) => {
    const s = axisSuffix(i);
    const xs: string[] = [];
    const ys: number[] = [];
    for (const n of plan.sizes) {
      for (const fold of plan.folds) {
        const r = findRun(runs, { backbone: b, regime, kind: 'fold', fold, n });
        if (!r) {
          missing.push(describeRun({ backbone: b, regime, kind: 'fold', fold, n }));
          continue;
        }
        xs.push(`n=${n}`);
        ys.push(recordMAE(r, which, unit));
        ymax = Math.max(ymax, recordMAE(r, which, unit));
      }
    }
    const isFailed = failed.has(b);
    const color = isFailed ? COLORS.failed : COLORS.ok;
    traces.push({
      type: 'box',
      name: b,
      x: xs,
      y: ys,
      xaxis: `x${s}`,
      yaxis: `y${s}`,
      marker: { color, size: 3 },
      line: { color, width: 1.2 },
      fillcolor: isFailed ? 'rgba(176,176,176,0.35)' : 'rgba(31,119,180,0.25)',
      boxpoints: 'all',
      pointpos: 0,
      jitter: 0.3,
      showlegend: false,
      hovertemplate: `${b} %{x}<br>MAE %{y:.3f}<extra></extra>`,
    });
  });
  // The baselines on the same folds: mean over folds per n, one line per predictor in every panel.
  const drawn = new Set<string>();
  backbones.forEach((_, i) => {
    const s = axisSuffix(i);
    for (const predictor of BASELINE_ORDER) {
      const ys = plan.sizes.map((n) => baselineMean(res.baselines, predictor, { kind: 'fold', n }, (b) => recordMAE(b, which, unit)) ?? null);
      if (ys.every((y) => y === null)) continue;
      ymax = Math.max(ymax, ...ys.filter((y): y is number => y !== null));
      const st = BASELINE_STYLE[predictor];
      traces.push({
        type: 'scatter', mode: 'lines+markers', name: st.label, legendgroup: predictor, showlegend: !drawn.has(predictor),
        x: plan.sizes.map((n) => `n=${n}`), y: ys, xaxis: `x${s}`, yaxis: `y${s}`,
        line: { color: st.color, dash: st.dash, width: 1.5 }, marker: { color: st.color, size: 4, symbol: 'diamond' },
        hovertemplate: `${st.label} %{x}<br>MAE %{y:.3f} (mean over folds)<extra></extra>`,
      });
      drawn.add(predictor);
    }
  });
  if (traces.every((t) => t.type !== 'box' || (t.y as number[]).length === 0)) {
    return missingFigure(title, `No ${regime} fold runs:`, missing.length ? missing : [`${regime} fold runs`], 'npm run reproduce');
  }
  const layout = panelGridLayout({
    title,
    panels: backbones.map((b) => {
      const params = trainableParams(res.runs, b, regime);
      const isFailed = failed.has(b);
      return { text: `<b>${b}</b>${params !== undefined ? ` (${thousands(params)})` : ''}${isFailed ? ' failed' : ''}`, color: isFailed ? '#888' : '#111' };
    }),
    randomMAE,
    ymax,
    yTitle: maeTitle(which, unit),
    xaxis: () => ({ categoryorder: 'array', categoryarray: plan.sizes.map((n) => `n=${n}`), showline: true, linecolor: '#333', tickfont: { size: 10 } }),
    extraWidth: drawn.size ? 260 : 100,
    extraHeight: 150,
    margin: { l: 70, r: drawn.size ? 200 : 20, t: 80, b: 90 },
    ...(drawn.size ? { legend: { x: 1.01, xanchor: 'left', y: 1, font: { size: 10 } } } : {}),
    note:
      `Dashed: random-label MAE (${randomMAE.toFixed(2)}; paper ${PAPER_RANDOM_LABEL_MAE}); dotted: label noise (0.5). Panel titles: backbone (trainable parameters). Grey: failed to train.` +
      (drawn.size ? ' Coloured lines: baseline predictors on the same folds and patches (mean over folds), the same in every panel.' : ''),
    missing,
    absent: absentBackbones(res.runs),
    footnoteOffset: 40,
  });
  // Backbones with no run at all are noted in the figure only: small presets leave most out on purpose.
  return { data: traces, layout, warnings: missing.length ? [`${title}: missing ${missing.join('; ')}`] : [] };
}
