/**
 * Shared vocabulary of the figure modules: a figure is plain plotly.js JSON `{data, layout}`,
 * so it can be written to HTML, rendered to PNG/SVG, or shown in a notebook without conversion.
 */

/** One plotly.js trace. Kept loose on purpose: plotly's own typings are not installed. */
export type Trace = { [key: string]: unknown; type?: string; name?: string };
export type Layout = { [key: string]: unknown };

/** A plotly.js figure plus the warnings met while building it (missing runs, fallbacks). */
export interface Figure {
  data: Trace[];
  layout: Layout;
  /** Not part of plotly's JSON; stripped by `plotlyJson`. */
  warnings?: string[];
  /** Tables also carry their rows, so they can be written as CSV. */
  table?: { columns: string[]; rows: Array<Array<string | number>> };
}

/** The plotly part of a figure only (what goes into HTML and the notebook mime bundle). */
export function plotlyJson(fig: Figure): { data: Trace[]; layout: Layout } {
  return { data: fig.data, layout: fig.layout };
}

/** Default pixel size of exported figures; the grids are larger (see `gridSize`). */
export const DEFAULT_SIZE = { width: 900, height: 520 };

/** Colours: one per metric (Okabe-Ito, colour-blind safe), dark/light pair for the regimes. */
export const COLORS = {
  metric: { GQR: '#0072B2', PR: '#E69F00', DC: '#009E73' } as Record<string, string>,
  frozen: '#1f3b73',
  partial: '#8fb3e8',
  ok: '#1f77b4',
  failed: '#b0b0b0',
  // The paper's Fig. 8 draws the parameter line orange and dashed.
  params: '#ff7f0e',
  reference: '#555555',
  repeats: ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#D55E00', '#56B4E9', '#F0E442'],
};

/** The paper's label-noise line: an MAE of 0.5 is within the raters' leniency. */
export const LABEL_NOISE_MAE = 0.5;
/** The paper's random-label MAE, used only when no record carries its own. */
export const PAPER_RANDOM_LABEL_MAE = 1.3;

export function baseLayout(title: string, extra: Layout = {}): Layout {
  return {
    title: { text: title, x: 0.5, xanchor: 'center', font: { size: 16 } },
    font: { family: 'Arial, Helvetica, sans-serif', size: 12 },
    paper_bgcolor: 'white',
    plot_bgcolor: 'white',
    width: DEFAULT_SIZE.width,
    height: DEFAULT_SIZE.height,
    margin: { l: 70, r: 30, t: 70, b: 70 },
    ...extra,
  };
}

/**
 * A figure that only says what is missing: used instead of drawing an empty plot, so a reader
 * (and the export log) learns which runs or files to produce.
 */
export function missingFigure(title: string, what: string, missing: string[], hint?: string): Figure {
  const lines = [`<b>${what}</b>`, ...summariseList(missing, 14)];
  if (hint) lines.push('', `<i>${hint}</i>`);
  return {
    data: [],
    layout: {
      ...baseLayout(title),
      xaxis: { visible: false },
      yaxis: { visible: false },
      annotations: [
        {
          text: lines.join('<br>'),
          xref: 'paper',
          yref: 'paper',
          x: 0.5,
          y: 0.5,
          showarrow: false,
          align: 'left',
          font: { size: 13, color: '#a00' },
        },
      ],
    },
    warnings: [`${title}: ${what}: ${missing.join('; ')}`],
  };
}

/** The first `max` items, then "... and k more". */
export function summariseList(items: string[], max: number): string[] {
  if (items.length <= max) return items.slice();
  return [...items.slice(0, max), `... and ${items.length - max} more`];
}

export { mean, std } from '../util/stats';

/** Rows and columns of a near-square grid with at most `maxCols` columns. */
export function gridShape(count: number, maxCols = 6): { rows: number; cols: number } {
  const cols = Math.min(maxCols, Math.max(1, Math.ceil(Math.sqrt(count * 1.5))));
  return { rows: Math.max(1, Math.ceil(count / cols)), cols };
}

/** Axis id suffix of the i-th (0-based) subplot: '', '2', '3', ... as plotly names them. */
export function axisSuffix(i: number): string {
  return i === 0 ? '' : String(i + 1);
}

/** A dashed horizontal reference line across one subplot (or the whole plot when suffix is ''). */
export function hline(y: number, suffix: string, color = COLORS.reference, dash = 'dash'): Record<string, unknown> {
  return {
    type: 'line',
    xref: `x${suffix} domain`,
    x0: 0,
    x1: 1,
    yref: `y${suffix}`,
    y0: y,
    y1: y,
    line: { color, width: 1.2, dash },
  };
}

