import { strict as assert } from 'assert';
import {
  agreementStats,
  chooseRatedLevels,
  ImageMetrics,
  labelFromScores,
  latentScores,
  LEVEL_GROUPS,
  patternVisibility,
  rateImage,
  roundHalf,
} from '../../lib/cohort';
import { Rng } from '../../lib/util/rng';

const metrics = (over: Partial<ImageMetrics>): ImageMetrics => ({
  wmMean: 4000,
  gmMean: 11000,
  wmNoise: 0.1,
  wmCoV: 0.15,
  contrastRecovery: 0.8,
  relativeContrast: 1,
  regionalDeficit: 0.1,
  deficitError: 0,
  patternDepth: 0,
  ...over,
});

describe('cohort/raters', () => {
  it('picks exactly one level from each group (low, medium, high), each option reachable', () => {
    const seen = LEVEL_GROUPS.map(() => new Set<number>());
    for (let s = 0; s < 200; s++) {
      const lv = chooseRatedLevels(new Rng(s));
      assert.equal(lv.length, 3);
      lv.forEach((l, g) => {
        assert.ok(LEVEL_GROUPS[g].levels.includes(l), `level ${l} not in group ${LEVEL_GROUPS[g].name}`);
        seen[g].add(l);
      });
    }
    seen.forEach((s, g) => assert.equal(s.size, LEVEL_GROUPS[g].levels.length));
  });

  it('applies the label rule: mean where raters differ by <= 0.5, consensus where they differ by >= 1', () => {
    const ratings = [
      { rater: 'A', GQR: 2, PR: 1, DC: 3 },
      { rater: 'B', GQR: 2.5, PR: 2, DC: 1.5 },
    ];
    const lab = labelFromScores({ ratings, consensus: { GQR: 0, PR: 1.5, DC: 2 } });
    assert.deepEqual(lab, { GQR: 2.25, PR: 1.5, DC: 2 });
    assert.throws(() => labelFromScores({ ratings }), /no consensus/);
  });

  it('rounds to the half-point grid inside [0, 3]', () => {
    assert.deepEqual([-0.4, 0.24, 0.26, 1.74, 2.9, 3.7].map(roundHalf), [0, 0, 0.5, 1.5, 3, 3]);
  });

  it('scores less noise and a deeper pattern higher', () => {
    const a = latentScores(metrics({ wmNoise: 0.1 }));
    const b = latentScores(metrics({ wmNoise: 0.5 }));
    assert.ok(a.GQR > b.GQR && a.PR > b.PR && a.DC > b.DC);
    const shallow = latentScores(metrics({ wmNoise: 0.5, patternDepth: 0.1 }));
    const deep = latentScores(metrics({ wmNoise: 0.5, patternDepth: 0.3 }));
    assert.ok(deep.PR > shallow.PR);
    assert.equal(deep.GQR, shallow.GQR);
  });

  it('gives half-point scores in [0, 3], and a consensus exactly when the raters differ by >= 1', () => {
    const rng = new Rng(1);
    const rated = [];
    let withConsensus = 0;
    for (let i = 0; i < 300; i++) {
      const r = rateImage(metrics({ wmNoise: 0.05 + 0.01 * (i % 80) }), rng);
      for (const s of r.ratings) for (const k of ['GQR', 'PR', 'DC'] as const) assert.ok(s[k] >= 0 && s[k] <= 3 && s[k] * 2 === Math.round(s[k] * 2));
      const needs = (['GQR', 'PR', 'DC'] as const).some((k) => Math.abs(r.ratings[0][k] - r.ratings[1][k]) >= 1);
      assert.equal(Boolean(r.consensus), needs);
      if (needs) withConsensus++;
      rated.push(r);
    }
    const st = agreementStats(rated);
    assert.equal(st.scores, 900);
    assert.ok(withConsensus > 0);
    // Within 0.5 on most scores (the paper: 91 %), and the disagreements are the consensus scores.
    assert.ok(st.within05 > 0.8 && st.within05 < 0.98, `agreement ${st.within05}`);
    assert.equal(st.consensusScores, Math.round(900 * (1 - st.within05)));
  });

  it("adds the patient effect to every score of both raters, and correlates one reading's errors across metrics", () => {
    const m = metrics({ wmNoise: 0.2 });
    const latent = latentScores(m);
    const n = 3000;
    const err: number[][] = [[], [], []];
    let shifted = 0, plain = 0;
    for (let i = 0; i < n; i++) {
      const a = rateImage(m, new Rng(i), {}, 0);
      const b = rateImage(m, new Rng(i), {}, 0.5);
      plain += (a.ratings[0].GQR + a.ratings[1].GQR) / (2 * n);
      shifted += (b.ratings[0].GQR + b.ratings[1].GQR) / (2 * n);
      (['GQR', 'PR', 'DC'] as const).forEach((k, j) => err[j].push(a.ratings[0][k] - latent[k]));
    }
    assert.ok(Math.abs(shifted - plain - 0.5) < 0.05, `patient effect moves GQR by ${shifted - plain}`);
    const corr = (x: number[], y: number[]) => {
      const mx = x.reduce((s, v) => s + v, 0) / x.length, my = y.reduce((s, v) => s + v, 0) / y.length;
      let sxy = 0, sxx = 0, syy = 0;
      for (let i = 0; i < x.length; i++) { sxy += (x[i] - mx) * (y[i] - my); sxx += (x[i] - mx) ** 2; syy += (y[i] - my) ** 2; }
      return sxy / Math.sqrt(sxx * syy);
    };
    // rounding to half points dilutes the 0.5 correlation of the errors a little
    assert.ok(corr(err[0], err[1]) > 0.3, `GQR-PR error correlation ${corr(err[0], err[1])}`);
    assert.ok(corr(err[0], err[2]) > 0.3, `GQR-DC error correlation ${corr(err[0], err[2])}`);
    // without the common part the errors are independent
    const ind: number[][] = [[], []];
    for (let i = 0; i < n; i++) {
      const a = rateImage(m, new Rng(i), { errorCorrelation: 0 });
      ind[0].push(a.ratings[0].GQR - latent.GQR);
      ind[1].push(a.ratings[0].PR - latent.PR);
    }
    assert.ok(Math.abs(corr(ind[0], ind[1])) < 0.06, `independent: ${corr(ind[0], ind[1])}`);
  });

  it('raises PR when the rater sees the patient\'s pattern and lowers it when a pattern is missed', () => {
    const seen = metrics({ wmNoise: 0.05, patternDepth: 0.25 });
    const hidden = metrics({ wmNoise: 0.3, patternDepth: 0.05 }); // a shallow pattern under noise
    assert.ok(patternVisibility(seen) > 0.95, `${patternVisibility(seen)}`);
    assert.ok(patternVisibility(hidden) < 0.25, `${patternVisibility(hidden)}`);
    assert.equal(patternVisibility(metrics({ wmNoise: 0.05, patternDepth: 0 })), 0);
    const meanPR = (m: ImageMetrics, shift: number) => {
      let s = 0;
      for (let i = 0; i < 2000; i++) s += rateImage(m, new Rng(i), { visibilityShift: shift }).ratings[0].PR / 2000;
      return s;
    };
    // seen: PR above the no-shift model; missed: below it
    const mid = metrics({ wmNoise: 0.4, patternDepth: 0.25 }); // seen with p = 0.84, latent PR ~1.8 (no clipping)
    assert.ok(meanPR(mid, 0.35) > meanPR(mid, 0) + 0.12);
    assert.ok(meanPR(hidden, 0.35) < meanPR(hidden, 0) - 0.15);
  });
});
