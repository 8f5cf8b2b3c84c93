import { strict as assert } from 'assert';
import {
  bqPerMlPerSuv,
  boxAverageTemplate,
  buildPhantom,
  centredBox,
  CH,
  IDENTITY_TRANSFORM,
  NCH,
  PatientPhantomParams,
  TemplateSet,
} from '../../lib/phantom';
import { sharedTemplate } from './template-cache';

describe('phantom/template and buildPhantom (ICBM 2009c assets)', function () {
  let tpl: TemplateSet;
  let avg: TemplateSet;
  before(() => {
    tpl = sharedTemplate();
    avg = boxAverageTemplate(tpl, 4.18);
  });

  it('derives grey matter of about 969 mL and tissue fractions that never exceed 1', () => {
    let gm = 0, maxSum = 0, adVox = 0;
    for (let v = 0; v < tpl.channels.length / NCH; v++) {
      const o = v * NCH;
      gm += tpl.channels[o + CH.gm];
      maxSum = Math.max(maxSum, tpl.channels[o + CH.gm] + tpl.channels[o + CH.wm]);
      if (tpl.channels[o + CH.adLeft] > 0 || tpl.channels[o + CH.adRight] > 0) adVox++;
    }
    assert.ok(gm / 1000 > 900 && gm / 1000 < 1050, `GM ${gm / 1000} mL`);
    assert.ok(maxSum <= 1 + 1e-6);
    assert.ok(adVox > 50000, `pattern voxels ${adVox}`);
  });

  it('computes Bq/ml per SUV from dose, weight and decay', () => {
    // 200 MBq, 80 kg, one half-life after injection: 100e6 Bq / 80e3 g = 1250 Bq/ml per SUV.
    assert.ok(Math.abs(bqPerMlPerSuv(200, 80, 109.77) - 1250) < 1e-6);
    assert.throws(() => bqPerMlPerSuv(0, 80, 10), /injectedMBq must be > 0/);
  });

  const base: PatientPhantomParams = {
    transform: IDENTITY_TRANSFORM,
    wmSuv: 1.7,
    adSeverity: 0,
    adAsymmetry: [1, 1],
    injectedMBq: 230,
    weightKg: 75,
    scanStartMin: 98,
  };
  const grid = { dims: [56, 56, 44] as [number, number, number], voxelMm: 4.18, centreMm: [0, -18, 6] as [number, number, number] };

  it('fills the brain with GM:WM uptake near 4:1 in Bq/ml, wraps it in a water head, and a pattern lowers its regions', () => {
    const box = centredBox(grid, 56);
    const ph = buildPhantom(avg, grid, box, base);
    const pure = (sel: (v: number) => boolean) => {
      let s = 0, n = 0;
      for (let v = 0; v < ph.activity.length; v++) if (sel(v)) { s += ph.activity[v]; n++; }
      return s / n;
    };
    const wm = pure((v) => ph.wm[v] > 0.9);
    const gm = pure((v) => ph.gm[v] > 0.75);
    const unit = 1.7 * bqPerMlPerSuv(230, 75, 98);
    assert.ok(Math.abs(wm / unit - 1) < 0.15, `WM ${wm} vs ${unit}`);
    assert.ok(gm / wm > 2.8 && gm / wm < 4.2, `GM/WM ${gm / wm}`);
    let headOnly = 0, brainInHead = true, bone = 0, air = 0, water = 0;
    const muWater = 0.0096;
    for (let v = 0; v < ph.activity.length; v++) {
      if (ph.brain[v] >= 0.5 && !ph.head[v]) brainInHead = false;
      if (ph.brain[v] === 1) assert.ok(Math.abs(ph.mu[v] - muWater) < 1e-9);
      if (ph.head[v] && ph.brain[v] === 0) {
        headOnly++;
        // pure tissue outside the brain: skull (bone), soft tissue (water) or air cavities
        if (Math.abs(ph.mu[v] - 0.0151) < 1e-9) bone++;
        else if (ph.mu[v] === 0) air++;
        else if (Math.abs(ph.mu[v] - muWater) < 1e-9) water++;
      }
    }
    assert.ok(brainInHead);
    assert.ok(headOnly > 1000, `voxels outside the brain ${headOnly}`);
    assert.ok(bone > 200 && water > bone && air > 10, `bone ${bone}, soft ${water}, air ${air}`);

    const ad = buildPhantom(avg, grid, box, { ...base, adSeverity: 0.3 });
    let inPattern = 0, inPatternAd = 0, spared = 0, sparedAd = 0;
    for (let v = 0; v < ph.activity.length; v++) {
      if (ph.gm[v] > 0.5 && ph.adWeight[v] > 0.8) { inPattern += ph.activity[v]; inPatternAd += ad.activity[v]; }
      if (ph.gm[v] > 0.5 && ph.adWeight[v] === 0) { spared += ph.activity[v]; sparedAd += ad.activity[v]; }
    }
    const drop = 1 - inPatternAd / inPattern;
    assert.ok(drop > 0.15 && drop < 0.3, `pattern regions drop by ${drop}`);
    assert.ok(Math.abs(1 - sparedAd / spared) < 0.01, 'spared regions unchanged');
  });

  it('moves the phantom with the patient transform', () => {
    const box = centredBox(grid, 56);
    const a = buildPhantom(avg, grid, box, base);
    const b = buildPhantom(avg, grid, box, { ...base, transform: { scale: [1, 1, 1], rotationDeg: [0, 0, 0], shiftMm: [4.18 * 2, 0, 0] } });
    const [nx] = box.dims;
    // Shifted by exactly 2 voxels along x: b(i + 2) == a(i) away from the edges.
    let maxDiff = 0, maxVal = 0;
    for (let v = 0; v < a.activity.length; v++) {
      const i = v % nx;
      if (i < 2 || i >= nx - 2) continue;
      maxDiff = Math.max(maxDiff, Math.abs(b.activity[v] - a.activity[v - 2]));
      maxVal = Math.max(maxVal, a.activity[v]);
    }
    assert.ok(maxDiff < 1e-3 * maxVal, `max difference ${maxDiff}`);
  });
});
