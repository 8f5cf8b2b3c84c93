/**
 * The per-volume picture of a score report: sagittal, coronal and transverse slices through the
 * centre of mass, in the volume's own units and at true mm proportions, with the scores in the title.
 */
import type { Figure, Trace } from '../figures/common';
import { METRICS, type Volume } from '../types';
import type { PatchScore, VolumeScore } from './score';

/** Intensity-weighted centre (voxel indices, rounded) of the non-negative voxels; the middle for an empty volume. */
export function centreOfMass(v: Volume): [number, number, number] {
  const [nx, ny, nz] = v.dims;
  let s = 0;
  let si = 0;
  let sj = 0;
  let sk = 0;
  for (let k = 0, p = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, p++) {
        const w = v.data[p];
        if (w > 0) {
          s += w;
          si += w * i;
          sj += w * j;
          sk += w * k;
        }
      }
    }
  }
  if (!(s > 0)) return [Math.floor(nx / 2), Math.floor(ny / 2), Math.floor(nz / 2)];
  return [Math.round(si / s), Math.round(sj / s), Math.round(sk / s)];
}

/** Rows (second axis) x columns (first axis) of a slice normal to `axis` at index `at`. */
function slice(v: Volume, axis: 0 | 1 | 2, at: number): { z: number[][]; colAxis: 0 | 1 | 2; rowAxis: 0 | 1 | 2 } {
  const [nx, ny] = v.dims;
  const colAxis = axis === 0 ? 1 : 0;
  const rowAxis = axis === 2 ? 1 : 2;
  const stride = [1, nx, nx * ny];
  const z: number[][] = [];
  for (let r = 0; r < v.dims[rowAxis]; r++) {
    const row: number[] = [];
    for (let c = 0; c < v.dims[colAxis]; c++) row.push(+v.data[at * stride[axis] + c * stride[colAxis] + r * stride[rowAxis]].toPrecision(5));
    z.push(row);
  }
  return { z, colAxis, rowAxis };
}

function percentile(data: Float32Array, q: number): number {
  const stride = Math.max(1, Math.floor(data.length / 500_000));
  const sub: number[] = [];
  for (let i = 0; i < data.length; i += stride) sub.push(data[i]);
  sub.sort((a, b) => a - b);
  return sub[Math.min(sub.length - 1, Math.floor(q * (sub.length - 1)))];
}

/** Options of scoreFigure. */
export interface ScoreFigureOptions {
  /** Title prefix; default the file name. */
  label?: string;
  /** Pixel height of the figure. Default 420. */
  height?: number;
  /** Scored patches: each plane's patches are outlined on its slice, coloured by predicted GQR. */
  patchScores?: readonly PatchScore[];
  /** Patch side in voxels (the model's input size); needed with patchScores. */
  patchSize?: number;
}

/** GQR 0 (poor) .. 3 (good) as red -> yellow -> green. */
export function gqrColour(gqr: number): string {
  const t = Math.min(1, Math.max(0, gqr / 3));
  const [r, g] = t < 0.5 ? [215, Math.round(48 + (t / 0.5) * (200 - 48))] : [Math.round(215 - ((t - 0.5) / 0.5) * (215 - 26)), Math.round(200 - ((t - 0.5) / 0.5) * (200 - 150))];
  return `rgb(${r},${g},${t < 0.5 ? 39 : Math.round(39 + ((t - 0.5) / 0.5) * (65 - 39))})`;
}

const PLANE_OF_AXIS = ['sagittal', 'coronal', 'transverse'] as const;

/**
 * The patch map of one slice panel: each patch of that plane as a rectangle at its in-plane place
 * (patches come from several slices; all are projected onto the shown one), coloured by its GQR,
 * plus invisible-ish centre markers that carry the colour bar and the hover text.
 */
