/**
 * The brain template the phantoms are built from: ICBM 2009c nonlinear asymmetric WM and CSF
 * maps, its brain mask and the Desikan-Killiany + aseg labels (dka.nii.gz), on the 1 mm 09c grid.
 * GM is derived as mask * clip(1 - WM - CSF, 0, 1) (assets/brain-template/README.md, option 1).
 */
import * as fs from 'fs';
import * as path from 'path';
import { readNifti } from '../io';
import { projectRoot } from '../util/files';

/** Relative FDG uptake of the tissues, white matter = 1 (grey : white : CSF about 4 : 1 : 0.15). */
export interface TissueUptake {
  /** Default 4. */
  gm?: number;
  /** Default 1. */
  wm?: number;
  /** Default 0.15. */
  csf?: number;
}
export const DEFAULT_UPTAKE: Required<TissueUptake> = { gm: 4, wm: 1, csf: 0.15 };

/** Channels of a template (and of a resampled phantom), interleaved per voxel. */
export const TEMPLATE_CHANNELS = ['uptake', 'adLeft', 'adRight', 'gm', 'wm', 'brain'] as const;
export type TemplateChannel = (typeof TEMPLATE_CHANNELS)[number];
export const NCH = TEMPLATE_CHANNELS.length;
export const CH: Record<TemplateChannel, number> = { uptake: 0, adLeft: 1, adRight: 2, gm: 3, wm: 4, brain: 5 };

/**
 * Desikan-Killiany regions of the typical Alzheimer-like (temporo-parietal) hypometabolism, with
 * a relative depth per region (posterior cingulate/precuneus/parietal deepest, mesial temporal
 * shallowest, as in FDG studies of AD). Label n is 1000+n on the left and 2000+n on the right.
 */
export const AD_REGION_WEIGHTS: Record<number, number> = {
  23: 1.0, // posterior cingulate
  10: 1.0, // isthmus cingulate
  25: 1.0, // precuneus
  8: 0.9, // inferior parietal
  31: 0.9, // supramarginal
  29: 0.8, // superior parietal
  15: 0.7, // middle temporal
  9: 0.7, // inferior temporal
  30: 0.6, // superior temporal
  1: 0.7, // bankssts
  6: 0.5, // entorhinal
  16: 0.5, // parahippocampal
};
/** aseg hippocampus labels (left, right) and their weight. */
export const AD_HIPPOCAMPUS = { left: 17, right: 53, weight: 0.5 };

/** A template on its own 1 mm grid. */
export interface TemplateSet {
  dims: [number, number, number];
  /** World (MNI mm) coordinate of voxel (0, 0, 0); the grid is axis-aligned with 1 mm voxels. */
  origin: [number, number, number];
  /** NCH values per voxel (see TEMPLATE_CHANNELS), voxel-major. May live in a SharedArrayBuffer. */
  channels: Float32Array;
  uptake: Required<TissueUptake>;
  /** The files read, for provenance. */
  files: string[];
}

export const TEMPLATE_FILES = {
  wm: 'icbm2009c_asym_appian/mni_icbm152_wm_tal_nlin_asym_09c.nii.gz',
  csf: 'icbm2009c_asym_appian/mni_icbm152_csf_tal_nlin_asym_09c.nii.gz',
  mask: 'icbm2009c_asym_appian/mni_icbm152_t1_tal_nlin_asym_09c_mask.nii.gz',
  labels: 'icbm2009c_asym_appian/dka.nii.gz',
} as const;

/** The template folder shipped with the workspace (assets/brain-template). */
export function defaultTemplateDir(): string {
  return path.join(projectRoot(), 'assets', 'brain-template');
}

export interface LoadTemplateArgs {
  /** Folder holding icbm2009c_asym_appian/. Default: assets/brain-template of the workspace. */
  dir?: string;
  uptake?: TissueUptake;
  /** Put the channels in a SharedArrayBuffer (to hand to worker threads without copying). Default false. */
  shared?: boolean;
}

