import * as assert from 'assert';
import { fig9 } from '../../lib/figures/fig9';
import { probeStamp } from '../../lib/figures/reference';
import { probeResultSchema, type ProbeResult } from '../../lib/probe/result';

/** An error summary whose per-patch overall is `v` and per-volume overall `v - 0.1`. */
const err = (v: number) => ({ perPatch: { GQR: v, PR: v, DC: v, overall: v }, perVolume: { GQR: v - 0.1, PR: v - 0.1, DC: v - 0.1, overall: v - 0.1 }, volumes: 9 });

function probe(backbone: string, kind: 'random' | 'pretext', maes: number[], head: number): ProbeResult {
  return probeResultSchema.parse({
    schema: 'pet-iqa/probe@1',
    backbone,
    weightsKind: kind,
    weightsLabel: kind === 'random' ? 'random init (seed 0, BN calibrated)' : 'pretext (count level, quick)',
    weights: kind === 'random' ? { kind: 'random init', seed: 0 } : { kind: 'pretext', file: `/x/cache/pretext/${backbone}__count-level__abc.h5` },
    preset: 'quick',
    fold: 0,
    n: 8,
    trainPatients: ['a'],
    validationPatients: ['b'],
    testPatients: ['6', '37'],
    patchSetHash: 'h',
    points: maes.map((m, i) => ({ name: `block${i}`, layerIndex: i, depth: (i + 1) / maes.length, channels: 8, spatial: [4, 4], lambda: 1, validationMSE: 0.5, test: err(m) })),
    frozenHead: { flattenSize: 1024, keptEpoch: 3, epochs: 40, learningRate: 1e-3, test: err(head) },
    baselines: { constant: err(1.1), handcrafted: { ...err(0.49), lambda: 10 } },
    backend: 'wasm',
    gitCommit: '0123456789abcdef',
    seconds: 1,
    createdAt: '2026-12-06T00:00:00Z',
  });
}

describe('figures/fig9', () => {
  const probes = [probe('MobileNet', 'pretext', [0.5, 0.55, 0.6], 0.65), probe('MobileNet', 'random', [0.45, 0.8, 0.95], 1.08)];

  it('draws a curve and a star per weights source, random first, with the baselines as lines', () => {
    const fig = fig9(probes);
    const curves = fig.data.filter((t) => t.mode === 'lines+markers');
    assert.deepStrictEqual(curves.map((t) => t.name), ['random init', 'pretext (count level, quick)']);
    assert.deepStrictEqual(curves[0].y, [0.45, 0.8, 0.95]);
    assert.deepStrictEqual(fig.data.filter((t) => t.mode === 'markers').map((t) => t.y), [[1.08], [0.65]]);
    const shapes = (fig.layout.shapes as Array<{ y0: number }>).map((s) => s.y0);
    assert.deepStrictEqual(shapes, [1.1, 0.49]);
    // per volume: every value moves to the per-volume overall
    assert.deepStrictEqual(fig9(probes, { perVolume: true }).data.filter((t) => t.mode === 'lines+markers')[0].y, [0.45 - 0.1, 0.8 - 0.1, 0.95 - 0.1]);
  });

  it("its stamp names the probes' own weights per backbone, split, backend and commit", () => {
    const s = probeStamp(probes, []);
    assert.strictEqual(s, 'Weights probed: MobileNet: pretext (count level, quick) MobileNet__count-level__abc.h5, random init (seed 0, BN calibrated). Preset quick, fold 0, n = 8. Backend wasm. Commit 0123456789.');
    assert.strictEqual(probeStamp([], []), '');
  });
});
