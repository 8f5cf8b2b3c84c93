import { strict as assert } from 'assert';
import { boxAverageTemplate, dilate, distanceTransformSq, NCH, resampleTemplate, TemplateSet } from '../../lib/phantom';

describe('phantom/morphology and resampling', () => {
  it('computes exact squared Euclidean distances and ball dilations', () => {
    const dims: [number, number, number] = [15, 15, 15];
    const mask = new Uint8Array(15 ** 3);
    mask[7 + 15 * (7 + 15 * 7)] = 1;
    const d2 = distanceTransformSq(mask, dims, [2, 2, 2]);
    assert.equal(d2[10 + 15 * (9 + 15 * 7)], 4 * (9 + 4));
    assert.equal(d2[0], 4 * (49 * 3));
    const ball = dilate(mask, dims, [2, 2, 2], 6.5);
    let count = 0;
    for (let i = -7; i <= 7; i++) for (let j = -7; j <= 7; j++) for (let k = -7; k <= 7; k++) if (4 * (i * i + j * j + k * k) <= 6.5 * 6.5) count++;
    assert.equal(ball.reduce((a, b) => a + b, 0), count);
  });

  it('averages a template into PET voxels: a linear ramp is reproduced, a constant stays constant', () => {
    const dims: [number, number, number] = [40, 40, 40];
    const ch = new Float32Array(40 ** 3 * NCH);
    for (let k = 0; k < 40; k++) for (let j = 0; j < 40; j++) for (let i = 0; i < 40; i++) {
      const o = (i + 40 * (j + 40 * k)) * NCH;
      ch[o] = i; // ramp along x (world x = i - 20)
      ch[o + 5] = 1;
    }
    const tpl: TemplateSet = { dims, origin: [-20, -20, -20], channels: ch, uptake: { gm: 4, wm: 1, csf: 0.15 }, files: [] };
    const avg = boxAverageTemplate(tpl, 2.5);
    // A 6^3 box of 2.5 mm voxels centred on the world origin, identity patient transform.
    const boxToWorld = [[2.5, 0, 0, -6.25], [0, 2.5, 0, -6.25], [0, 0, 2.5, -6.25]];
    const I = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]];
    const out = resampleTemplate(avg, [6, 6, 6], boxToWorld, I, 1);
    const out3 = resampleTemplate(tpl, [6, 6, 6], boxToWorld, I, 3);
    for (let i = 0; i < 6; i++) {
      const o = (i + 6 * (2 + 6 * 3)) * NCH;
      const want = 20 + -6.25 + 2.5 * i;
      assert.ok(Math.abs(out[o] - want) < 1e-4, `voxel ${i}: ${out[o]} vs ${want}`);
      assert.ok(Math.abs(out3[o] - want) < 1e-4, `supersampled voxel ${i}: ${out3[o]} vs ${want}`);
      assert.ok(Math.abs(out[o + 5] - 1) < 1e-6);
    }
  });
});
