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
  params: '#d62728',
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

export function mean(xs: number[]): number {
  if (xs.length === 0) return NaN;
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

export function std(xs: number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  let s = 0;
  for (const x of xs) s += (x - m) * (x - m);
  return Math.sqrt(s / (xs.length - 1));
}

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
