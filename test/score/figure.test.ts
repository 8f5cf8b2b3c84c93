import { strict as assert } from 'assert';
import { gqrColour, scoreFigure } from '../../lib/score/figure';
import type { VolumeScore } from '../../lib/score';
import type { Volume } from '../../lib/types';

describe('score/figure: patch map', () => {
  const vol: Volume = { data: new Float32Array(20 * 20 * 10).fill(1), dims: [20, 20, 10], voxelSize: [2, 3, 4], affine: [[2, 0, 0, 0], [0, 3, 0, 0], [0, 0, 4, 0], [0, 0, 0, 1]] };
  const score: VolumeScore = { file: 'v.nii', scores: { GQR: 1, PR: 1, DC: 1 }, flags: [] };

  it('colours GQR from red (0) through yellow to green (3), clamped', () => {
    assert.equal(gqrColour(0), 'rgb(215,48,39)');
    assert.equal(gqrColour(3), 'rgb(26,150,65)');
    assert.equal(gqrColour(1.5), 'rgb(215,200,39)');
    assert.equal(gqrColour(-1), gqrColour(0));
    assert.equal(gqrColour(9), gqrColour(3));
  });

  it("outlines each plane's patches on its panel at their place in mm, coloured by GQR", () => {
    const patchScores = [
      { plane: 'transverse' as const, slice: 3, row: 2, col: 4, GQR: 0 },
      { plane: 'transverse' as const, slice: 7, row: 10, col: 0, GQR: 3 },
      { plane: 'sagittal' as const, slice: 5, row: 1, col: 6, GQR: 2 },
    ];
    const fig = scoreFigure(vol, score, { patchScores, patchSize: 8 });
    const shapes = fig.layout.shapes as Array<Record<string, unknown>>;
    assert.equal(shapes.length, 3);
    // Sagittal panel first (x/y), its columns along j (3 mm), rows along k (4 mm).
    assert.deepEqual([shapes[0].xref, shapes[0].x0, shapes[0].x1, shapes[0].y0, shapes[0].y1], ['x', 5.5 * 3, 13.5 * 3, 0.5 * 4, 8.5 * 4]);
    // Transverse panel third (x3/y3): columns along i (2 mm), rows along j (3 mm).
    assert.deepEqual([shapes[1].xref, shapes[1].x0, shapes[1].y0], ['x3', 3.5 * 2, 1.5 * 3]);
    assert.equal((shapes[1].line as { color: string }).color, gqrColour(0));
    assert.equal((shapes[2].line as { color: string }).color, gqrColour(3));
    const markers = fig.data.filter((t) => t.type === 'scatter');
    assert.equal(markers.length, 2);
    assert.deepEqual((markers[1].marker as { color: number[] }).color, [0, 3]);
    assert.match(String((fig.layout.title as { text: string }).text), /each patch's predicted GQR/);
    assert.throws(() => scoreFigure(vol, score, { patchScores }), /patchScores need patchSize/);
    // Without patches the figure is unchanged: no shapes.
    assert.equal(scoreFigure(vol, score).layout.shapes, undefined);
  });
});
