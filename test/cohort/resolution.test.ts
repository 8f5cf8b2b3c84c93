import { strict as assert } from 'assert';
import { getPreset, measurePointSourceFwhm, noiseCorrelation, profileFwhm } from '../../lib/cohort';
import { axialBlurSinograms, countsPerBqMlMm, DEFAULT_ACQUISITION, expectVolume, fwhmToSigma, ParallelProjector, RadialBlur } from '../../lib/recon';
import { Rng } from '../../lib/util/rng';

describe('cohort/resolution: axial detector blur, point-source FWHM, noise autocorrelation', function () {
  this.timeout(60000);

  it('blurs a stack of sinograms along z with the sampled Gaussian (one bin lit in one slice)', () => {
    const stack = Array.from({ length: 9 }, () => new Float32Array(3));
    stack[4][1] = 1;
    // FWHM 2.355 mm at 1 mm slices: sigma 1 slice, taps exp(-t^2/2) normalised over |t| <= 4
    const out = axialBlurSinograms(stack, 2 * Math.sqrt(2 * Math.LN2), 1);
    const raw = [-4, -3, -2, -1, 0, 1, 2, 3, 4].map((t) => Math.exp(-(t * t) / 2));
    const sum = raw.reduce((a, b) => a + b, 0);
    out.forEach((s, k) => {
      assert.ok(Math.abs(s[1] - raw[k] / sum) < 1e-6, `slice ${k}`);
      assert.equal(s[0], 0);
    });
    assert.throws(() => axialBlurSinograms([new Float32Array(3), new Float32Array(4)], 4.5, 2), /sinogram 1 has 4 bins, expected 3/);
  });

  it('gives the expected data of an explicit 3-D model (each voxel projected, then spread over slices) on a small volume', () => {
    const n = 12, nz = 7, d = 2;
    const projector = new ParallelProjector({ n, pixelMm: d, nAngles: 6 });
    const acq = { ...DEFAULT_ACQUISITION, scatterFraction: 0, randomsFraction: 0 };
    const kappa = countsPerBqMlMm(acq, projector.binMm, d, projector.nAngles);
    const rng = new Rng(3);
    const activity = new Float32Array(n * n * nz).map(() => rng.uniform(0, 10));
    const mu = new Float32Array(activity.length);
    const support = new Uint8Array(activity.length).fill(1);
    const got = expectVolume(projector, activity, mu, support, nz, kappa, acq, d);
    assert.equal(got.length, nz);
    // The 3-D model, voxel by voxel: radial blur of the voxel's projection, axial Gaussian weight
    // exp(-(dz)^2 / 2 sigma^2) (normalised over the kernel's taps) to every slice.
    const sigma = fwhmToSigma(acq.axialFwhmMm) / d;
    const radius = Math.ceil(4 * sigma);
    let norm = 0;
    for (let t = -radius; t <= radius; t++) norm += Math.exp(-(t * t) / (2 * sigma * sigma));
    const blur = new RadialBlur(projector.nAngles, projector.nBins, acq.detectorFwhmMm, projector.binMm);
    const circle = projector.circlePixels();
    const expected = Array.from({ length: nz }, () => new Float64Array(projector.sinogramSize));
    for (let k = 0; k < nz; k++) {
      for (const p of circle) {
        const one = new Float32Array(n * n);
        one[p] = activity[k * n * n + p];
        const proj = blur.apply(projector.forward(one, Int32Array.of(p)));
        for (let k2 = Math.max(0, k - radius); k2 <= Math.min(nz - 1, k + radius); k2++) {
          const w = Math.exp(-((k2 - k) ** 2) / (2 * sigma * sigma)) / norm;
          for (let i = 0; i < proj.length; i++) expected[k2][i] += kappa * w * proj[i];
        }
      }
    }
    let maxErr = 0, maxVal = 0;
    got.forEach((s) => {
      for (let i = 0; i < s.trues.length; i++) {
        maxErr = Math.max(maxErr, Math.abs(s.trues[i] - expected[s.k][i]));
        maxVal = Math.max(maxVal, expected[s.k][i]);
      }
    });
    assert.ok(maxErr < 1e-4 * maxVal, `max error ${maxErr} of ${maxVal}`);
  });

  it('reads the FWHM of a sampled Gaussian profile (NEMA: parabolic peak, linear half-max)', () => {
    // sigma 3 samples: FWHM 7.06; linear interpolation at this sampling is within 2 %
    const p = Array.from({ length: 41 }, (_, i) => Math.exp(-((i - 20.3) ** 2) / (2 * 9)));
    const f = profileFwhm(p);
    assert.ok(Math.abs(f - 2.3548 * 3) < 0.02 * 7.06, `${f}`);
    assert.throws(() => profileFwhm([3, 2, 1]), /edge/);
  });

  it('measures the noise autocorrelation: white noise ~0, a 2-tap smoothing along x gives lag-1 0.5 along x only', () => {
    const dims: [number, number, number] = [40, 40, 40];
    const rng = new Rng(7);
    const white = new Float32Array(40 ** 3).map(() => rng.normal());
    const smooth = new Float32Array(white.length);
    for (let v = 0; v < white.length; v++) smooth[v] = (white[v] + (v % 40 < 39 ? white[v + 1] : rng.normal())) / Math.SQRT2;
    const zero = new Float32Array(white.length);
    const mask = new Uint8Array(white.length).fill(1);
    const w = noiseCorrelation(white, zero, mask, dims, 2);
    for (const r of [w.lag1.x, w.lag1.y, w.lag1.z]) assert.ok(Math.abs(r) < 0.02, `${r}`);
    const s = noiseCorrelation(smooth, zero, mask, dims, 2);
    assert.ok(Math.abs(s.lag1.x - 0.5) < 0.02, `${s.lag1.x}`);
    assert.ok(Math.abs(s.lag1.y) < 0.02 && Math.abs(s.lag1.z) < 0.02);
    // Gaussian-autocorrelation width of rho = 0.5 at 2 mm: 2.355 x 2 / sqrt(2 ln 2) = 4 mm
    assert.ok(Math.abs(s.fwhmMm.x - 4) < 0.15, `${s.fwhmMm.x}`);
  });

  it('reconstructs an axial point source with an axial FWHM within 20 % of the in-plane FWHM (quick preset); not so without the axial blur', () => {
    const quick = getPreset('quick');
    const r = measurePointSourceFwhm(quick, { n: 32, nz: 13 });
    assert.ok(r.inPlane > 4.5 && r.inPlane < 9, `in-plane ${r.inPlane}`);
    assert.ok(Math.abs(r.axial - r.inPlane) <= 0.2 * r.inPlane, `axial ${r.axial.toFixed(2)} mm vs in-plane ${r.inPlane.toFixed(2)} mm`);
    const without = measurePointSourceFwhm({ ...quick, acquisition: { axialFwhmMm: 0 } }, { n: 32, nz: 13 });
    assert.ok(without.axial < 0.8 * without.inPlane, `without the axial blur: axial ${without.axial.toFixed(2)} vs ${without.inPlane.toFixed(2)}`);
  });
});
