/**
 * The scanner simulation of one patient, one transverse slice at a time, step by step (phantom ->
 * expected sinogram -> counts -> OSEM -> post-filter), for notebook 08 and tests. The same lib/phantom
 * and lib/recon functions and settings as simulatePatient, which runs all slices of all count levels.
 */
import { boxAverageTemplate, buildPhantom, centredBox, loadTemplateSet, type Phantom, type TemplateSet } from '../phantom';
import { countsPerBqMlMm, DEFAULT_ACQUISITION, expectSlice, gaussianFilter3d, ParallelProjector, type SliceExpectation } from '../recon';
import { getPreset, type CohortPreset } from './presets';
import { syntheticPatients, type SyntheticPatient } from './patients';
import { bodySupport, makeProjector, reconstructionSupport } from './simulate';

export interface PresetPhantomArgs {
  /** Cohort preset name or object. */
  preset: string | CohortPreset;
  /** Index into the 13 synthetic patients. Default 0. */
  patientIndex?: number;
  /** Cohort seed (generateCohort's default is 1). Default 1. */
  seed?: number;
  /** An already loaded brain template (loadTemplateSet). */
  template?: TemplateSet;
}

/** One synthetic patient's phantom on a preset's grid, built as generateCohort builds it. */
export function presetPhantom(args: PresetPhantomArgs): { preset: CohortPreset; patient: SyntheticPatient; phantom: Phantom } {
  const preset = typeof args.preset === 'string' ? getPreset(args.preset) : args.preset;
  const patients = syntheticPatients(args.seed ?? 1);
  const i = args.patientIndex ?? 0;
  if (!(Number.isInteger(i) && i >= 0 && i < patients.length)) throw new Error(`presetPhantom: patientIndex must be 0..${patients.length - 1}, got ${i}`);
  const template = boxAverageTemplate(args.template ?? loadTemplateSet(), preset.grid.voxelMm);
  const phantom = buildPhantom(template, preset.grid, centredBox(preset.grid, preset.fovSide), patients[i].phantom);
  return { preset, patient: patients[i], phantom };
}

/** One transverse slice of a phantom, ready to be "scanned". */
export interface SliceSetup {
  /** Slice index in the phantom's box. */
  k: number;
  /** Slice side (pixels) and pixel size (mm). */
  side: number;
  pixelMm: number;
  projector: ParallelProjector;
  /** Expected counts per bin for a line integral of 1 Bq/ml x mm (at 100 % counts). */
  kappa: number;
  /** Pixels reconstructed: the preset's support (reconSupport) inside the scanner's field-of-view circle. */
  pixels: Int32Array;
  /** Pixels of the body outline + 2 voxels (inside the circle): where image quality is measured. */
  headPixels: Int32Array;
  /** Activity (Bq/ml) and attenuation (1/mm) of the slice. */
  activity: Float32Array;
  mu: Float32Array;
  /** The expected data at 100 %: attenuation factors, trues, scatter + randoms. */
  expected: SliceExpectation;
}

/** The transverse slice of the box with the most activity. */
export function busiestPhantomSlice(phantom: Phantom): number {
  const [nx, ny, nz] = phantom.box.dims;
  let best = 0;
  let bestSum = -1;
  for (let k = 0; k < nz; k++) {
    let s = 0;
    for (let p = k * nx * ny; p < (k + 1) * nx * ny; p++) s += phantom.activity[p];
    if (s > bestSum) [best, bestSum] = [k, s];
  }
  return best;
}

/** Projects slice k of a phantom: the expected sinogram at 100 % counts (as simulatePatient does per slice). */
export function projectSlice(preset: CohortPreset, phantom: Phantom, k: number = busiestPhantomSlice(phantom)): SliceSetup {
  const [nb, , nz] = phantom.box.dims;
  if (!(Number.isInteger(k) && k >= 0 && k < nz)) throw new Error(`projectSlice: slice ${k} outside 0..${nz - 1}`);
  const projector = makeProjector(preset);
  const d = preset.grid.voxelMm;
  const acq = { ...DEFAULT_ACQUISITION, ...preset.acquisition };
  const kappa = countsPerBqMlMm(acq, projector.binMm, d, projector.nAngles);
  const size = nb * nb;
  const off = k * size;
  const head = bodySupport(preset, phantom);
  const support = reconstructionSupport(preset, phantom, head);
  const pixels = Int32Array.from(projector.circlePixels().filter((p) => support[off + p]));
  const headPixels = Int32Array.from(projector.circlePixels().filter((p) => head[off + p]));
  const activity = phantom.activity.slice(off, off + size);
  const mu = phantom.mu.slice(off, off + size);
  return { k, side: nb, pixelMm: d, projector, kappa, pixels, headPixels, activity, mu, expected: expectSlice(projector, activity, mu, kappa, acq, pixels) };
}

/** The preset's clinical post-filter (Gaussian, FWHM in mm) applied to one slice, in-plane. */
export function postFilterSlice(preset: CohortPreset, image: Float32Array, side: number): Float32Array {
  const d = preset.grid.voxelMm;
  return gaussianFilter3d(image, [side, side, 1], [preset.postFilterFwhmMm, preset.postFilterFwhmMm, 0], [d, d, d]);
}

/** Relative noise of an image: RMS difference from a reference over some pixels, over the reference's mean there. */
export function relativeRmsDifference(image: Float32Array, reference: Float32Array, pixels: ArrayLike<number>): number {
  if (image.length !== reference.length) throw new Error(`relativeRmsDifference: image has ${image.length} pixels, reference ${reference.length}`);
  if (pixels.length === 0) throw new Error('relativeRmsDifference: no pixels');
  let se = 0;
  let sum = 0;
  for (let i = 0; i < pixels.length; i++) {
    const p = pixels[i];
    se += (image[p] - reference[p]) ** 2;
    sum += reference[p];
  }
  return Math.sqrt(se / pixels.length) / (sum / pixels.length);
}