function patchOverlay(v: Volume, axis: 0 | 1 | 2, sfx: string, patches: readonly PatchScore[], size: number, showScale: boolean): { shapes: unknown[]; trace?: Trace } {
  const mine = patches.filter((p) => p.plane === PLANE_OF_AXIS[axis]);
  if (mine.length === 0) return { shapes: [] };
  const colAxis = axis === 0 ? 1 : 0;
  const rowAxis = axis === 2 ? 1 : 2;
  const dx = v.voxelSize[colAxis];
  const dy = v.voxelSize[rowAxis];
  const shapes = mine.map((p) => ({
    type: 'rect',
    xref: `x${sfx}`,
    yref: `y${sfx}`,
    x0: (p.col - 0.5) * dx,
    x1: (p.col + size - 0.5) * dx,
    y0: (p.row - 0.5) * dy,
    y1: (p.row + size - 0.5) * dy,
    line: { color: gqrColour(p.GQR), width: 2 },
    fillcolor: gqrColour(p.GQR),
    opacity: 0.28,
  }));
  const trace: Trace = {
    type: 'scatter',
    mode: 'markers',
    x: mine.map((p) => (p.col + size / 2 - 0.5) * dx),
    y: mine.map((p) => (p.row + size / 2 - 0.5) * dy),
    text: mine.map((p) => `patch at slice ${p.slice}: GQR ${p.GQR.toFixed(2)}`),
    hovertemplate: '%{text}<extra></extra>',
    xaxis: `x${sfx}`,
    yaxis: `y${sfx}`,
    showlegend: false,
    marker: {
      size: 7,
      color: mine.map((p) => p.GQR),
      cmin: 0,
      cmax: 3,
      colorscale: [[0, gqrColour(0)], [0.5, gqrColour(1.5)], [1, gqrColour(3)]],
      line: { color: '#000', width: 0.5 },
      showscale: showScale,
      colorbar: { title: { text: 'patch GQR' }, x: -0.06, len: 0.8 },
    },
  };
  return { shapes, trace };
}

/** Three orthogonal slices through the centre of mass, scores (and flags) in the title. */
export function scoreFigure(v: Volume, score: VolumeScore, opts: ScoreFigureOptions = {}): Figure {
  const com = centreOfMass(v);
  const zmax = percentile(v.data, 0.995) || 1;
  const names = ['Sagittal', 'Coronal', 'Transverse'];
  const axisName = ['i', 'j', 'k'];
  const gap = 0.04;
  const w = (1 - 2 * gap) / 3;
  const data: Trace[] = [];
  const overlays: Trace[] = [];
  const shapes: unknown[] = [];
  const layout: Record<string, unknown> = {};
  ([0, 1, 2] as const).forEach((axis, n) => {
    const s = slice(v, axis, com[axis]);
    const sfx = n === 0 ? '' : String(n + 1);
    data.push({
      type: 'heatmap',
      z: s.z,
      x0: 0,
      dx: v.voxelSize[s.colAxis],
      y0: 0,
      dy: v.voxelSize[s.rowAxis],
      xaxis: `x${sfx}`,
      yaxis: `y${sfx}`,
      colorscale: 'Greys',
      reversescale: true,
      zmin: 0,
      zmax,
      showscale: n === 2,
      colorbar: { title: { text: v.units ?? score.stats?.units ?? 'intensity' }, len: 0.8 },
      hovertemplate: `%{z}<extra>${names[n]}</extra>`,
    });
    if (opts.patchScores?.length) {
      if (!opts.patchSize) throw new Error('scoreFigure: patchScores need patchSize');
      const o = patchOverlay(v, axis, sfx, opts.patchScores, opts.patchSize, n === 0);
      shapes.push(...o.shapes);
      if (o.trace) overlays.push(o.trace);
    }
    layout[`xaxis${sfx}`] = { domain: [n * (w + gap), n * (w + gap) + w], showticklabels: false, ticks: '', showgrid: false, zeroline: false, title: { text: `${names[n]} (${axisName[axis]} = ${com[axis]})` } };
    layout[`yaxis${sfx}`] = { scaleanchor: `x${sfx}`, showticklabels: false, ticks: '', showgrid: false, zeroline: false };
  });
  const sc = score.scores;
  const parts = sc
    ? METRICS.map((m) => `${m} ${sc[m].toFixed(2)} ± ${(score.sd?.[m] ?? 0).toFixed(2)}${score.ensembleSd ? ` (ens ± ${score.ensembleSd[m].toFixed(2)})` : ''}`)
    : ['not scored'];
  const label = opts.label ?? score.id ?? score.file.split(/[\\/]/).pop() ?? score.file;
  const flags = score.flags.length ? `<br><span style="color:#b00">flags: ${score.flags.map((f) => f.code).join(', ')}</span>` : '';
  const mapNote = overlays.length ? '<br><span style="font-size:11px">boxes: each patch\'s predicted GQR (red poor, green good), patches of all slices of a plane drawn on its panel</span>' : '';
  return {
    data: [...data, ...overlays],
    layout: {
      title: { text: `${label}<br><span style="font-size:13px">${parts.join('  |  ')}</span>${flags}${mapNote}`, x: 0.5, xanchor: 'center', font: { size: 14 } },
      font: { family: 'Arial, Helvetica, sans-serif', size: 11 },
      paper_bgcolor: 'white',
      plot_bgcolor: 'white',
      width: 1000,
      height: opts.height ?? 420,
      margin: { l: overlays.length ? 70 : 20, r: 20, t: (score.flags.length ? 100 : 80) + (overlays.length ? 16 : 0), b: 40 },
      ...(shapes.length ? { shapes } : {}),
      ...layout,
    },
  };
}

