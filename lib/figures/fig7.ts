import { axisSuffix, COLORS, mean, missingFigure, PAPER_RANDOM_LABEL_MAE, panelGridLayout, thousands, type Figure, type Trace } from './common';
import { BASELINE_ORDER, BASELINE_STYLE, baselineMean, recordMAE, maeTitle, type ErrorUnit } from './reference';
import { absentBackbones, backbonesOf, describeRun, findRun, orderByParams, randomLabelMAE, studyPlan, trainableParams, type StudyResults } from './results';

/**
 * Fig. 7: test MAE vs n for the repeated runs ("ensemble") of each backbone on one fold: each
 * repeat in its own colour, their mean as a solid black line, dashed random-label and 0.5 lines.
 */
export function fig7(res: Pick<StudyResults, 'runs' | 'design' | 'baselines'>, opts: { backbones?: string[]; unit?: ErrorUnit } = {}): Figure {
  const unit = opts.unit ?? 'patch';
  const title = `Fig. 7. ${maeTitle('test', unit)} vs n, repeated runs on one fold (frozen)`;
  const plan = studyPlan(res);
  const ens = res.runs.filter((r) => r.kind === 'ensemble' && r.regime === 'frozen');
  const backbones = orderByParams(res.runs, backbonesOf(ens, opts.backbones));
  const { fold, repeats, sizes } = plan.ensemble;
  const missing: string[] = [];
  const traces: Trace[] = [];
  const randomMAE = randomLabelMAE(res.runs);
  let ymax = randomMAE;
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
        ymax = Math.max(ymax, recordMAE(r, 'test', unit));
        return recordMAE(r, 'test', unit);
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
    for (const predictor of BASELINE_ORDER) {
      const ys = sizes.map((n) => baselineMean(res.baselines, predictor, { kind: 'ensemble', n, fold }, (b) => recordMAE(b, 'test', unit)) ?? null);
      if (ys.every((y) => y === null)) continue;
      ymax = Math.max(ymax, ...ys.filter((y): y is number => y !== null));
      const st = BASELINE_STYLE[predictor];
      traces.push({
        type: 'scatter', mode: 'lines', name: st.label, legendgroup: predictor, showlegend: i === 0,
        x: sizes, y: ys, xaxis: `x${s}`, yaxis: `y${s}`, line: { color: st.color, dash: st.dash, width: 1.5 },
      });
    }
  });
  if (ens.length === 0 || traces.length === 0) {
    return missingFigure(title, 'No ensemble runs (kind "ensemble"):', missing.length ? missing : [`frozen ensemble runs on fold ${fold}, ${repeats} repeats, n = ${sizes.join(', ') || '?'}`], 'npm run reproduce');
  }
  const layout = panelGridLayout({
    title,
    panels: backbones.map((b) => {
      const params = trainableParams(res.runs, b, 'frozen');
      return { text: `<b>${b}</b>${params !== undefined ? ` (${thousands(params)})` : ''}` };
    }),
    randomMAE,
    ymax,
    yTitle: maeTitle('test', unit),
    xaxis: (i, { rows, cols }) => ({ tickvals: sizes, showline: true, linecolor: '#333', tickfont: { size: 10 }, title: i >= (rows - 1) * cols ? { text: 'n', font: { size: 11 } } : undefined }),
    extraWidth: res.baselines?.length ? 260 : 180,
    extraHeight: 170,
    margin: { l: 70, r: res.baselines?.length ? 210 : 130, t: 80, b: 110 },
    legend: { x: 1.01, xanchor: 'left', y: 1, font: { size: 11 } },
    note: `Fold ${fold}, ${repeats} repeats. Dashed: random-label MAE (${randomMAE.toFixed(2)}; paper ${PAPER_RANDOM_LABEL_MAE}); dotted: label noise (0.5). Panel titles: backbone (trainable parameters).${res.baselines?.length ? ' Coloured lines: baseline predictors on the same fold and patches.' : ''}`,
    missing,
    absent: absentBackbones(res.runs),
    footnoteOffset: 58,
  });
  return { data: traces, layout, warnings: missing.length ? [`Fig. 7: missing ${missing.join('; ')}`] : [] };
}
