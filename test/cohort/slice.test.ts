import { strict as assert } from 'assert';
import { getPreset } from '../../lib/cohort/presets';
import { postFilterSlice, relativeRmsDifference } from '../../lib/cohort/slice';
import { reconstructionSupport } from '../../lib/cohort/simulate';
import type { Phantom } from '../../lib/phantom';

describe('cohort/slice helpers', () => {
  it('relativeRmsDifference: RMS of the differences over the chosen pixels, over the reference mean there', () => {
    const ref = Float32Array.from([2, 4, 100]);
    const img = Float32Array.from([3, 2, 0]);
    // pixels 0 and 1: differences 1 and -2 -> RMS sqrt(5/2); reference mean 3
    assert.ok(Math.abs(relativeRmsDifference(img, ref, [0, 1]) - Math.sqrt(2.5) / 3) < 1e-12);
    assert.throws(() => relativeRmsDifference(img, ref, []), /no pixels/);
    assert.throws(() => relativeRmsDifference(img, Float32Array.from([1]), [0]), /image has 3 pixels, reference 1/);
  });

  it("reconstructionSupport: the whole grid for 'fov', the body outline + 2 voxels for 'body', an error otherwise", () => {
    const preset = getPreset('quick'); // 2.09 mm voxels
    const dims: [number, number, number] = [9, 9, 3];
    const head = new Uint8Array(9 * 9 * 3);
    head[4 + 9 * (4 + 9 * 1)] = 1; // one voxel in the middle
    const ph = { head, box: { dims, offset: [0, 0, 0] } } as unknown as Phantom;
    assert.ok(reconstructionSupport({ ...preset, reconSupport: 'fov' }, ph).every((v) => v === 1));
    const body = reconstructionSupport({ ...preset, reconSupport: 'body' }, ph);
    // 2 voxels (4.18 mm) around the voxel: a ball of radius 2 in voxel units (its rim, at exactly 2, not checked)
    for (let k = 0; k < 3; k++) for (let j = 0; j < 9; j++) for (let i = 0; i < 9; i++) {
      const r2 = (i - 4) ** 2 + (j - 4) ** 2 + (k - 1) ** 2;
      if (r2 !== 4) assert.equal(body[i + 9 * (j + 9 * k)], r2 < 4 ? 1 : 0, `voxel ${i},${j},${k}`);
    }
    assert.throws(() => reconstructionSupport({ ...preset, reconSupport: 'disc' as never }, ph), /reconstruction support must be one of fov, body, got "disc"/);
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