/** One panel per backbone on a gridShape grid with shared y range, as Figs. 4, 5 and 7 draw them. */
export interface PanelGrid {
  title: string;
  /** Panel titles in grid order (10 pt, `color` when given). */
  panels: Array<{ text: string; color?: string }>;
  /** Random-label MAE: dashed in every panel, beside the dotted label-noise line at 0.5. */
  randomMAE: number;
  /** Largest value shown: every y axis spans [0, ymax + 0.1 rounded up to a multiple of 0.2]. */
  ymax: number;
  /** Title of the y axes of the first column. */
  yTitle: string;
  /** The x axis of panel `i`. */
  xaxis: (i: number, grid: { rows: number; cols: number }) => Layout;
  /** Pixels added to 220 per column and 190 per row. */
  extraWidth: number;
  extraHeight: number;
  margin: Record<string, number>;
  legend?: Layout;
  /** Footnotes: `note`, then the missing runs, then the backbones with no runs at all. */
  note: string;
  missing: string[];
  absent: string[];
  /** Offset of the footnotes under the plot area (see addFootnotes). */
  footnoteOffset: number;
}

/** The layout of a PanelGrid: size, reference lines, axes, panel titles and footnotes. */
export function panelGridLayout(g: PanelGrid): Layout {
  const { rows, cols } = gridShape(g.panels.length);
  const layout: Layout = {
    ...baseLayout(g.title),
    width: 220 * cols + g.extraWidth,
    height: 190 * rows + g.extraHeight,
    margin: g.margin,
    grid: { rows, columns: cols, pattern: 'independent', xgap: 0.12, ygap: 0.32 },
    ...(g.legend ? { legend: g.legend } : {}),
    shapes: g.panels.flatMap((_, i) => [hline(g.randomMAE, axisSuffix(i)), hline(LABEL_NOISE_MAE, axisSuffix(i), COLORS.reference, 'dot')]),
  };
  g.panels.forEach((_, i) => {
    const s = axisSuffix(i);
    layout[`xaxis${s}`] = g.xaxis(i, { rows, cols });
    layout[`yaxis${s}`] = {
      range: [0, Math.ceil((g.ymax + 0.1) * 5) / 5],
      showline: true,
      linecolor: '#333',
      gridcolor: '#eeeeee',
      tickfont: { size: 10 },
      title: i % cols === 0 ? { text: g.yTitle, font: { size: 11 } } : undefined,
    };
  });
  layout.annotations = g.panels.map((p, i) => ({
    text: p.text,
    xref: `x${axisSuffix(i)} domain`,
    yref: `y${axisSuffix(i)} domain`,
    x: 0.5,
    y: 1,
    xanchor: 'center',
    yanchor: 'bottom',
    showarrow: false,
    font: p.color === undefined ? { size: 10 } : { size: 10, color: p.color },
  }));
  const foot: Footnote[] = [{ text: g.note }];
  if (g.missing.length) foot.push(missingFootnote(g.missing));
  if (g.absent.length) foot.push({ text: `No runs for: ${g.absent.join(', ')}` });
  addFootnotes(layout, foot, g.footnoteOffset);
  return layout;
}

/** Formats 12291 as "12,291". */
export function thousands(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** A footnote line under a figure: explanations in grey, missing runs in red. */
export interface Footnote {
  text: string;
  color?: string;
}

/** Footnote listing missing runs (first `max`, then a count). */
export function missingFootnote(missing: string[], max = 4): Footnote {
  return { text: `Missing: ${summariseList(missing, max).join('; ')}`, color: '#a00' };
}

/**
 * Places footnotes below the plot area, `offset` px under it (room for tick labels and axis
 * titles), wraps them to the figure's width and grows the bottom margin and height to fit, so
 * long lists of missing runs are never clipped.
 */
export function addFootnotes(layout: Layout, notes: Footnote[], offset: number): void {
  if (notes.length === 0) return;
  const margin = { l: 70, r: 30, t: 70, b: 70, ...((layout.margin as Record<string, number>) ?? {}) };
  const width = Number(layout.width) || DEFAULT_SIZE.width;
  const maxChars = Math.max(40, Math.floor((width - margin.l * 0.5 - 20) / 6));
  const lineHeight = 14;
  const annotations = ((layout.annotations as unknown[]) ?? []).slice();
  let y = offset;
  for (const n of notes) {
    const lines = wrap(n.text, maxChars);
    annotations.push({
      text: lines.join('<br>'),
      xref: 'paper',
      yref: 'paper',
      x: 0,
      y: 0,
      xshift: -margin.l * 0.5,
      yshift: -y,
      xanchor: 'left',
      yanchor: 'top',
      align: 'left',
      showarrow: false,
      font: { size: 10, color: n.color ?? '#444' },
    });
    y += lines.length * lineHeight + 4;
  }
  const needed = y + 10;
  if (needed > margin.b) {
    layout.height = (Number(layout.height) || DEFAULT_SIZE.height) + (needed - margin.b);
    margin.b = needed;
  }
  layout.margin = margin;
  layout.annotations = annotations;
}

/** Greedy word wrap at `width` characters. */
export function wrap(text: string, width: number): string[] {
  const words = text.split(/\s+/);
  const lines: string[] = [];
  let cur = '';
  for (const w of words) {
    if (cur && cur.length + 1 + w.length > width) {
      lines.push(cur);
      cur = w;
    } else cur = cur ? `${cur} ${w}` : w;
  }
  if (cur) lines.push(cur);
  return lines;
}
