import { strict as assert } from 'assert';
import { getPreset, syntheticPatients } from '../../lib/cohort';
import { sampleNormalizedPatches } from '../../lib/patches/sampler';
import { boxAverageTemplate, buildPhantom, centredBox, gridAffine, insideShape, DEFAULT_BODY_SHAPES } from '../../lib/phantom';
import { gaussianFilter3d } from '../../lib/recon';
import { Rng } from '../../lib/util/rng';
import { sharedTemplate } from '../phantom/template-cache';

describe('cohort: field of view of the paper preset (head, neck, shoulders)', function () {
  this.timeout(300000);

  it('places organs inside the body outline and air inside the head', () => {
    const outline = DEFAULT_BODY_SHAPES.filter((s) => s.outline);
    for (const s of DEFAULT_BODY_SHAPES.filter((x) => !x.outline)) {
      assert.ok(outline.some((o) => insideShape(o, s.centre)), `${s.name} lies outside the outline`);
    }
    assert.ok(insideShape(DEFAULT_BODY_SHAPES.find((s) => s.name === 'neck')!, [0, -12, -100]));
    assert.ok(!insideShape(DEFAULT_BODY_SHAPES.find((s) => s.name === 'neck')!, [0, -12, 0]));
  });

  it('lets 200-500 of 1000 random 80 x 80 patches per plane (coronal: 150-500) pass the 1/8-of-volume-mean rule on a paper-grid phantom', () => {
    const preset = getPreset('paper');
    const grid = preset.grid;
    const d = grid.voxelMm;
    const tpl = boxAverageTemplate(sharedTemplate(), d);
    const box = centredBox(grid, preset.fovSide);
    const ph = buildPhantom(tpl, grid, box, syntheticPatients(1)[0].phantom);
    // The noise-free image at the system's resolution (point-source FWHM about 6.4 mm, cohort report).
    const img = gaussianFilter3d(ph.activity, box.dims, 6.4, [d, d, d]);
    const full = new Float32Array(grid.dims[0] * grid.dims[1] * grid.dims[2]);
    const [bx, by, bz] = box.dims;
    for (let k = 0; k < bz; k++) {
      for (let j = 0; j < by; j++) {
        const src = bx * (j + by * k);
        full.set(img.subarray(src, src + bx), box.offset[0] + grid.dims[0] * (box.offset[1] + j + grid.dims[1] * k));
      }
    }
    const vol = { data: full, dims: grid.dims, voxelSize: [d, d, d] as [number, number, number], affine: gridAffine(grid), units: 'Bq/ml' };
    const s = sampleNormalizedPatches(vol, { size: 80, keep: 1 }, new Rng(1), 'paper phantom');
    const survivors = Object.fromEntries(s.stats.map((p) => [p.plane, p.survivors]));
    const all = JSON.stringify(survivors);
    assert.ok(survivors.sagittal >= 200 && survivors.sagittal <= 500, `sagittal: ${all}`);
    assert.ok(survivors.transverse >= 200 && survivors.transverse <= 500, `transverse: ${all}`);
    // Coronal falls a little short of the paper's 200 (about 185): the body's AP extent (~260 mm)
    // spans only 37 % of the 719 mm matrix. Reconstructing the whole FOV circle does not change it
    // (OSEM leaves 0.1-2 Bq/ml in air against a ~20 Bq/ml threshold; docs/synthetic-cohort.md), so
    // this phantom still stands for the reconstructions (paper cohort median coronal 194).
    assert.ok(survivors.coronal >= 150 && survivors.coronal <= 500, `coronal: ${all}`);
  });
});
