/**
 * lib/transfer: scoring runs the same frozen part, built and compiled the same way, as the study's
 * extraction, so a kept model sees exactly the features (frozen regime) or cut activations (partial
 * regime) its head or suffix was trained on. Uses the trained smoke study of test/score/fixtures
 * (shared with test/score within one mocha process).
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { loadManifest } from '../../lib/manifest';
import { buildPatchDataset } from '../../lib/patches';
import { loadScoringModel } from '../../lib/score';
import { readFeatureCache } from '../../lib/train/features';
import type { RunRecord } from '../../lib/types';
import { build, trainedSmokeStudy, type TrainedFixture } from '../score/fixtures';

describe('transfer: scoring features == study features', function () {
  this.timeout(900000);
  let fx: TrainedFixture;
  before(async () => {
    fx = await trainedSmokeStudy();
  });

  for (const regime of ['frozen', 'partial'] as const) {
    it(`${regime} regime: the scoring model's frozen outputs equal the study's cached ones on the same patches`, async () => {
      const dir = fx.models[regime];
      const meta = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8')) as { runs: Array<{ id: string }> };
      const rec = JSON.parse(fs.readFileSync(path.join(fx.out, 'runs', `${meta.runs[0].id}.json`), 'utf8')) as RunRecord;
      const key = (regime === 'frozen' ? rec.provenance.config.featureCache : rec.provenance.config.activationCache) as string;
      const cached = readFeatureCache(path.join(fx.out, 'cache'), key);
      assert.ok(cached, `the study's cache entry ${key} exists`);
      const ds = await buildPatchDataset(loadManifest(fx.manifest), { ...fx.preset.patches, cacheDir: path.join(fx.out, 'patch-cache') });
      const model = await loadScoringModel(dir, { build });
      try {
        const outs = model.frozenOutputs(ds.patches, ds.count);
        assert.strictEqual(outs.length, cached.arrays.length, 'one array per cut tensor');
        outs.forEach((o, i) => {
          const ref = cached.arrays[i].data;
          assert.strictEqual(o.length, ref.length);
          let maxDiff = 0;
          let maxRef = 0;
          for (let j = 0; j < ref.length; j++) {
            maxDiff = Math.max(maxDiff, Math.abs(o[j] - ref[j]));
            maxRef = Math.max(maxRef, Math.abs(ref[j]));
          }
          assert.ok(maxRef > 0, 'non-trivial features');
          // Same model, same compiled inference, same batches: the same numbers.
          assert.strictEqual(maxDiff, 0, `output ${i}: max |scoring - study| = ${maxDiff} (max |study| ${maxRef})`);
        });
      } finally {
        model.dispose();
      }
    });
  }
});
