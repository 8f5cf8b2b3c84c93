import { addFootnotes, axisSuffix, baseLayout, COLORS, gridShape, hline, LABEL_NOISE_MAE, mean, missingFigure, missingFootnote, type Figure, type Footnote, type Trace } from './common';
import { absentBackbones, backbonesOf, describeRun, findRun, orderByParams, randomLabelMAE, studyPlan, type StudyResults } from './results';

/**
 * Fig. 7: test MAE vs n for the repeated runs ("ensemble") of each backbone on one fold: each
 * repeat in its own colour, their mean as a solid black line, dashed random-label and 0.5 lines.
 */
export function fig7(res: Pick<StudyResults, 'runs' | 'design'>, opts: { backbones?: string[] } = {}): Figure {
  const title = 'Fig. 7. Test MAE vs n, repeated runs on one fold (frozen)';
  const plan = studyPlan(res);
  const ens = res.runs.filter((r) => r.kind === 'ensemble' && r.regime === 'frozen');
  const backbones = orderByParams(res.runs, backbonesOf(ens, opts.backbones));
  const { fold, repeats, sizes } = plan.ensemble;
  const missing: string[] = [];
  const traces: Trace[] = [];
  const shapes: unknown[] = [];
  const annotations: unknown[] = [];
  const randomMAE = randomLabelMAE(res.runs);
  let ymax = randomMAE;
  const { rows, cols } = gridShape(Math.max(1, backbones.length));
  backbones.forEach((b, i) => {
    const s = axisSuffix(i);
    const perRepeat: Array<Array<number | null>> = [];
    for (let rep = 0; rep < repeats; rep++) {
      const ys = sizes.map((n) => {
        const r = findRun(ens, { backbone: b, regime: 'frozen', kind: 'ensemble', fold, n, repeat: rep });
        if (!r) {
          missing.push(describeRun({ backbone: b, regime: 'frozen', kind: 'ensemble', fold, n, repeat: rep }));
          return null;
        }
        ymax = Math.max(ymax, r.metrics.testMAE.overall);
        return r.metrics.testMAE.overall;
      });
      perRepeat.push(ys);
      traces.push({
        type: 'scatter', mode: 'lines+markers', name: `run ${rep + 1}`, legendgroup: `rep${rep}`, showlegend: i === 0,
        x: sizes, y: ys, xaxis: `x${s}`, yaxis: `y${s}`,
        line: { color: COLORS.repeats[rep % COLORS.repeats.length], width: 1 }, marker: { size: 4 },
      });
    }
    const means = sizes.map((_, k) => {
      const v = perRepeat.map((ys) => ys[k]).filter((y): y is number => y !== null);
      return v.length ? mean(v) : null;
    });
    traces.push({
      type: 'scatter', mode: 'lines', name: 'mean', legendgroup: 'mean', showlegend: i === 0,
      x: sizes, y: means, xaxis: `x${s}`, yaxis: `y${s}`, line: { color: 'black', width: 2.5 },
    });
    shapes.push(hline(randomMAE, s), hline(LABEL_NOISE_MAE, s, COLORS.reference, 'dot'));
    annotations.push({ text: `<b>${b}</b>`, xref: `x${s} domain`, yref: `y${s} domain`, x: 0.5, y: 1, xanchor: 'center', yanchor: 'bottom', showarrow: false, font: { size: 10 } });
  });
  if (ens.length === 0 || traces.length === 0) {
    return missingFigure(title, 'No ensemble runs (kind "ensemble"):', missing.length ? missing : [`frozen ensemble runs on fold ${fold}, ${repeats} repeats, n = ${sizes.join(', ') || '?'}`], 'npm run reproduce');
  }
  const layout: Record<string, unknown> = {
    ...baseLayout(title),
    width: 220 * cols + 180,
    height: 190 * rows + 170,
    margin: { l: 70, r: 130, t: 80, b: 110 },
    grid: { rows, columns: cols, pattern: 'independent', xgap: 0.12, ygap: 0.32 },
    legend: { x: 1.01, xanchor: 'left', y: 1, font: { size: 11 } },
    shapes,
  };
  backbones.forEach((_, i) => {
    const s = axisSuffix(i);
    layout[`xaxis${s}`] = { tickvals: sizes, showline: true, linecolor: '#333', tickfont: { size: 10 }, title: i >= (rows - 1) * cols ? { text: 'n', font: { size: 11 } } : undefined };
    layout[`yaxis${s}`] = { range: [0, Math.ceil((ymax + 0.1) * 5) / 5], showline: true, linecolor: '#333', gridcolor: '#eeeeee', tickfont: { size: 10 }, title: i % cols === 0 ? { text: 'Test MAE', font: { size: 11 } } : undefined };
  });
  const absent = absentBackbones(res.runs);
  layout.annotations = annotations;
  const foot: Footnote[] = [{ text: `Fold ${fold}, ${repeats} repeats. Dashed: random-label MAE (${randomMAE.toFixed(2)}); dotted: label noise (0.5).` }];
  if (missing.length) foot.push(missingFootnote(missing));
  if (absent.length) foot.push({ text: `No runs for: ${absent.join(', ')}` });
  addFootnotes(layout, foot, 58);
  return { data: traces, layout, warnings: missing.length ? [`Fig. 7: missing ${missing.join('; ')}`] : [] };
}