/** Reads the template files and builds the channel volume. */
export function loadTemplateSet(args: LoadTemplateArgs = {}): TemplateSet {
  const dir = args.dir ?? defaultTemplateDir();
  const uptake = { ...DEFAULT_UPTAKE, ...args.uptake };
  const files = Object.values(TEMPLATE_FILES).map((f) => path.join(dir, f));
  for (const f of files) if (!fs.existsSync(f)) throw new Error(`loadTemplateSet: template file ${f} not found (dir: ${dir})`);
  const [wmFile, csfFile, maskFile, labelFile] = files;
  const wm = readNifti(wmFile);
  const csf = readNifti(csfFile);
  const mask = readNifti(maskFile);
  const labels = readNifti(labelFile);
  const dims = wm.dims;
  for (const [v, f] of [[csf, csfFile], [mask, maskFile]] as const) {
    if (v.dims.join() !== dims.join()) throw new Error(`loadTemplateSet: ${f} has dims ${v.dims.join('x')}, expected ${dims.join('x')} like ${wmFile}`);
  }
  const aff = wm.affine;
  const origin: [number, number, number] = [aff[0][3], aff[1][3], aff[2][3]];
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) {
      if (Math.abs(aff[r][c] - (r === c ? 1 : 0)) > 1e-6) throw new Error(`loadTemplateSet: ${wmFile} affine is not a 1 mm axis-aligned grid`);
    }
  }
  // dka.nii.gz lies on a flipped 256^3 grid; map each 09c voxel to its label through world mm.
  const la = labels.affine;
  const [lx, ly, lz] = labels.dims;
  if (Math.abs(Math.abs(la[0][0]) - 1) > 1e-6 || Math.abs(Math.abs(la[1][1]) - 1) > 1e-6 || Math.abs(Math.abs(la[2][2]) - 1) > 1e-6) {
    throw new Error(`loadTemplateSet: ${labelFile} affine must be a 1 mm axis-aligned (possibly flipped) grid`);
  }
  const [nx, ny, nz] = dims;
  const n = nx * ny * nz;
  const buf = args.shared ? new SharedArrayBuffer(n * NCH * 4) : new ArrayBuffer(n * NCH * 4);
  const ch = new Float32Array(buf);
  const leftW = new Map<number, number>();
  const rightW = new Map<number, number>();
  for (const [k, w] of Object.entries(AD_REGION_WEIGHTS)) {
    leftW.set(1000 + Number(k), w);
    rightW.set(2000 + Number(k), w);
  }
  leftW.set(AD_HIPPOCAMPUS.left, AD_HIPPOCAMPUS.weight);
  rightW.set(AD_HIPPOCAMPUS.right, AD_HIPPOCAMPUS.weight);
  for (let k = 0; k < nz; k++) {
    const z = origin[2] + k;
    const lk = Math.round((z - la[2][3]) / la[2][2]);
    for (let j = 0; j < ny; j++) {
      const y = origin[1] + j;
      const lj = Math.round((y - la[1][3]) / la[1][1]);
      for (let i = 0; i < nx; i++) {
        const v = i + nx * (j + ny * k);
        const x = origin[0] + i;
        const li = Math.round((x - la[0][3]) / la[0][0]);
        const m = mask.data[v] > 0.5 ? 1 : 0;
        const w = clamp01(wm.data[v]);
        const c = clamp01(csf.data[v]);
        const g = m * clamp01(1 - w - c);
        let label = 0;
        if (li >= 0 && li < lx && lj >= 0 && lj < ly && lk >= 0 && lk < lz) label = labels.data[li + lx * (lj + ly * lk)];
        const o = v * NCH;
        ch[o] = uptake.gm * g + uptake.wm * w + uptake.csf * c;
        ch[o + 1] = uptake.gm * g * (leftW.get(label) ?? 0);
        ch[o + 2] = uptake.gm * g * (rightW.get(label) ?? 0);
        ch[o + 3] = g;
        ch[o + 4] = w;
        ch[o + 5] = m;
      }
    }
  }
  return { dims, origin, channels: ch, uptake, files };
}

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}
