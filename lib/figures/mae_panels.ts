import { addFootnotes, axisSuffix, baseLayout, COLORS, gridShape, hline, LABEL_NOISE_MAE, missingFigure, missingFootnote, type Figure, type Footnote, type Trace } from './common';
import { absentBackbones, backbonesOf, describeRun, failedBackbones, findRun, orderByParams, randomLabelMAE, studyPlan, trainableParams, type StudyResults } from './results';
import { thousands } from './common';

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
  const { rows, cols } = gridShape(backbones.length);
  const traces: Trace[] = [];
  const shapes: unknown[] = [];
  const annotations: unknown[] = [];
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
    shapes.push(hline(randomMAE, s), hline(LABEL_NOISE_MAE, s, COLORS.reference, 'dot'));
    const params = trainableParams(res.runs, b, regime);
    annotations.push({
      text: `<b>${b}</b>${params !== undefined ? ` (${thousands(params)})` : ''}${isFailed ? ' failed' : ''}`,
      xref: `x${s} domain`,
      yref: `y${s} domain`,
      x: 0.5,
      y: 1,
      xanchor: 'center',
      yanchor: 'bottom',
      showarrow: false,
      font: { size: 10, color: isFailed ? '#888' : '#111' },
    });
  });
  if (traces.every((t) => (t.y as number[]).length === 0)) {
    return missingFigure(title, `No ${regime} fold runs:`, missing.length ? missing : [`${regime} fold runs`], 'npm run reproduce');
  }
  const layout: Record<string, unknown> = {
    ...baseLayout(title),
    width: 220 * cols + 100,
    height: 190 * rows + 150,
    margin: { l: 70, r: 20, t: 80, b: 90 },
    grid: { rows, columns: cols, pattern: 'independent', xgap: 0.12, ygap: 0.32 },
    shapes,
  };
  const yLabel = which === 'trainMAE' ? 'Training MAE' : 'Test MAE';
  backbones.forEach((_, i) => {
    const s = axisSuffix(i);
    layout[`xaxis${s}`] = { categoryorder: 'array', categoryarray: plan.sizes.map((n) => `n=${n}`), showline: true, linecolor: '#333', tickfont: { size: 10 } };
    layout[`yaxis${s}`] = {
      range: [0, Math.ceil((ymax + 0.1) * 5) / 5],
      showline: true,
      linecolor: '#333',
      gridcolor: '#eeeeee',
      tickfont: { size: 10 },
      title: i % cols === 0 ? { text: yLabel, font: { size: 11 } } : undefined,
    };
  });
  const absent = absentBackbones(res.runs);
  layout.annotations = annotations;
  const foot: Footnote[] = [
    { text: `Dashed: random-label MAE (${randomMAE.toFixed(2)}); dotted: label noise (0.5). Panel titles: backbone (trainable parameters). Grey: failed to train.` },
  ];
  if (missing.length) foot.push(missingFootnote(missing));
  if (absent.length) foot.push({ text: `No runs for: ${absent.join(', ')}` });
  addFootnotes(layout, foot, 40);
  // Backbones with no run at all are noted in the figure only: small presets leave most out on purpose.
  return { data: traces, layout, warnings: missing.length ? [`${title}: missing ${missing.join('; ')}`] : [] };
}
