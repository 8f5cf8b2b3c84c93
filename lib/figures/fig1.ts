import * as fs from 'fs';
import * as path from 'path';
import { readNifti } from '../io/nifti';
import { loadManifest, resolvePath } from '../manifest/load';
import { COUNT_LEVELS, type Volume } from '../types';
import { axisSuffix, baseLayout, missingFigure, type Figure, type Trace } from './common';

/** One reconstruction of the patient shown in Fig. 1. */
export interface CountLevelVolume {
  countPercent: number;
  volume: Volume;
}

export interface Fig1Options {
  /** Transverse slice index k; default: the slice with the most activity in the 100 % volume. */
  slice?: number;
  /** Voxels of margin around the head's bounding box. Default 4. */
  pad?: number;
  /** Shown in the title. */
  patient?: string;
  /** Upper end of the shared colour scale; default the 99.9th percentile of all shown pixels. */
  cmax?: number;
}

/**
 * Fig. 1: one cropped transverse slice at each count level, side by side, on one shared colour
 * scale with a colour bar in the volumes' units (Bq/ml), so lower counts visibly mean more noise.
 */
export function fig1(levels: CountLevelVolume[], opts: Fig1Options = {}): Figure {
  const title = `Fig. 1. Transverse slice at the ${levels.length || 7} count levels${opts.patient ? ` (patient ${opts.patient})` : ''}`;
  const sorted = levels.slice().sort((a, b) => a.countPercent - b.countPercent);
  const absent = COUNT_LEVELS.filter((c) => !sorted.some((l) => l.countPercent === c)).map((c) => `${c} %`);
  if (sorted.length === 0) return missingFigure(title, 'No reconstructions given for count levels', absent, 'npm run cohort -- --preset quick');
  const ref = sorted[sorted.length - 1].volume; // highest count: least noise, best for locating the head
  const [nx, ny, nz] = ref.dims;
  for (const l of sorted) {
    if (l.volume.dims.join('x') !== ref.dims.join('x')) throw new Error(`fig1: volume at ${l.countPercent} % has dims ${l.volume.dims.join('x')}, expected ${ref.dims.join('x')}`);
  }
  const k = opts.slice ?? busiestSlice(ref);
  if (!(k >= 0 && k < nz)) throw new Error(`fig1: slice ${k} outside 0..${nz - 1}`);
  const box = boundingBox(ref, k, opts.pad ?? 4);
  const units = ref.units ?? 'Bq/ml';
  const warnings: string[] = [];
  if (absent.length) warnings.push(`Fig. 1: no volume for count levels ${absent.join(', ')}`);
  const mixed = sorted.filter((l) => (l.volume.units ?? 'Bq/ml') !== units).map((l) => `${l.countPercent} %`);
  if (mixed.length) warnings.push(`Fig. 1: units differ from '${units}' at ${mixed.join(', ')}`);

  const images = sorted.map((l) => crop(l.volume, k, box));
  const all: number[] = [];
  for (const im of images) for (const row of im) for (const v of row) all.push(v);
  all.sort((a, b) => a - b);
  const cmax = opts.cmax ?? all[Math.min(all.length - 1, Math.floor(0.999 * all.length))];
  const xs = Array.from({ length: box.i1 - box.i0 }, (_, t) => box.i0 + t);
  const ys = Array.from({ length: box.j1 - box.j0 }, (_, t) => box.j0 + t);
  const traces: Trace[] = images.map((z, i) => ({
    type: 'heatmap',
    name: `${sorted[i].countPercent} %`,
    z,
    x: xs,
    y: ys,
    xaxis: `x${axisSuffix(i)}`,
    yaxis: `y${axisSuffix(i)}`,
    coloraxis: 'coloraxis',
    hovertemplate: `${sorted[i].countPercent} % (%{x}, %{y}): %{z:.0f} ${units}<extra></extra>`,
  }));
  const cols = sorted.length;
  const panelPx = 150;
  const layout: Record<string, unknown> = {
    ...baseLayout(title),
    width: cols * (panelPx + 12) + 160,
    height: Math.round(panelPx * ((box.j1 - box.j0) / (box.i1 - box.i0))) + 170,
    margin: { l: 20, r: 110, t: 70, b: 50 },
    grid: { rows: 1, columns: cols, pattern: 'independent', xgap: 0.04 },
    coloraxis: { colorscale: 'Hot', cmin: 0, cmax, colorbar: { title: { text: units, side: 'right' }, thickness: 14, len: 0.9 } },
    annotations: sorted.map((l, i) => ({
      text: `<b>${l.countPercent} %</b>`, xref: `x${axisSuffix(i)} domain`, yref: `y${axisSuffix(i)} domain`, x: 0.5, y: 1, yanchor: 'bottom', xanchor: 'center', showarrow: false, font: { size: 12 },
    })),
  };
  sorted.forEach((_, i) => {
    const s = axisSuffix(i);
    layout[`xaxis${s}`] = { visible: false, constrain: 'domain' };
    layout[`yaxis${s}`] = { visible: false, scaleanchor: `x${s}`, scaleratio: ref.voxelSize[1] / ref.voxelSize[0], constrain: 'domain' };
  });
  (layout.annotations as unknown[]).push({ text: `slice k = ${k} of ${nz}; voxel ${ref.voxelSize.map((v) => v.toFixed(2)).join(' x ')} mm`, xref: 'paper', yref: 'paper', x: 0, y: 0, yshift: -20, xanchor: 'left', yanchor: 'top', showarrow: false, font: { size: 10, color: '#444' } });
  return { data: traces, layout, warnings };
}

