import { strict as assert } from 'assert';
import { freezeTable } from '../../lib/backbones/freeze_table';

describe('backbones/freezeTable', () => {
  const layer = (name: string, type: string, params: number) => ({ name, getClassName: () => type, countParams: () => params });
  const model = { layers: [layer('input', 'InputLayer', 0), ...Array.from({ length: 9 }, (_, i) => layer(`conv${i + 1}`, 'Conv2D', 10 * (i + 1)))] };

  it('freezes the first round(0.6 N) layers, in Keras order, with their parameters', () => {
    const rows = freezeTable(model);
    assert.equal(rows.length, 10);
    assert.deepEqual(rows.map((r) => r.state), ['frozen', 'frozen', 'frozen', 'frozen', 'frozen', 'frozen', 'trainable', 'trainable', 'trainable', 'trainable']);
    assert.deepEqual(rows[6], { position: 6, name: 'conv6', type: 'Conv2D', params: 60, state: 'trainable' });
    assert.equal(rows[0].type, 'InputLayer');
  });

  it('takes another fraction, and rejects a bad one', () => {
    assert.equal(freezeTable(model, 0.25).filter((r) => r.state === 'frozen').length, 3); // round(2.5) = 3
    assert.throws(() => freezeTable(model, 1.5), /fraction must lie in \[0, 1\]/);
  });
});
