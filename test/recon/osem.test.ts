import { strict as assert } from 'assert';
import { countsPerBqMlMm, DEFAULT_ACQUISITION, expectSlice, ParallelProjector, poissonRealisation, SliceReconstructor } from '../../lib/recon';
import { Rng } from '../../lib/util/rng';

/** A slice with a hot disc in a warm ellipse, water attenuation. */
function phantomSlice(P: ParallelProjector) {
  const act = new Float32Array(P.nPix);
  const mu = new Float32Array(P.nPix);
  const c = (P.n - 1) / 2;
  for (let iy = 0; iy < P.n; iy++) {
    for (let ix = 0; ix < P.n; ix++) {
      const r = ((ix - c) / (P.n * 0.36)) ** 2 + ((iy - c) / (P.n * 0.42)) ** 2;
      if (r < 1) {
        act[iy * P.n + ix] = (ix - c - 4) ** 2 + (iy - c) ** 2 < 16 ? 20000 : 5000;
        mu[iy * P.n + ix] = 0.0096;
      }
    }
  }
  return { act, mu };
}

describe('recon/OSEM', () => {
  it('lowers the error to the true image at every iteration on noiseless data (matched model)', () => {
    const P = new ParallelProjector({ n: 40, pixelMm: 2.09, nAngles: 42 });
    const { act, mu } = phantomSlice(P);
    const pixels = P.circlePixels();
    const cfg = { ...DEFAULT_ACQUISITION, detectorFwhmMm: 0 };
    const kappa = countsPerBqMlMm(cfg, P.binMm, 2.09, P.nAngles);
    const e = expectSlice(P, act, mu, kappa, cfg, pixels);
    const y = e.trues.map((t, i) => t + e.background[i]);
    const R = new SliceReconstructor(P, e.att, pixels, { iterations: 6, subsets: 21 });
    const errs: number[] = [];
    const err = (x: Float32Array) => {
      let s = 0;
      for (const p of pixels) s += (x[p] - act[p]) ** 2;
      return Math.sqrt(s);
    };
    // The uniform start image has the same total activity as the data.
    R.reconstruct(y, kappa, e.background, (it, img) => errs.push(err(img)));
    const init = new Float32Array(P.nPix);
    const mean = pixels.reduce((s, p) => s + act[p], 0) / pixels.length;
    for (const p of pixels) init[p] = mean;
    errs.unshift(err(init));
    for (let i = 1; i < errs.length; i++) assert.ok(errs[i] < errs[i - 1], `iteration ${i}: error ${errs[i]} >= ${errs[i - 1]} (${errs.join(', ')})`);
    assert.ok(errs[errs.length - 1] < 0.5 * errs[0]);
  });

  it('reconstructs a uniform water cylinder to its Bq/ml within 3 % at 100 % counts (attenuation, scatter, randoms, blur)', () => {
    const P = new ParallelProjector({ n: 64, pixelMm: 2.09, nAngles: 42 });
    const act = new Float32Array(P.nPix);
    const mu = new Float32Array(P.nPix);
    const c = (P.n - 1) / 2;
    const R0 = 25; // voxels: a 10.5 cm cylinder
    const conc = 8000;
    for (let iy = 0; iy < P.n; iy++) for (let ix = 0; ix < P.n; ix++) if ((ix - c) ** 2 + (iy - c) ** 2 <= R0 * R0) {
      act[iy * P.n + ix] = conc;
      mu[iy * P.n + ix] = 0.0096;
    }
    const pixels = P.circlePixels();
    const kappa = countsPerBqMlMm(DEFAULT_ACQUISITION, P.binMm, 2.09, P.nAngles);
    const e = expectSlice(P, act, mu, kappa, DEFAULT_ACQUISITION, pixels);
    const rng = new Rng(11);
    const R = new SliceReconstructor(P, e.att, pixels, { iterations: 2, subsets: 21 });
    // Average a few slices (independent noise) of the same cylinder, central region only.
    let s = 0, n = 0;
    for (let slice = 0; slice < 4; slice++) {
      const y = poissonRealisation(e.trues.map((t, i) => t + e.background[i]), rng);
      const img = R.reconstruct(y, kappa, e.background);
      for (let iy = 0; iy < P.n; iy++) for (let ix = 0; ix < P.n; ix++) if ((ix - c) ** 2 + (iy - c) ** 2 <= 15 * 15) {
        s += img[iy * P.n + ix];
        n++;
      }
    }
    const mean = s / n;
    if (process.env.PET_IQA_VERBOSE) console.log(`cylinder mean ${mean.toFixed(1)} Bq/ml (true ${conc})`);
    assert.ok(Math.abs(mean - conc) < 0.03 * conc, `mean ${mean.toFixed(0)} Bq/ml vs ${conc}`);
  });
});