/** The transverse slice holding the most activity. */
export function busiestSlice(v: Volume): number {
  const [nx, ny, nz] = v.dims;
  let best = 0;
  let bestSum = -Infinity;
  for (let k = 0; k < nz; k++) {
    let s = 0;
    const off = k * nx * ny;
    for (let t = 0; t < nx * ny; t++) s += v.data[off + t];
    if (s > bestSum) {
      bestSum = s;
      best = k;
    }
  }
  return best;
}

/** Bounding box of voxels above 1/8 of the slice's non-zero mean (the paper's SPM-style threshold), padded. */
function boundingBox(v: Volume, k: number, pad: number): { i0: number; i1: number; j0: number; j1: number } {
  const [nx, ny] = v.dims;
  const off = k * nx * ny;
  let sum = 0;
  let cnt = 0;
  for (let t = 0; t < nx * ny; t++) if (v.data[off + t] > 0) (sum += v.data[off + t]), cnt++;
  const thr = cnt ? sum / cnt / 8 : 0;
  let i0 = nx, i1 = -1, j0 = ny, j1 = -1;
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      if (v.data[off + i + nx * j] > thr) {
        if (i < i0) i0 = i;
        if (i > i1) i1 = i;
        if (j < j0) j0 = j;
        if (j > j1) j1 = j;
      }
    }
  }
  if (i1 < 0) return { i0: 0, i1: nx, j0: 0, j1: ny };
  return { i0: Math.max(0, i0 - pad), i1: Math.min(nx, i1 + 1 + pad), j0: Math.max(0, j0 - pad), j1: Math.min(ny, j1 + 1 + pad) };
}

function crop(v: Volume, k: number, b: { i0: number; i1: number; j0: number; j1: number }): number[][] {
  const [nx, ny] = v.dims;
  const off = k * nx * ny;
  const rows: number[][] = [];
  for (let j = b.j0; j < b.j1; j++) {
    const row: number[] = [];
    for (let i = b.i0; i < b.i1; i++) row.push(Math.round(v.data[off + i + nx * j] * 100) / 100);
    rows.push(row);
  }
  return rows;
}

/**
 * The 7 reconstructions of one patient from a cohort manifest (default: the first patient),
 * read with lib/manifest and lib/io. Throws naming the manifest and what is missing.
 */
export function loadPatientLevels(manifestFile: string, patientId?: string): { patient: string; levels: CountLevelVolume[] } {
  if (!fs.existsSync(manifestFile)) throw new Error(`fig1: no cohort manifest at ${manifestFile}; generate one with \`npm run cohort -- --preset quick\``);
  const loaded = loadManifest(manifestFile);
  const patients = loaded.manifest.patients.map((p) => p.id);
  const recons = loaded.manifest.reconstructions.map((r) => ({ patient: r.patient, countPercent: r.countPercent, file: resolvePath(loaded, r) }));
  const patient = patientId ?? patients[0];
  if (!patient) throw new Error(`fig1: manifest ${manifestFile} lists no patients`);
  const mine = recons.filter((r) => r.patient === patient);
  if (mine.length === 0) throw new Error(`fig1: manifest ${manifestFile} has no reconstructions of patient ${patient}`);
  const gone = mine.filter((r) => !fs.existsSync(r.file)).map((r) => r.file);
  if (gone.length) throw new Error(`fig1: reconstruction files missing: ${gone.join(', ')}`);
  return { patient, levels: mine.map((r) => ({ countPercent: r.countPercent, volume: readNifti(r.file) })) };
}
