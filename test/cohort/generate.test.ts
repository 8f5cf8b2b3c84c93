import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { agreementStats, chooseRatedLevels, drawPatientEffect, generateCohort, CohortResult, LEVEL_GROUPS, rateImage, RatedScores, simulatePatient, syntheticPatients, getPreset } from '../../lib/cohort';
import { deriveSeed, Rng } from '../../lib/util/rng';
import { readNifti } from '../../lib/io';
import { labelsOf, loadManifest } from '../../lib/manifest';
import { boxAverageTemplate } from '../../lib/phantom';
import { sharedTemplate } from '../phantom/template-cache';
import { COUNT_LEVELS } from '../../lib/types';

describe('cohort/generateCohort (smoke preset)', function () {
  this.timeout(600000);
  let dir: string;
  let res: CohortResult;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pet-iqa-cohort-'));
    res = await generateCohort({ preset: 'smoke', outDir: path.join(dir, 'a'), seed: 5, workers: 2, template: sharedTemplate() });
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes a valid manifest: 13 synthetic patients, 7 levels each, 3 rated (one per group), 3 test patients, checksums', () => {
    const loaded = loadManifest(res.manifestPath, { verifyChecksums: true });
    const m = loaded.manifest;
    assert.equal(m.synthetic, true);
    assert.equal(m.patients.length, 13);
    assert.ok(m.patients.every((p) => p.synthetic === true));
    assert.equal(m.reconstructions.length, 13 * 7);
    assert.equal(m.testPatients?.length, 3);
    for (const p of m.patients) {
      const rs = m.reconstructions.filter((r) => r.patient === p.id);
      assert.deepEqual(rs.map((r) => r.countPercent).sort((a, b) => a - b), [...COUNT_LEVELS]);
      const rated = rs.filter((r) => r.ratings);
      assert.equal(rated.length, 3, `patient ${p.id}`);
      LEVEL_GROUPS.forEach((g) => assert.equal(rated.filter((r) => g.levels.includes(r.countPercent)).length, 1));
      for (const r of rs) {
        assert.equal(r.units, 'Bq/ml');
        assert.ok(r.sha256);
        if (r.ratings) assert.ok(labelsOf(r));
        else assert.equal(r.consensus, undefined);
      }
    }
  });

  it('writes volumes with the preset grid, in Bq/ml, noisier at lower counts', () => {
    const preset = getPreset('smoke');
    const m = res.manifest;
    const pid = m.patients[0].id;
    const vol = (c: number) => readNifti(path.join(res.outDir, m.reconstructions.find((r) => r.patient === pid && r.countPercent === c)!.path));
    const v100 = vol(100);
    assert.deepEqual(v100.dims, preset.grid.dims);
    assert.ok(Math.abs(v100.voxelSize[0] - preset.grid.voxelMm) < 1e-5);
    const rows = res.report.levels;
    for (let i = 1; i < rows.length; i++) assert.ok(rows[i].wmNoise < rows[i - 1].wmNoise, `WM noise at ${rows[i].countPercent} % not below ${rows[i - 1].countPercent} %`);
    // Same mean activity at every level (unbiased scale): grey matter within 5 % of the 100 % image.
    for (const r of rows) assert.ok(Math.abs(r.gmMeanBqMl / rows[rows.length - 1].gmMeanBqMl - 1) < 0.05, `GM mean at ${r.countPercent} %`);
    assert.ok(res.report.agreement.scores === 117);
  });

  it('lowers the noise with the count level for every patient', () => {
    for (const p of res.patients) {
      const rs = [...p.recons].sort((a, b) => a.countPercent - b.countPercent);
      for (let i = 1; i < rs.length; i++) assert.ok(rs[i].metrics.wmNoise < rs[i - 1].metrics.wmNoise, `patient ${p.id}: noise at ${rs[i].countPercent} % not below ${rs[i - 1].countPercent} %`);
    }
  });

  it("reports resolution and noise autocorrelation in-plane and axially", () => {
    const r = res.report.resolution;
    // smoke voxels are 5.225 mm: the point source spans about one voxel either side
    assert.ok(r.pointSourceFwhmMm.inPlane > 4 && r.pointSourceFwhmMm.inPlane < 12, JSON.stringify(r.pointSourceFwhmMm));
    assert.ok(Math.abs(r.pointSourceFwhmMm.axial / r.pointSourceFwhmMm.inPlane - 1) < 0.2, JSON.stringify(r.pointSourceFwhmMm));
    assert.equal(r.noiseCorrelation.length, 7);
    for (const row of r.noiseCorrelation) for (const v of [row.lag1.x, row.lag1.y, row.lag1.z]) assert.ok(v > 0 && v < 1, JSON.stringify(row));
    // widths are means over the patients that have one: a patient with uncorrelated noise along z does not make them NaN
    for (const row of r.noiseCorrelation) for (const v of [row.fwhmMm.inPlane, row.fwhmMm.axial]) assert.ok(Number.isFinite(v) && v > 0, JSON.stringify(row));
  });

  it("keeps the paper's rater statistics: ~91 % within 0.5, ~10 of 117 by consensus, random-label MAE ~1.3", () => {
    const a = res.report.agreement;
    assert.ok(a.within05 >= 0.85 && a.within05 <= 0.96, `within 0.5: ${a.within05}`);
    assert.ok(a.consensusScores >= 4 && a.consensusScores <= 18, `consensus: ${a.consensusScores}`);
    assert.ok(a.randomLabelMAE >= 1.15 && a.randomLabelMAE <= 1.45, `random-label MAE: ${a.randomLabelMAE}`);
    // Averaged over 40 rating seeds on the same images the figures sit close to the paper's.
    let within = 0, cons = 0, mae = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const rated: RatedScores[] = [];
      for (const p of res.patients) {
        const levels = chooseRatedLevels(new Rng(deriveSeed(seed, 'rated-levels', p.id)));
        const effect = drawPatientEffect(new Rng(deriveSeed(seed, 'patient-effect', p.id)));
        for (const r of p.recons) if (levels.includes(r.countPercent)) rated.push(rateImage(r.metrics, new Rng(deriveSeed(seed, 'ratings', p.id, r.countPercent)), {}, effect));
      }
      const st = agreementStats(rated);
      within += st.within05 / 40;
      cons += st.consensusScores / 40;
      mae += st.randomLabelMAE / 40;
    }
    assert.ok(within > 0.89 && within < 0.93, `mean within 0.5: ${within}`);
    assert.ok(cons > 8 && cons < 12.5, `mean consensus scores: ${cons}`);
    assert.ok(mae > 1.2 && mae < 1.4, `mean random-label MAE: ${mae}`);
  });

  it('gives the same bytes for the same seed, whichever thread simulates a patient', async () => {
    const preset = getPreset('smoke');
    const template = boxAverageTemplate(sharedTemplate(), preset.grid.voxelMm);
    const patients = syntheticPatients(5);
    const b = path.join(dir, 'b');
    for (const p of [patients[7]]) {
      const sim = simulatePatient({ template, preset, patient: p, seed: 5, outDir: b });
      for (const r of sim.recons) {
        const inManifest = res.manifest.reconstructions.find((x) => x.id === r.id)!;
        assert.equal(r.sha256, inManifest.sha256, `${r.id}`);
        assert.ok(fs.readFileSync(path.join(b, r.path)).equals(fs.readFileSync(path.join(res.outDir, r.path))));
      }
    }
    // A different seed changes the noise.
    const other = simulatePatient({ template, preset, patient: patients[0], seed: 6, outDir: path.join(dir, 'c'), levels: [100] });
    assert.notEqual(other.recons[0].sha256, res.manifest.reconstructions.find((x) => x.id === other.recons[0].id)!.sha256);
  });
});
