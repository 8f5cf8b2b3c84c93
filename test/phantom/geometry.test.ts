import { strict as assert } from 'assert';
import { centredBox, gridAffine, IDENTITY_TRANSFORM, patientToTemplate, randomTransform } from '../../lib/phantom';
import { Rng } from '../../lib/util/rng';

function apply(M: number[][], p: number[]): number[] {
  return [0, 1, 2].map((r) => M[r][0] * p[0] + M[r][1] * p[1] + M[r][2] * p[2] + M[r][3]);
}

describe('phantom/geometry', () => {
  it('puts the grid centre at centreMm with voxelMm spacing', () => {
    const grid = { dims: [344, 344, 127] as [number, number, number], voxelMm: 2.09, centreMm: [0, -18, 6] as [number, number, number] };
    const A = gridAffine(grid);
    const centre = apply(A, [(344 - 1) / 2, (344 - 1) / 2, (127 - 1) / 2]);
    centre.forEach((v, i) => assert.ok(Math.abs(v - grid.centreMm[i]) < 1e-9));
    assert.equal(A[0][0], 2.09);
    assert.deepEqual(centredBox(grid, 112).offset, [116, 116, 0]);
    assert.throws(() => centredBox(grid, 400), /exceeds the grid/);
  });

  it('maps the patient back onto the template: identity is the identity, a pure shift moves points by -shift', () => {
    const c: [number, number, number] = [0, -18, 6];
    const I = patientToTemplate(IDENTITY_TRANSFORM, c);
    assert.deepEqual(apply(I, [10, 20, 30]).map((v) => +v.toFixed(9)), [10, 20, 30]);
    const S = patientToTemplate({ scale: [1, 1, 1], rotationDeg: [0, 0, 0], shiftMm: [3, -2, 5] }, c);
    assert.deepEqual(apply(S, [10, 20, 30]).map((v) => +v.toFixed(9)), [7, 22, 25]);
    // A 2x scale about the centre halves distances from it in template space.
    const Z = patientToTemplate({ scale: [2, 2, 2], rotationDeg: [0, 0, 0], shiftMm: [0, 0, 0] }, c);
    assert.deepEqual(apply(Z, [c[0] + 10, c[1], c[2]]).map((v) => +v.toFixed(9)), [5, -18, 6]);
  });

  it('draws transforms within the configured spread, the same for the same seed', () => {
    const a = randomTransform(new Rng(5));
    const b = randomTransform(new Rng(5));
    assert.deepEqual(a, b);
    for (let s = 0; s < 50; s++) {
      const t = randomTransform(new Rng(s), { scaleSd: 0.03, rotationSdDeg: 3, shiftSdMm: 3 });
      t.scale.forEach((v) => assert.ok(Math.abs(v - 1) <= 0.075 + 1e-12));
      t.rotationDeg.forEach((v) => assert.ok(Math.abs(v) <= 7.5 + 1e-12));
    }
  });
});
