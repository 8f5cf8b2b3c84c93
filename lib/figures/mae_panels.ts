import { axisSuffix, COLORS, LABEL_NOISE_MAE, missingFigure, PAPER_RANDOM_LABEL_MAE, panelGridLayout, thousands, type Figure, type Trace } from './common';
import { absentBackbones, backbonesOf, describeRun, failedBackbones, findRun, orderByParams, randomLabelMAE, studyPlan, trainableParams, type StudyResults } from './results';

/**
 * Figs. 4 and 5: one panel per backbone (ordered by trainable parameters, fewest top-left), a box
 * per training-set size over the folds, dashed lines at the random-label MAE and at 0.5.
 */
export function maePanels(
  res: Pick<StudyResults, 'runs' | 'design'>,
  which: 'trainMAE' | 'testMAE',
  title: string,
  opts: { backbones?: string[]; regime?: 'frozen' | 'partial' } = {},
): Figure {
  const regime = opts.regime ?? 'frozen';
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
        ys.push(r.metrics[which].overall);
        ymax = Math.max(ymax, r.metrics[which].overall);
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
  if (traces.every((t) => (t.y as number[]).length === 0)) {
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
    yTitle: which === 'trainMAE' ? 'Training MAE' : 'Test MAE',
    xaxis: () => ({ categoryorder: 'array', categoryarray: plan.sizes.map((n) => `n=${n}`), showline: true, linecolor: '#333', tickfont: { size: 10 } }),
    extraWidth: 100,
    extraHeight: 150,
    margin: { l: 70, r: 20, t: 80, b: 90 },
    note: `Dashed: random-label MAE (${randomMAE.toFixed(2)}; paper ${PAPER_RANDOM_LABEL_MAE}); dotted: label noise (0.5). Panel titles: backbone (trainable parameters). Grey: failed to train.`,
    missing,
    absent: absentBackbones(res.runs),
    footnoteOffset: 40,
  });
  // Backbones with no run at all are noted in the figure only: small presets leave most out on purpose.
  return { data: traces, layout, warnings: missing.length ? [`${title}: missing ${missing.join('; ')}`] : [] };
}
