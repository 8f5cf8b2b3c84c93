import { baseLayout, wrap, type Figure } from './common';

/**
 * A table as a plotly table trace (so it exports like any figure) that also keeps its rows
 * for CSV export. Numbers are right-aligned and printed with thousands separators.
 */
export function tableFigure(title: string, columns: string[], rows: Array<Array<string | number>>, opts: { note?: string; width?: number } = {}): Figure {
  const cells = columns.map((_, j) => rows.map((r) => (typeof r[j] === 'number' ? fmt(r[j] as number) : String(r[j] ?? ''))));
  const align = columns.map((_, j) => (rows.length && typeof rows[0][j] === 'number' ? 'right' : 'left'));
  const rowHeight = 24;
  const width = opts.width ?? 760;
  const noteLines = opts.note ? wrap(opts.note, Math.floor((width - 40) / 6.5)) : [];
  const noteHeight = noteLines.length ? 16 * noteLines.length + 14 : 0;
  const height = Math.max(200, 110 + rowHeight * (rows.length + 1) + noteHeight);
  const annotations = opts.note
    ? [{ text: noteLines.join('<br>'), xref: 'paper', yref: 'paper', x: 0, y: 0, yshift: -6, xanchor: 'left', yanchor: 'top', showarrow: false, align: 'left', font: { size: 11, color: '#444' } }]
    : [];
  return {
    data: [
      {
        type: 'table',
        columnwidth: columns.map((c, j) => (j === 0 ? 1.6 : 1)),
        header: { values: columns.map((c) => `<b>${c}</b>`), align, fill: { color: '#dde6f3' }, line: { color: '#8899aa', width: 1 }, font: { size: 12 }, height: rowHeight + 4 },
        cells: { values: cells, align, line: { color: '#c8d0da', width: 1 }, font: { size: 12 }, height: rowHeight },
      },
    ],
    layout: { ...baseLayout(title), width, height, margin: { l: 20, r: 20, t: 60, b: 20 + noteHeight }, annotations },
    table: { columns, rows },
  };
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) return '';
  if (Number.isInteger(x)) return Math.abs(x) >= 1000 ? x.toLocaleString('en-US') : String(x);
  return x.toFixed(2);
}

/** CSV text of a table figure, written with danfojs (quoted as needed); loaded lazily (it is large). */
export function tableCsv(fig: Figure): string {
  if (!fig.table) throw new Error('tableCsv: this figure carries no table rows');
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const dfd = require('danfojs-node') as typeof import('danfojs-node');
  const { columns, rows } = fig.table;
  if (rows.length === 0) return columns.join(',') + '\n';
  const df = new dfd.DataFrame(rows, { columns });
  return String(dfd.toCSV(df, { download: false } as never));
}