/** Options of levelsFigure. */
export interface LevelsFigureOptions {
  /** Figure title. Default 'Predicted quality vs count level'. */
  title?: string;
  /** Draw the clinical labels of rated volumes as open markers. Default true. */
  labels?: boolean;
}

/**
 * Mean predicted GQR, PR and DC against count level (log axis), one line per patient, for scored
 * manifest entries (volumes without patient or count level, and failed ones, are left out).
 */
export function levelsFigure(volumes: readonly VolumeScore[], opts: LevelsFigureOptions = {}): Figure {
  const rows = volumes.filter((v) => v.scores && v.patient !== undefined && v.countPercent !== undefined);
  const patients = [...new Set(rows.map((v) => v.patient!))];
  const palette = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#D55E00', '#56B4E9', '#F0E442', '#000000'];
  const data: Trace[] = [];
  const gap = 0.06;
  const w = (1 - 2 * gap) / 3;
  const layout: Record<string, unknown> = {};
  METRICS.forEach((m, n) => {
    const sfx = n === 0 ? '' : String(n + 1);
    patients.forEach((p, i) => {
      const vs = rows.filter((v) => v.patient === p).sort((a, b) => a.countPercent! - b.countPercent!);
      const color = palette[i % palette.length];
      data.push({
        type: 'scatter',
        mode: 'lines+markers',
        name: `patient ${p}`,
        legendgroup: p,
        showlegend: n === 0,
        x: vs.map((v) => v.countPercent),
        y: vs.map((v) => v.scores![m]),
        error_y: { type: 'data', array: vs.map((v) => v.sd?.[m] ?? 0), visible: true, thickness: 1, width: 2 },
        line: { color },
        marker: { color },
        xaxis: `x${sfx}`,
        yaxis: `y${sfx}`,
      });
      const rated = vs.filter((v) => v.labels);
      if ((opts.labels ?? true) && rated.length > 0) {
        data.push({
          type: 'scatter',
          mode: 'markers',
          name: `patient ${p} label`,
          legendgroup: p,
          showlegend: false,
          x: rated.map((v) => v.countPercent),
          y: rated.map((v) => v.labels![m]),
          marker: { color, symbol: 'circle-open', size: 10, line: { width: 2 } },
          xaxis: `x${sfx}`,
          yaxis: `y${sfx}`,
        });
      }
    });
    layout[`xaxis${sfx}`] = { domain: [n * (w + gap), n * (w + gap) + w], type: 'log', title: { text: 'counts (%)' }, tickvals: [0.5, 1, 5, 10, 25, 50, 100], ticktext: ['0.5', '1', '5', '10', '25', '50', '100'] };
    layout[`yaxis${sfx}`] = { anchor: `x${sfx}`, range: [-0.2, 3.2], title: { text: `predicted ${m}` } };
  });
  return {
    data,
    layout: {
      title: { text: opts.title ?? 'Predicted quality vs count level (open circles: clinical labels of rated volumes)', x: 0.5, xanchor: 'center', font: { size: 15 } },
      font: { family: 'Arial, Helvetica, sans-serif', size: 12 },
      paper_bgcolor: 'white',
      plot_bgcolor: 'white',
      width: 1100,
      height: 420,
      margin: { l: 60, r: 20, t: 70, b: 60 },
      legend: { orientation: 'h', y: -0.25 },
      ...layout,
    },
  };
}

/** Spearman rank correlation (average ranks for ties); NaN with fewer than 2 points. */
export function spearman(x: readonly number[], y: readonly number[]): number {
  if (x.length !== y.length) throw new Error(`spearman: ${x.length} vs ${y.length} values`);
  if (x.length < 2) return NaN;
  const rank = (v: readonly number[]) => {
    const idx = v.map((_, i) => i).sort((a, b) => v[a] - v[b]);
    const r = new Array<number>(v.length);
    for (let i = 0; i < idx.length; ) {
      let j = i;
      while (j + 1 < idx.length && v[idx[j + 1]] === v[idx[i]]) j++;
      for (let k = i; k <= j; k++) r[idx[k]] = (i + j) / 2 + 1;
      i = j + 1;
    }
    return r;
  };
  const rx = rank(x);
  const ry = rank(y);
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  const mx = mean(rx);
  const my = mean(ry);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < rx.length; i++) {
    sxy += (rx[i] - mx) * (ry[i] - my);
    sxx += (rx[i] - mx) ** 2;
    syy += (ry[i] - my) ** 2;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : NaN;
}
