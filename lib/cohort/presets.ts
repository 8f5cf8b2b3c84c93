/**
 * Cohort presets. All keep the 13 patients and the 7 count levels; they differ in grid and sampling.
 */
import type { AcquisitionConfig, OsemConfig } from '../recon';
import { DEFAULT_CENTRE_MM, PetGrid } from '../phantom';

export type CohortPresetName = 'smoke' | 'quick' | 'paper';

/**
 * The pixels OSEM estimates in each slice. 'body' (default): the body outline + 2 voxels, air exactly
 * zero. 'fov': the whole transaxial field-of-view circle (the inscribed circle of the simulated
 * square), as a scanner reconstructs it; air then keeps OSEM's own background, measured at
 * 0.1-2 Bq/ml on the paper grid (about 1 % of the patch sampler's threshold), so images, metrics and
 * patch survivors barely change while OSEM costs about 3 x more on the paper grid
 * (docs/synthetic-cohort.md, "Reconstructing the whole field of view").
 */
export type ReconSupport = 'fov' | 'body';
export const RECON_SUPPORTS: readonly ReconSupport[] = ['fov', 'body'];

export interface CohortPreset {
  name: CohortPresetName;
  /** The written image grid. */
  grid: PetGrid;
  /** Side (voxels) of the centred transverse square that is simulated and reconstructed; the rest is zero-filled. */
  fovSide: number;
  /** Pixels reconstructed per slice (see ReconSupport). Default 'body'. */
  reconSupport?: ReconSupport;
  /** Projection angles over 180 degrees (a multiple of the 21 subsets). */
  nAngles: number;
  /** FWHM (mm) of the 3-D Gaussian post-filter. */
  postFilterFwhmMm: number;
  /** Patch size the downstream stages should use with this cohort. */
  patchSize: number;
  acquisition?: AcquisitionConfig;
  osem?: OsemConfig;
  description: string;
}

export const COHORT_PRESETS: Record<CohortPresetName, CohortPreset> = {
  smoke: {
    name: 'smoke',
    grid: { dims: [44, 44, 36], voxelMm: 5.225, centreMm: DEFAULT_CENTRE_MM },
    fovSide: 44,
    nAngles: 42,
    postFilterFwhmMm: 4,
    patchSize: 32,
    description: 'tiny: 44x44x36 voxels of 5.225 mm (2.5 x 2.09), 42 angles; for tests and pipeline checks (patch size 32)',
  },
  quick: {
    name: 'quick',
    grid: { dims: [112, 112, 88], voxelMm: 2.09, centreMm: DEFAULT_CENTRE_MM },
    fovSide: 112,
    nAngles: 42,
    postFilterFwhmMm: 4,
    patchSize: 80,
    description: '112x112x88 voxels of 2.09 mm (80x80 patches fit in every plane), 42 angles (half the paper preset\'s angular sampling, for speed)',
  },
  paper: {
    name: 'paper',
    // The head at the top of the axial FOV (vertex ~10 mm below the top slice), the neck and the
    // upper shoulders below it, as a brain PET-MR positions the patient.
    grid: { dims: [344, 344, 127], voxelMm: 2.09, centreMm: [DEFAULT_CENTRE_MM[0], DEFAULT_CENTRE_MM[1], -50] },
    fovSide: 232,
    nAngles: 84,
    postFilterFwhmMm: 4,
    patchSize: 80,
    description:
      "the paper's protocol: 344x344x127 voxels of 2.09 mm, OSEM 2 it x 21 subsets, 4 mm post-filter; head, neck and upper shoulders " +
      'in the field of view; the central 485 mm (232 bins) holding the body is simulated with 84 angles (the mMR\'s 252 angles : 344 bins ratio)',
  },
};

export function getPreset(name: string): CohortPreset {
  const p = (COHORT_PRESETS as Record<string, CohortPreset>)[name];
  if (!p) throw new Error(`unknown cohort preset "${name}" (choose one of ${Object.keys(COHORT_PRESETS).join(', ')})`);
  return p;
}
