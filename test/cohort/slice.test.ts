import { strict as assert } from 'assert';
import { getPreset } from '../../lib/cohort/presets';
import { postFilterSlice, relativeRmsDifference } from '../../lib/cohort/slice';

describe('cohort/slice helpers', () => {
  it('relativeRmsDifference: RMS of the differences over the chosen pixels, over the reference mean there', () => {
    const ref = Float32Array.from([2, 4, 100]);
    const img = Float32Array.from([3, 2, 0]);
    // pixels 0 and 1: differences 1 and -2 -> RMS sqrt(5/2); reference mean 3
    assert.ok(Math.abs(relativeRmsDifference(img, ref, [0, 1]) - Math.sqrt(2.5) / 3) < 1e-12);
    assert.throws(() => relativeRmsDifference(img, ref, []), /no pixels/);
    assert.throws(() => relativeRmsDifference(img, Float32Array.from([1]), [0]), /image has 3 pixels, reference 1/);
  });

  it('postFilterSlice: the preset FWHM in-plane; a central impulse keeps its sum and spreads symmetrically', () => {
    const preset = getPreset('quick'); // 2.09 mm voxels, 4 mm FWHM
    const side = 21;
    const img = new Float32Array(side * side);
    img[10 * side + 10] = 1;
    const out = postFilterSlice(preset, img, side);
    const sum = out.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum - 1) < 1e-5, `sum ${sum}`);
    assert.ok(Math.abs(out[10 * side + 9] - out[10 * side + 11]) < 1e-7 && Math.abs(out[9 * side + 10] - out[10 * side + 9]) < 1e-7);
    // Gaussian with sigma = 4 / 2.3548 / 2.09 = 0.813 voxels: neighbour / centre = exp(-1 / (2 sigma^2)) (sampled kernel, same in x and y)
    const sigma = 4 / (2 * Math.sqrt(2 * Math.LN2)) / 2.09;
    assert.ok(Math.abs(out[10 * side + 11] / out[10 * side + 10] - Math.exp(-1 / (2 * sigma * sigma))) < 1e-4);
  });
});
