import { strict as assert } from 'assert';
import { imageRow, lossCurve } from '../../lib/figures/explore';

describe('figures/explore', () => {
  it('lossCurve marks the epoch of lowest validation loss (the kept one)', () => {
    const history = [
      { epoch: 1, loss: 1, valLoss: 0.9 },
      { epoch: 2, loss: 0.8, valLoss: 0.7 },
      { epoch: 3, loss: 0.6, valLoss: 0.75 },
    ];
    const fig = lossCurve(history, { epochs: 10 });
    const kept = fig.data.find((t) => t.name === 'kept: epoch 2') as { x: number[]; y: number[] } | undefined;
    assert.ok(kept, JSON.stringify(fig.data.map((t) => t.name)));
    assert.deepEqual([kept.x, kept.y], [[2], [0.7]]);
    assert.deepEqual((fig.layout.xaxis as { range: number[] }).range, [0, 11]);
  });

  it('imageRow draws row-major images top row first, on one colour scale, and rejects a wrong size', () => {
    const fig = imageRow([{ title: 'a', data: [1, 2, 3, 4, 5, 6], width: 3, height: 2 }], { title: 't' });
    assert.deepEqual((fig.data[0] as { z: number[][] }).z, [[1, 2, 3], [4, 5, 6]]);
    assert.deepEqual([(fig.layout.coloraxis as { cmin: number }).cmin, (fig.layout.coloraxis as { cmax: number }).cmax], [1, 6]);
    assert.throws(() => imageRow([{ title: 'b', data: [1, 2, 3], width: 2, height: 2 }], { title: 't' }), /panel 'b' has 3 values, expected 2 x 2/);
  });
});
