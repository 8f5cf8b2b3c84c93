/**
 * Figures for the teaching notebooks (not items of the paper): a row of images (phantom, sinogram,
 * OSEM iterates), a line chart (noise against counts), a training curve with the kept epoch marked;
 * and a live display that a notebook cell updates while it computes.
 */
import { axisSuffix, baseLayout, COLORS, plotlyJson, type Figure, type Trace } from './common';
import { describeFigure, displayBundle, tslabDisplayWriter } from './show';

/** One image of an imageRow: row-major `height x width` values. */
export interface ImagePanel {
  title: string;
  data: ArrayLike<number>;
  width: number;
  height: number;
}

/**
 * Images side by side, on one shared colour scale unless `ownScales` (a sinogram next to an image
 * needs its own). Row 0 is drawn at the top.
 */
export function imageRow(panels: ImagePanel[], opts: { title: string; colorbarTitle?: string; ownScales?: boolean; colorscale?: string; panelPx?: number } = { title: '' }): Figure {
  if (panels.length === 0) throw new Error('imageRow: no panels');
  const px = opts.panelPx ?? 220;
  const cols = panels.length;
  let lo = Infinity;
  let hi = -Infinity;
  for (const p of panels) {
    if (p.data.length !== p.width * p.height) throw new Error(`imageRow: panel '${p.title}' has ${p.data.length} values, expected ${p.height} x ${p.width}`);
    for (let i = 0; i < p.data.length; i++) {
      if (p.data[i] < lo) lo = p.data[i];
      if (p.data[i] > hi) hi = p.data[i];
    }
  }
  const layout: Record<string, unknown> = {
    ...baseLayout(opts.title),
    width: cols * (px + 30) + 120,
    height: px + 150,
    margin: { l: 20, r: 90, t: 80, b: 20 },
    grid: { rows: 1, columns: cols, pattern: 'independent', xgap: 0.08 },
    annotations: [] as unknown[],
  };
  if (!opts.ownScales) layout.coloraxis = { colorscale: opts.colorscale ?? 'Hot', cmin: lo, cmax: hi, colorbar: { title: { text: opts.colorbarTitle ?? '' } } };
  const traces: Trace[] = panels.map((p, i) => {
    const z: number[][] = [];
    for (let r = 0; r < p.height; r++) z.push(Array.from({ length: p.width }, (_, c) => Math.round(Number(p.data[r * p.width + c]) * 1e4) / 1e4));
    const a = axisSuffix(i);
    layout[`xaxis${a}`] = { visible: false, constrain: 'domain' };
    layout[`yaxis${a}`] = { visible: false, scaleanchor: `x${a}`, autorange: 'reversed', constrain: 'domain' };
    (layout.annotations as unknown[]).push({ text: p.title, xref: `x${a} domain`, yref: `y${a} domain`, x: 0.5, y: 1.02, xanchor: 'center', yanchor: 'bottom', showarrow: false, font: { size: 12 } });
    return opts.ownScales
      ? { type: 'heatmap', z, xaxis: `x${a}`, yaxis: `y${a}`, colorscale: opts.colorscale ?? 'Hot', showscale: false, name: p.title }
      : { type: 'heatmap', z, xaxis: `x${a}`, yaxis: `y${a}`, coloraxis: 'coloraxis', name: p.title };
  });
  return { data: traces, layout };
}

/** A line chart of named series over shared x values. */
export function lineChart(series: Array<{ name: string; x: number[]; y: number[] }>, opts: { title: string; xTitle: string; yTitle: string; logX?: boolean; logY?: boolean }): Figure {
  return {
    data: series.map((s) => ({ type: 'scatter', mode: 'lines+markers', name: s.name, x: s.x, y: s.y })),
    layout: baseLayout(opts.title, {
      width: 700,
      height: 420,
      xaxis: { title: { text: opts.xTitle }, type: opts.logX ? 'log' : 'linear', gridcolor: '#eee' },
      yaxis: { title: { text: opts.yTitle }, type: opts.logY ? 'log' : 'linear', gridcolor: '#eee' },
    }),
  };
}

/** Training and validation loss per epoch, with the kept epoch (lowest validation loss) marked. */
export function lossCurve(history: Array<{ epoch: number; loss: number; valLoss: number }>, opts: { title?: string; keptEpoch?: number; epochs?: number } = {}): Figure {
  const kept = opts.keptEpoch ?? (history.length ? history.reduce((b, h) => (h.valLoss < b.valLoss ? h : b)).epoch : undefined);
  const at = history.find((h) => h.epoch === kept);
  const fig = lineChart(
    [
      { name: 'training loss', x: history.map((h) => h.epoch), y: history.map((h) => h.loss) },
      { name: 'validation loss', x: history.map((h) => h.epoch), y: history.map((h) => h.valLoss) },
    ],
    { title: opts.title ?? 'Training curve (MSE)', xTitle: 'epoch', yTitle: 'MSE' },
  );
  (fig.layout.xaxis as Record<string, unknown>).range = [0, (opts.epochs ?? history.length) + 1];
  if (at) {
    fig.data.push({ type: 'scatter', mode: 'markers', name: `kept: epoch ${at.epoch}`, x: [at.epoch], y: [at.valLoss], marker: { size: 14, symbol: 'star', color: COLORS.reference } });
    fig.layout.shapes = [{ type: 'line', xref: 'x', yref: 'paper', x0: at.epoch, x1: at.epoch, y0: 0, y1: 1, line: { dash: 'dot', color: COLORS.reference } }];
  }
  return fig;
}

/**
 * A display that one notebook cell keeps replacing: `update(fig)` redraws it (plotly JSON + text,
 * cheap; at most every `minIntervalMs`), `finish(fig)` draws the final figure with its PNG too.
 * Outside a kernel it prints the final figure's text.
 */
export function liveDisplay(opts: { minIntervalMs?: number } = {}): { update(fig: Figure): void; finish(fig: Figure): Promise<void> } {
  const writer = tslabDisplayWriter();
  const id = `pet-iqa-live-${process.hrtime.bigint()}`;
  let shown = false;
  let last = 0;
  const send = (bundle: Record<string, unknown>) => {
    if (!writer) return;
    writer({ data: bundle, metadata: {}, transient: { display_id: id } }, shown);
    shown = true;
  };
  return {
    update(fig) {
      const now = Date.now();
      if (shown && now - last < (opts.minIntervalMs ?? 250)) return;
      last = now;
      send({ 'application/vnd.plotly.v1+json': JSON.parse(JSON.stringify(plotlyJson(fig))), 'text/plain': describeFigure(fig) });
    },
    async finish(fig) {
      const bundle = await displayBundle(fig);
      if (writer) send(bundle);
      else console.log(bundle['text/plain']);
    },
  };
}
