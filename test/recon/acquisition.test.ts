import { strict as assert } from 'assert';
import {
  binomialThin,
  countsPerBqMlMm,
  DEFAULT_ACQUISITION,
  expectSlice,
  ParallelProjector,
  poissonRealisation,
  reconstructionBackground,
  thinToLevels,
} from '../../lib/recon';
import { Rng } from '../../lib/util/rng';

function meanVar(x: Float32Array): [number, number] {
  let s = 0, s2 = 0;
  for (const v of x) {
    s += v;
    s2 += v * v;
  }
  const m = s / x.length;
  return [m, s2 / x.length - m * m];
}

describe('recon/acquisition', () => {
  it('binomial thinning keeps p of the mean count with binomial variance n p (1 - p)', () => {
    const n = 40000;
    const rng = new Rng(3);
    for (const [count, p] of [[200, 0.25], [7, 0.5], [1000, 0.01]] as const) {
      const full = new Float32Array(n).fill(count);
      const thin = binomialThin(full, p, rng);
      const [m, v] = meanVar(thin);
      const se = Math.sqrt((count * p * (1 - p)) / n);
      assert.ok(Math.abs(m - count * p) < 4 * se, `n=${count} p=${p}: mean ${m} vs ${count * p}`);
      const vTrue = count * p * (1 - p);
      assert.ok(Math.abs(v - vTrue) < 0.05 * vTrue, `n=${count} p=${p}: variance ${v} vs ${vTrue}`);
    }
  });

  it('makes nested count levels: every level is a subset of the next higher one, means scale with the level', () => {
    const n = 20000;
    const rng = new Rng(4);
    const expected = new Float32Array(n).fill(500);
    const full = poissonRealisation(expected, rng);
    const levels = thinToLevels(full, [0.5, 1, 5, 10, 25, 50, 100], rng);
    const sorted = [100, 50, 25, 10, 5, 1, 0.5];
    for (let i = 1; i < sorted.length; i++) {
      const hi = levels.get(sorted[i - 1])!;
      const lo = levels.get(sorted[i])!;
      for (let b = 0; b < n; b++) assert.ok(lo[b] <= hi[b], `level ${sorted[i]} exceeds ${sorted[i - 1]} at bin ${b}`);
    }
    for (const level of sorted) {
      const [m, v] = meanVar(levels.get(level)!);
      const mu = (500 * level) / 100;
      // Thinning a Poisson count gives a Poisson count: mean = variance = 500 * level / 100.
      assert.ok(Math.abs(m - mu) < 4 * Math.sqrt(mu / n), `level ${level}: mean ${m} vs ${mu}`);
      assert.ok(Math.abs(v - mu) < 0.06 * mu, `level ${level}: variance ${v} vs ${mu}`);
    }
  });

  it('rejects non-integer counts and a level list without 100', () => {
    assert.throws(() => binomialThin(Float32Array.from([1.5]), 0.5, new Rng(1)), /counts\[0\] = 1.5/);
    assert.throws(() => thinToLevels(new Float32Array(2), [50, 10], new Rng(1)), /must include 100/);
  });

  it('expected trues sum to sensitivity x time x decay x activity (no attenuation), background as configured', () => {
    const P = new ParallelProjector({ n: 32, pixelMm: 2, nAngles: 21 });
    const act = new Float32Array(P.nPix);
    const c = (P.n - 1) / 2;
    let nIn = 0;
    for (let iy = 0; iy < P.n; iy++) for (let ix = 0; ix < P.n; ix++) if ((ix - c) ** 2 + (iy - c) ** 2 < 100) {
      act[iy * P.n + ix] = 5000;
      nIn++;
    }
    const cfg = { ...DEFAULT_ACQUISITION, detectorFwhmMm: 0 };
    const kappa = countsPerBqMlMm(cfg, P.binMm, 2, P.nAngles);
    const e = expectSlice(P, act, new Float32Array(P.nPix), kappa, cfg, P.circlePixels());
    const trues = e.trues.reduce((a, b) => a + b, 0);
    const bq = 5000 * nIn * (2 * 2 * 2) / 1000; // Bq in the slice
    const lambda = Math.LN2 / cfg.halfLifeS;
    const decay = (1 - Math.exp(-lambda * cfg.durationS)) / (lambda * cfg.durationS);
    const want = cfg.sensitivity * cfg.durationS * decay * bq;
    assert.ok(Math.abs(trues - want) < 1e-4 * want, `trues ${trues} vs ${want}`);
    const bg = e.background.reduce((a, b) => a + b, 0);
    const wantBg = trues * (cfg.scatterFraction / (1 - cfg.scatterFraction) + cfg.randomsFraction);
    assert.ok(Math.abs(bg - wantBg) < 1e-3 * wantBg, `background ${bg} vs ${wantBg}`);
    assert.ok(e.att.every((a) => a === 1));
    // The scatter part alone holds the configured scatter fraction of trues + scatter.
    const sc = e.scatter.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sc / (sc + trues) - cfg.scatterFraction) < 1e-3, `scatter fraction ${sc / (sc + trues)}`);
  });

  it("reconstructionBackground: the exact background by default, less the missed scatter otherwise; rejects fractions outside [0, 1)", () => {
    const P = new ParallelProjector({ n: 16, pixelMm: 2, nAngles: 21 });
    const act = new Float32Array(P.nPix).fill(1000);
    const cfg = { ...DEFAULT_ACQUISITION };
    const e = expectSlice(P, act, new Float32Array(P.nPix), 1, cfg, P.circlePixels());
    assert.deepEqual(reconstructionBackground(e, cfg), e.background);
    const r = 0.25;
    const b = reconstructionBackground(e, { ...cfg, residualScatterFraction: r });
    for (let i = 0; i < b.length; i++) assert.ok(Math.abs(b[i] - (e.background[i] - r * e.scatter[i])) < 1e-4 * (e.background[i] + 1e-6));
    assert.ok(b.every((x, i) => x <= e.background[i] && x >= 0));
    assert.throws(() => reconstructionBackground(e, { ...cfg, residualScatterFraction: 1 }), /residualScatterFraction must be in \[0, 1\), got 1/);
    assert.throws(() => reconstructionBackground(e, { ...cfg, residualScatterFraction: -0.1 }), /residualScatterFraction/);
    assert.throws(() => reconstructionBackground(e, { ...cfg, residualScatterFraction: NaN }), /residualScatterFraction/);
  });
});
