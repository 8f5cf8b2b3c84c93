import { axisSuffix, baseLayout, missingFigure, type Figure, type Trace } from './common';

/** The part of lib/patches' PatchDataset a montage needs. */
export interface PatchSet {
  size: number;
  count: number;
  patches: Float32Array;
  labels?: Float32Array;
  meta?: Array<{ recon?: string; plane?: string }>;
}

/**
 * A montage of patches (normalised [0, 1] intensities, grey) with their recon, plane and labels
 * above each: what the backbones actually see. Picks evenly spaced patches unless given indices.
 */
export function patchMontage(ds: PatchSet, opts: { indices?: number[]; count?: number; cols?: number; title?: string } = {}): Figure {
  const title = opts.title ?? `Patches (${ds.size} x ${ds.size}, [0, 1], dark = high) as fed to the backbones`;
  if (ds.count === 0) return missingFigure(title, 'The patch set is empty', ['0 patches']);
  const want = Math.min(opts.count ?? 12, ds.count);
  const idx = opts.indices ?? Array.from({ length: want }, (_, t) => Math.floor((t * ds.count) / want));
  const cols = opts.cols ?? Math.min(6, idx.length);
  const rows = Math.ceil(idx.length / cols);
  const s = ds.size;
  const traces: Trace[] = [];
  const layout: Record<string, unknown> = {
    ...baseLayout(title),
    width: cols * 150 + 60,
    height: rows * 175 + 90,
    margin: { l: 20, r: 20, t: 70, b: 20 },
    grid: { rows, columns: cols, pattern: 'independent', xgap: 0.06, ygap: 0.22 },
    coloraxis: { colorscale: 'Greys', reversescale: true, cmin: 0, cmax: 1, showscale: false },
    annotations: [] as unknown[],
  };
  idx.forEach((p, i) => {
    const z: number[][] = [];
    for (let r = 0; r < s; r++) z.push(Array.from(ds.patches.subarray(p * s * s + r * s, p * s * s + (r + 1) * s), (v) => Math.round(v * 1000) / 1000));
    const a = axisSuffix(i);
    traces.push({ type: 'heatmap', z, xaxis: `x${a}`, yaxis: `y${a}`, coloraxis: 'coloraxis', hovertemplate: `patch ${p}<br>%{z:.2f}<extra></extra>` });
    layout[`xaxis${a}`] = { visible: false, constrain: 'domain' };
    layout[`yaxis${a}`] = { visible: false, scaleanchor: `x${a}`, autorange: 'reversed', constrain: 'domain' };
    const m = ds.meta?.[p];
    const lab = ds.labels ? Array.from(ds.labels.subarray(p * 3, p * 3 + 3), (v) => (Number.isFinite(v) ? v.toFixed(1) : '-')).join('/') : '';
    (layout.annotations as unknown[]).push({
      text: `${m?.recon ?? `#${p}`} ${m?.plane ?? ''}<br>${lab ? `GQR/PR/DC ${lab}` : ''}`,
      xref: `x${a} domain`, yref: `y${a} domain`, x: 0.5, y: 1, yanchor: 'bottom', showarrow: false, font: { size: 9 },
    });
  });
  return { data: traces, layout, warnings: [] };
}
