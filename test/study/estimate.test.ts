import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { estimateStudy, fitHeadCost, flattenSize, formatEstimate, loadBenchTimings, paperFrozenRowEpochs, type BenchTimings } from '../../lib/study/estimate';
import { getPreset } from '../../lib/study/presets';
import { tmpDir } from './fixtures';

const timings: BenchTimings = {
  source: 'test',
  backend: 'wasm',
  headSecondsPerRowFeature: 1e-9,
  inferenceImagesPerSecond: { MobileNet: 100 },
  partialStepSeconds: { MobileNet: 0.1 },
};

describe('study/estimate: the plan before a sweep', () => {
  it('counts the paper design: 33 frozen runs and 1 partial run per backbone, 612 in all', () => {
    const preset = getPreset('paper');
    const e = estimateStudy({ preset, backbones: preset.backbones, regimes: preset.regimes, backend: 'wasm', workers: 2, timings });
    assert.equal(e.rows.length, 36);
    assert.ok(e.rows.every((r) => r.runs === (r.regime === 'frozen' ? 33 : 1)));
    assert.equal(e.rows.reduce((s, r) => s + r.runs, 0), 612);
  });

  it('fits the head cost per row and per row x feature to per-size timings, and the plan gives the paper head hours back', () => {
    const dims = [...new Set(getPreset('paper').backbones.map(flattenSize))];
    const samples = dims.map((dim) => ({ dim, secondsPerRowEpoch: 3e-7 + 4e-10 * dim }));
    const fit = fitHeadCost(samples);
    assert.ok(Math.abs(fit.perRow - 3e-7) < 1e-15 && Math.abs(fit.perRowFeature - 4e-10) < 1e-18, JSON.stringify(fit));
    // By hand: 18 backbones' Flatten sizes sum to 173,056; 188,100 rows per backbone and epoch.
    assert.equal(paperFrozenRowEpochs(), 1000 * 11 * 900 * (3 + 6 + 10));
    const hours = (paperFrozenRowEpochs() * (18 * 3e-7 + 4e-10 * 173056)) / 3600;
    const preset = getPreset('paper');
    // extraction made negligible: 1e12 images per second
    const t: BenchTimings = { ...timings, headSecondsPerRow: fit.perRow, headSecondsPerRowFeature: fit.perRowFeature, inferenceImagesPerSecond: { MobileNet: 1e12 } };
    const e = estimateStudy({ preset, backbones: preset.backbones, regimes: ['frozen'], backend: 'wasm', workers: 1, timings: t });
    assert.ok(Math.abs(e.totalHours - hours) < 1e-9, `${e.totalHours} vs ${hours}`);
    // two workers halve it
    const e2 = estimateStudy({ preset, backbones: preset.backbones, regimes: ['frozen'], backend: 'wasm', workers: 2, timings: t });
    assert.ok(Math.abs(e2.totalHours - hours / 2) < 1e-9, `${e2.totalHours}`);
    assert.throws(() => fitHeadCost(samples.slice(0, 1)), /two or more Flatten sizes/);
    assert.throws(() => fitHeadCost([samples[0], samples[0]]), /two or more Flatten sizes/);
  });

  it('hours by hand for quick / MobileNet (80 x 80, 10 patches per plane, 40 and 6 epochs, 2 workers)', () => {
    assert.equal(flattenSize('MobileNet'), 2 * 2 * 1024);
    const e = estimateStudy({ preset: getPreset('quick'), backbones: ['MobileNet'], regimes: ['frozen', 'partial'], backend: 'wasm', workers: 2, timings });
    // 90 patches per patient; frozen rows over the 33 runs = 11 x 90 x ((1+2) + (4+2) + (8+2)) = 18,810.
    const head = 40 * 1e-9 * 18810 * 4096;
    const extract = (13 * 90) / 100;
    assert.ok(Math.abs(e.rows[0].hours - (head + extract) / 2 / 3600) < 1e-12);
    // Partial: 720 training rows = 72 steps of 0.1 s, 180 validation images at 100/s, at most 6 epochs, over 2 workers.
    assert.equal(getPreset('quick').partialTrain.epochs, 6);
    assert.ok(Math.abs(e.rows[1].hours - (6 * (72 * 0.1 + 1.8)) / 2 / 3600) < 1e-12);
    assert.ok(Math.abs(e.totalHours - e.rows[0].hours - e.rows[1].hours) < 1e-15);
    const text = formatEstimate(e);
    assert.match(text, /plan for preset 'quick' on wasm, 2 worker\(s\)/);
    assert.match(text, /frozen total: 33 runs/);
    assert.match(text, /timings: test/);
  });

  it('uses the bench file of the backend when there is one, and names a missing field', () => {
    const dir = tmpDir('bench-timings-');
    assert.match(loadBenchTimings('tensorflow', dir).source, /^reference: /);
    fs.writeFileSync(path.join(dir, 'wasm.json'), JSON.stringify(timings));
    assert.equal(loadBenchTimings('wasm', dir).source, path.join(dir, 'wasm.json'));
    fs.writeFileSync(path.join(dir, 'wasm.json'), JSON.stringify({ ...timings, partialStepSeconds: undefined }));
    assert.throws(() => loadBenchTimings('wasm', dir), new RegExp(`${path.join(dir, 'wasm.json')}: field 'partialStepSeconds' is missing`));
  });
});
