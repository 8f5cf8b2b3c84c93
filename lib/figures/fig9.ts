import type { ProbeResult } from '../probe/result';
import { axisSuffix, baseLayout, COLORS, gridShape, hline, missingFigure, type Figure, type Trace } from './common';

/** Curve colours of Fig. 9 by weights source. */
const CURVE_COLORS: Record<string, string> = { random: '#7f7f7f', pretext: '#D55E00', imagenet: '#0072B2', file: '#CC79A7' };
const CURVE_ORDER = ['random', 'pretext', 'imagenet', 'file'];

/**
 * Fig. 9 (beyond the paper): where quality lives in a backbone. One panel per backbone; per weights
 * source (random init, pretext, ImageNet) the test MAE of a ridge probe on each block output's pooled
 * activations against relative depth, the paper's frozen protocol (Flatten of the last layer,
 * Dense(3)) as a marker at depth 1, and the constant and handcrafted baselines as lines.
 */
export function fig9(probes: readonly ProbeResult[], opts: { perVolume?: boolean } = {}): Figure {
  const unit = opts.perVolume ? 'perVolume' : 'perPatch';
  const title = `Fig. 9. Where quality lives: ridge probes of each block output (test MAE ${opts.perVolume ? 'per volume' : 'per patch'})`;
  if (probes.length === 0) return missingFigure(title, 'No probe results:', ['<results>/probe/*.json'], 'npm run probe -- --backbone MobileNetV2 --weights random,pretext');
  const backbones = [...new Set(probes.map((p) => p.backbone))];
  const { rows, cols } = gridShape(backbones.length, 3);
  const data: Trace[] = [];
  const shapes: unknown[] = [];
  const annotations: unknown[] = [];
  const layout: Record<string, unknown> = {};
  const gap = 0.08;
  const seen = new Set<string>();
  let ymax = 0;
  backbones.forEach((b, i) => {
    const s = axisSuffix(i);
    const r = Math.floor(i / cols);
    const c = i % cols;
    const w = (1 - gap * (cols - 1)) / cols;
    const h = (1 - gap * 1.6 * (rows - 1)) / rows;
    layout[`xaxis${s}`] = { domain: [c * (w + gap), c * (w + gap) + w], anchor: `y${s}`, range: [-0.03, 1.03], title: { text: 'relative depth (layer index / layers)' }, showline: true, linecolor: '#333', gridcolor: '#eee' };
    layout[`yaxis${s}`] = { domain: [1 - (r + 1) * h - r * gap * 1.6, 1 - r * h - r * gap * 1.6], anchor: `x${s}`, title: { text: c === 0 ? 'test MAE' : '' }, rangemode: 'tozero', showline: true, linecolor: '#333', gridcolor: '#e5e5e5' };
    annotations.push({ text: `<b>${b}</b>`, xref: `x${s} domain`, yref: `y${s} domain`, x: 0.5, y: 1.08, showarrow: false, font: { size: 13 } });
    const mine = probes.filter((p) => p.backbone === b).sort((p, q) => CURVE_ORDER.indexOf(p.weightsKind) - CURVE_ORDER.indexOf(q.weightsKind));
    for (const p of mine) {
      const color = CURVE_COLORS[p.weightsKind] ?? COLORS.reference;
      const ys = p.points.map((q) => q.test[unit].overall);
      ymax = Math.max(ymax, ...ys, p.frozenHead.test[unit].overall);
      data.push({
        type: 'scatter',
        mode: 'lines+markers',
        name: p.weightsLabel.replace(/\s*\(seed.*$/, ''),
        legendgroup: p.weightsKind,
        showlegend: !seen.has(p.weightsKind),
        x: p.points.map((q) => q.depth),
        y: ys,
        text: p.points.map((q) => q.name),
        xaxis: `x${s}`,
        yaxis: `y${s}`,
        line: { color, width: 2 },
        marker: { size: 6, color },
        hovertemplate: `${b} ${p.weightsKind}<br>%{text}<br>depth %{x:.2f}<br>MAE %{y:.3f}<extra></extra>`,
      });
      data.push({
        type: 'scatter',
        mode: 'markers',
        name: `paper's protocol (Flatten, Dense(3)), ${p.weightsKind}`,
        legendgroup: `${p.weightsKind}-head`,
        showlegend: !seen.has(p.weightsKind),
        x: [1],
        y: [p.frozenHead.test[unit].overall],
        xaxis: `x${s}`,
        yaxis: `y${s}`,
        marker: { size: 12, symbol: 'star', color, line: { color: '#000', width: 1 } },
        hovertemplate: `${b} ${p.weightsKind}: Flatten ${p.frozenHead.flattenSize} + Dense(3)<br>MAE %{y:.3f}<extra></extra>`,
      });
      seen.add(p.weightsKind);
    }
    const ref = mine[0];
    const constant = ref.baselines.constant[unit].overall;
    const hand = ref.baselines.handcrafted[unit].overall;
    ymax = Math.max(ymax, constant);
    shapes.push(hline(constant, s, COLORS.reference, 'dot'), hline(hand, s, '#009E73', 'dash'));
    annotations.push(
      { text: `constant ${constant.toFixed(2)}`, xref: `x${s} domain`, yref: `y${s}`, x: 0.01, y: constant, xanchor: 'left', yanchor: 'bottom', showarrow: false, font: { size: 10, color: COLORS.reference } },
      { text: `handcrafted ridge ${hand.toFixed(2)}`, xref: `x${s} domain`, yref: `y${s}`, x: 0.01, y: hand, xanchor: 'left', yanchor: 'top', showarrow: false, font: { size: 10, color: '#009E73' } },
    );
  });
  backbones.forEach((_, i) => ((layout[`yaxis${axisSuffix(i)}`] as Record<string, unknown>).range = [0, ymax * 1.1]));
  const p0 = probes[0];
  annotations.push({
    text: `${p0.preset} preset, fold ${p0.fold}, n = ${p0.n}; test patients ${p0.testPatients.join(', ')}; ridge on per-channel spatial mean and std, penalty chosen on validation; star: Flatten of the last layer + Dense(3)`,
    xref: 'paper',
    yref: 'paper',
    x: 0,
    y: -0.26,
    xanchor: 'left',
    showarrow: false,
    font: { size: 10, color: '#555' },
  });
  return {
    data,
    layout: { ...baseLayout(title), width: Math.max(900, 380 * cols), height: 200 + 330 * rows, margin: { l: 70, r: 30, t: 90, b: 130 }, legend: { orientation: 'h', x: 0, y: 1.06, yanchor: 'bottom' }, shapes, annotations, ...layout },
    warnings: [],
  };
}
