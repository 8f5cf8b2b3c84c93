import { baseLayout, thousands, type Figure } from './common';

/**
 * Fig. 2: the model as a schematic drawn with plotly shapes and annotations (vector, editable):
 * 2-D patch -> ImageNet backbone (include_top=False) -> latent feature maps -> Flatten -> Dense(3)
 * -> GQR, PR, DC. The example sizes default to VGG16 at 80 x 80 (2 x 2 x 512 -> 2,048 -> 6,147).
 */
export function fig2(opts: { patchSize?: number; backbone?: string; latent?: [number, number, number] } = {}): Figure {
  const size = opts.patchSize ?? 80;
  const backbone = opts.backbone ?? 'VGG16';
  const [h, w, c] = opts.latent ?? [2, 2, 512];
  const flat = h * w * c;
  const shapes: unknown[] = [];
  const ann: unknown[] = [];
  const rect = (x0: number, y0: number, x1: number, y1: number, fill: string, line = '#333') =>
    shapes.push({ type: 'rect', x0, y0, x1, y1, xref: 'x', yref: 'y', fillcolor: fill, line: { color: line, width: 1.2 } });
  const label = (x: number, y: number, text: string, size = 12, color = '#111') =>
    ann.push({ x, y, xref: 'x', yref: 'y', text, showarrow: false, font: { size, color }, align: 'center' });
  const arrow = (x0: number, x1: number, y = 5) =>
    ann.push({ x: x1, y, ax: x0, ay: y, xref: 'x', yref: 'y', axref: 'x', ayref: 'y', text: '', showarrow: true, arrowhead: 2, arrowsize: 1.2, arrowwidth: 1.5, arrowcolor: '#333' });

  // Patch: a 6 x 6 grid of greys (a fixed pattern, stands for a PET patch), stacked 3 times (RGB).
  for (let k = 2; k >= 0; k--) rect(0.4 + k * 0.25, 3.2 + k * 0.25, 2.4 + k * 0.25, 5.2 + k * 0.25, '#ffffff', '#999');
  for (let i = 0; i < 6; i++) {
    for (let j = 0; j < 6; j++) {
      const v = Math.round(60 + 150 * Math.exp(-((i - 2.5) ** 2 + (j - 2.8) ** 2) / 6) + 20 * ((i * 7 + j * 3) % 3));
      const g = Math.min(255, v);
      shapes.push({ type: 'rect', x0: 0.4 + j / 3, x1: 0.4 + (j + 1) / 3, y0: 3.2 + i / 3, y1: 3.2 + (i + 1) / 3, xref: 'x', yref: 'y', fillcolor: `rgb(${g},${g},${g})`, line: { width: 0 } });
    }
  }
  label(1.6, 2.5, `Patch<br>${size} x ${size} x 3<br>(grey on 3 channels)`, 11);
  arrow(3.0, 3.8);

  // Backbone: a trapezoid narrowing to the right, as CNNs shrink the image and grow channels.
  shapes.push({ type: 'path', path: 'M 3.9 2.4 L 7.1 3.6 L 7.1 6.4 L 3.9 7.6 Z', xref: 'x', yref: 'y', fillcolor: '#cfe0f5', line: { color: '#1f3b73', width: 1.5 } });
  label(5.5, 5.3, `<b>Backbone</b><br>${backbone}`, 13);
  label(5.5, 4.3, 'ImageNet weights<br>include_top = False', 10, '#333');
  arrow(7.2, 8.0);

  // Latent features: a stack of small feature maps.
  for (let k = 4; k >= 0; k--) rect(8.2 + k * 0.18, 4.2 + k * 0.18, 9.0 + k * 0.18, 5.0 + k * 0.18, k === 0 ? '#f6d7a7' : '#fbe9cc', '#a0702a');
  label(8.95, 3.3, `Latent features<br>${h} x ${w} x ${c}`, 11);
  arrow(9.9, 10.6);

  // Flatten: one tall thin bar.
  rect(10.8, 2.6, 11.2, 7.4, '#e8e8e8');
  label(11.0, 2.1, `Flatten<br>${thousands(flat)}`, 11);
  arrow(11.3, 12.1);

  // Dense(3): three neurons, each giving one score.
  const names = ['GQR', 'PR', 'DC'];
  names.forEach((m, i) => {
    const y = 6.3 - i * 1.3;
    shapes.push({ type: 'circle', x0: 12.3, x1: 12.9, y0: y - 0.3, y1: y + 0.3, xref: 'x', yref: 'y', fillcolor: '#d9f0d3', line: { color: '#2d6a2d', width: 1.2 } });
    ann.push({ x: 14.0, y, ax: 12.95, ay: y, xref: 'x', yref: 'y', axref: 'x', ayref: 'y', text: '', showarrow: true, arrowhead: 2, arrowwidth: 1.2, arrowcolor: '#2d6a2d' });
    label(14.5, y, `<b>${m}</b>`, 12);
  });
  label(12.6, 2.1, `Dense(3), linear<br>${thousands(flat * 3 + 3)} parameters`, 11);
  label(7.5, 8.4, 'Frozen regime: only Dense(3) trains.  Partial regime: the last 40 % of backbone layers train too.', 11, '#444');

  return {
    data: [],
    layout: {
      ...baseLayout('Fig. 2. Model: patch -> backbone -> latent features -> Flatten -> Dense(3)'),
      width: 1000,
      height: 430,
      margin: { l: 10, r: 10, t: 60, b: 10 },
      xaxis: { range: [0, 15.2], visible: false, fixedrange: true },
      yaxis: { range: [1.4, 8.9], visible: false, fixedrange: true, scaleanchor: 'x', scaleratio: 1 },
      shapes,
      annotations: ann,
      showlegend: false,
    },
    warnings: [],
  };
}
