import { strict as assert } from 'assert';
import { ParallelProjector, RadialBlur, allAngles } from '../../lib/recon';
import { Rng } from '../../lib/util/rng';

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

describe('recon/ParallelProjector', () => {
  const P = new ParallelProjector({ n: 24, pixelMm: 2, nAngles: 21 });

  it('forward and back projection are exactly adjoint: <Ax, y> = <x, A^T y>', () => {
    const rng = new Rng(7);
    for (let trial = 0; trial < 3; trial++) {
      const x = Float32Array.from({ length: P.nPix }, () => rng.normal());
      const y = Float32Array.from({ length: P.sinogramSize }, () => rng.normal());
      const lhs = dot(P.forward(x), y);
      const rhs = dot(x, P.back(y));
      assert.ok(Math.abs(lhs - rhs) <= 1e-5 * (Math.abs(lhs) + 1), `<Ax,y>=${lhs} <x,ATy>=${rhs}`);
    }
  });

  it('stays adjoint on a pixel subset and a subset of angles, and with the detector blur', () => {
    const rng = new Rng(8);
    const pixels = P.circlePixels();
    const angles = P.subsetAngles(3, 7);
    const blur = new RadialBlur(P.nAngles, P.nBins, 4.5, P.binMm);
    const x = new Float32Array(P.nPix);
    for (const p of pixels) x[p] = rng.normal();
    const y = Float32Array.from({ length: P.sinogramSize }, () => rng.normal());
    const ax = new Float32Array(P.sinogramSize);
    P.forwardAdd(x, ax, angles, pixels);
    const bax = blur.apply(ax, angles);
    const aty = new Float32Array(P.nPix);
    P.backAdd(blur.apply(y, angles), aty, angles, pixels);
    const lhs = dot(bax, y);
    const rhs = dot(x, aty);
    assert.ok(Math.abs(lhs - rhs) <= 1e-5 * (Math.abs(lhs) + 1), `${lhs} vs ${rhs}`);
  });

  it('projects each pixel with total weight pixelArea / binWidth at every angle (strip integrals)', () => {
    const x = new Float32Array(P.nPix);
    const c = (P.n - 1) / 2;
    for (let iy = 0; iy < P.n; iy++) for (let ix = 0; ix < P.n; ix++) if ((ix - c) ** 2 + (iy - c) ** 2 < 64) x[iy * P.n + ix] = 1;
    const npix = x.reduce((s, v) => s + v, 0);
    const y = P.forward(x);
    for (const a of allAngles(P.nAngles)) {
      let s = 0;
      for (let b = 0; b < P.nBins; b++) s += y[a * P.nBins + b];
      assert.ok(Math.abs(s - (npix * 4) / 2) < 1e-3 * s, `angle ${a}: ${s}`);
    }
  });

  it('gives the chord length through a uniform disc at its centre (line integral in mm)', () => {
    const Q = new ParallelProjector({ n: 64, pixelMm: 1, nAngles: 8 });
    const x = new Float32Array(Q.nPix);
    const c = (Q.n - 1) / 2;
    const R = 20;
    for (let iy = 0; iy < Q.n; iy++) for (let ix = 0; ix < Q.n; ix++) if ((ix - c) ** 2 + (iy - c) ** 2 <= R * R) x[iy * Q.n + ix] = 1;
    const y = Q.forward(x);
    // Bins nBins/2 - 1 and nBins/2 straddle s = 0; their mean chord is close to the diameter.
    for (const a of [0, 2, 5]) {
      const mid = (y[a * Q.nBins + Q.nBins / 2 - 1] + y[a * Q.nBins + Q.nBins / 2]) / 2;
      assert.ok(Math.abs(mid - 2 * R) < 1.0, `angle ${a}: ${mid} vs ${2 * R}`);
    }
  });

  it('rejects a subset count that does not divide the angles', () => {
    assert.throws(() => P.subsetAngles(0, 4), /not a multiple of 4 subsets/);
  });
});
