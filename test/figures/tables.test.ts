import * as assert from 'assert';
import { fig1, makeFakeRuns, parameterRowsFromRuns, table1, table2, table3, tableCsv, type CountLevelVolume } from '../../lib/figures';
import type { Volume } from '../../lib/types';

describe('figures: tables', () => {
  const patients = [
    { id: '1', sex: 'F', age: 61, weightKg: 64, injectedMBq: 221.71 },
    { id: '6', sex: 'M', age: 68, weightKg: 100, injectedMBq: 234.8 },
  ];

  it('Table I lists each patient plus a mean (sd) row, as a plotly table and as CSV', () => {
    const fig = table1(patients);
    assert.strictEqual(fig.data[0].type, 'table');
    assert.strictEqual(fig.table!.rows.length, 3);
    assert.deepStrictEqual(fig.table!.rows[2].slice(0, 2), ['mean (sd)', '1 F / 1 M']);
    const csv = tableCsv(fig).trim().split('\n');
    assert.strictEqual(csv[0], 'Patient,Sex,Age (years),Weight (kg),Injected FDG (MBq)');
    assert.strictEqual(csv[1], '1,F,61,64,221.71');
  });

  it('Table II compares our frozen counts with the paper and flags a mismatch', () => {
    const rows = [
      { backbone: 'VGG16', flattenSize: 2048, trainableFrozen: 6147 },
      { backbone: 'MobileNet', flattenSize: 4096, trainableFrozen: 12000 },
    ];
    const fig = table2(rows);
    assert.deepStrictEqual(fig.table!.rows.map((r) => r[4]), ['yes', 'NO']);
  });

  it('Table II does not compare counts from runs at another input size with the paper', () => {
    const fig = table2([{ backbone: 'MobileNet', flattenSize: 1024, trainableFrozen: 3075, inputSize: 32 }]);
    assert.strictEqual(fig.table!.rows[0][4], 'n/a (32 px)');
    assert.match(JSON.stringify(fig.layout.annotations), /32 x 32 input/);
  });

  it('Table III uses partial counts from the runs and leaves totals out when unknown', () => {
    const { runs } = makeFakeRuns({ seed: 1, backbones: ['VGG16'], folds: 1, sizes: [8], repeats: 1 });
    const fig = table3(parameterRowsFromRuns(runs, ['VGG16']));
    assert.deepStrictEqual(fig.table!.columns, ['Backbone', 'Layers N', 'Frozen layers', 'Trainable (paper)', 'Trainable (ours)', 'Match']);
    const partial = runs.find((r) => r.regime === 'partial')!.trainableParams;
    assert.deepStrictEqual(fig.table!.rows[0].slice(0, 5), ['VGG16', 19, 11, 12985347, partial]);
  });

  it("Table III's paper column holds the paper's values; matches, mismatches and MobileNetV3 are marked", () => {
    const paper: Record<string, number> = {
      DenseNet121: 3811075, DenseNet169: 6958019, DenseNet201: 10425859, InceptionResNetV2: 36295171, InceptionV3: 15106307,
      MobileNet: 2675715, MobileNetV2: 1993731, MobileNetV3Large: 2645491, MobileNetV3Small: 770755, ResNet101: 26484227,
      ResNet101V2: 26471939, ResNet152: 34314755, ResNet152V2: 34298883, ResNet50: 19243267, ResNet50V2: 19234307,
      VGG16: 12985347, VGG19: 16524803, Xception: 12761595,
    };
    // ours: the paper's value except VGG19 (off by one) and MobileNetV3 (tf.keras 2.7 layout)
    const ours: Record<string, number> = { ...paper, VGG19: 16524802, MobileNetV3Large: 3853491, MobileNetV3Small: 1349123 };
    const fig = table3(Object.keys(paper).map((b) => ({ backbone: b, layers: 100, trainablePartial: ours[b], inputSize: 80 })));
    const rows = fig.table!.rows;
    assert.deepStrictEqual(Object.fromEntries(rows.map((r) => [r[0], r[3]])), paper);
    const match = Object.fromEntries(rows.map((r) => [r[0], r[5]]));
    assert.strictEqual(match.VGG16, 'yes');
    assert.strictEqual(match.VGG19, 'NO');
    assert.strictEqual(match.MobileNetV3Large, 'no*');
    assert.strictEqual(rows.filter((r) => r[5] === 'yes').length, 15);
    assert.match(JSON.stringify(fig.layout.annotations), /tf\.keras 2\.8\+ MobileNetV3 layout/);
  });

  it('Table III says what is missing when there is no partial count at all', () => {
    const fig = table3(parameterRowsFromRuns([], ['VGG16', 'Xception']));
    assert.strictEqual(fig.data.length, 0);
    assert.ok(fig.warnings!.join().includes('VGG16'));
  });
});

describe('figures: Fig. 1 (count levels)', () => {
  function volume(level: number): Volume {
    const dims: [number, number, number] = [20, 16, 4];
    const data = new Float32Array(20 * 16 * 4);
    // a bright 6 x 4 block in slice 2 (x 8..13, y 6..9); values scale with the level so the colour scale is shared
    for (let j = 6; j < 10; j++) for (let i = 8; i < 14; i++) data[i + 20 * (j + 16 * 2)] = 1000 + level;
    return { data, dims, voxelSize: [2, 2, 2], affine: [[2, 0, 0, 0], [0, 2, 0, 0], [0, 0, 2, 0], [0, 0, 0, 1]], units: 'Bq/ml' };
  }
  const levels: CountLevelVolume[] = [100, 0.5, 1, 5, 10, 25, 50].map((c) => ({ countPercent: c, volume: volume(c) }));

  it('puts the 7 levels side by side, ascending, cropped to the head, on one colour axis in Bq/ml', () => {
    const fig = fig1(levels, { pad: 1 });
    assert.strictEqual(fig.data.length, 7);
    assert.deepStrictEqual(fig.data.map((t) => t.name), ['0.5 %', '1 %', '5 %', '10 %', '25 %', '50 %', '100 %']);
    assert.ok(fig.data.every((t) => t.type === 'heatmap' && t.coloraxis === 'coloraxis'));
    const z = fig.data[0].z as number[][];
    assert.strictEqual(z.length, 6); // 4 rows + 2 x pad
    assert.strictEqual(z[0].length, 8); // 6 columns + 2 x pad
    const ca = fig.layout.coloraxis as { cmin: number; cmax: number; colorbar: { title: { text: string } } };
    assert.strictEqual(ca.colorbar.title.text, 'Bq/ml');
    assert.strictEqual(ca.cmin, 0);
    assert.strictEqual(ca.cmax, 1100);
    assert.match(JSON.stringify(fig.layout.annotations), /slice k = 2/);
  });

  it('warns about absent count levels', () => {
    const fig = fig1(levels.slice(0, 5));
    assert.ok(fig.warnings!.some((w) => /no volume for count levels/.test(w)));
  });
});
