import * as assert from 'assert';
import { fig2, fig3, fig4, fig5, fig6, fig7, fig8, makeFakeRuns, COLORS, type Trace } from '../../lib/figures';
import type { RunRecord } from '../../lib/types';
import type { BaselineRecord } from '../../lib/records';
import { applyStamp, figureStamp } from '../../lib/figures/reference';

const BB = ['VGG16', 'MobileNetV3Small', 'ResNet50', 'DenseNet121'];
const small = () => makeFakeRuns({ seed: 3, backbones: BB, folds: 3, sizes: [1, 4, 8], repeats: 3 });
const boxes = (data: Trace[]) => data.filter((t) => t.type === 'box');
const annotationText = (layout: Record<string, unknown>) => ((layout.annotations as Array<{ text: string }>) ?? []).map((a) => a.text).join('\n');

describe('figures: Fig. 3 (minimum validation loss)', () => {
  it('draws one box per backbone holding the frozen n = 8 fold runs, failed ones grey', () => {
    const res = small();
    const fig = fig3(res);
    const traces = boxes(fig.data);
    assert.deepStrictEqual(traces.map((t) => t.name), ['DenseNet121', 'MobileNetV3Small', 'ResNet50', 'VGG16']);
    const vgg = traces.find((t) => t.name === 'VGG16')!;
    const expected = res.runs.filter((r) => r.backbone === 'VGG16' && r.regime === 'frozen' && r.kind === 'fold' && r.n === 8).map((r) => r.metrics.minValLoss);
    assert.deepStrictEqual([...(vgg.y as number[])].sort(), expected.sort());
    assert.strictEqual((traces.find((t) => t.name === 'ResNet50')!.marker as { color: string }).color, COLORS.failed);
    assert.strictEqual((vgg.marker as { color: string }).color, COLORS.ok);
    assert.deepStrictEqual(fig.warnings, []);
  });

  it('names missing runs in an annotation and a warning instead of drawing silently', () => {
    const res = makeFakeRuns({ seed: 3, backbones: BB, folds: 3, drop: (r) => r.backbone === 'VGG16' && r.fold === 2 && r.n === 8 });
    const fig = fig3(res);
    assert.match(annotationText(fig.layout), /frozen VGG16 fold 2 n=8/);
    assert.ok(fig.warnings!.some((w) => w.includes('frozen VGG16 fold 2 n=8')));
  });

  it('is an annotation-only figure listing what is needed when no run fits', () => {
    const res = makeFakeRuns({ seed: 3, backbones: ['VGG16'], folds: 2, drop: (r) => r.n === 8 && r.regime === 'frozen' });
    const fig = fig3(res, { n: 8 });
    assert.strictEqual(fig.data.length, 0);
    assert.match(annotationText(fig.layout), /frozen VGG16 fold 0 n=8/);
  });
});

describe('figures: Figs. 4 and 5 (MAE panels)', () => {
  it('orders panels by trainable parameters, fewest first, one box trace per backbone on its own axes', () => {
    const fig = fig4(small());
    const traces = boxes(fig.data);
    assert.deepStrictEqual(traces.map((t) => t.name), ['MobileNetV3Small', 'VGG16', 'DenseNet121', 'ResNet50']);
    assert.deepStrictEqual(traces.map((t) => t.xaxis), ['x', 'x2', 'x3', 'x4']);
    // x categories are n = 1, 4, 8 with one value per fold
    const t0 = traces[0];
    assert.deepStrictEqual([...new Set(t0.x as string[])], ['n=1', 'n=4', 'n=8']);
    assert.strictEqual((t0.y as number[]).length, 9);
  });

  it('uses training MAE in Fig. 4 and test MAE in Fig. 5', () => {
    const res = small();
    const pick = (which: 'trainMAE' | 'testMAE') =>
      res.runs.filter((r) => r.backbone === 'VGG16' && r.regime === 'frozen' && r.kind === 'fold' && r.n === 1).map((r) => r.metrics[which].overall).sort();
    const y = (fig: ReturnType<typeof fig4>) => (boxes(fig.data).find((t) => t.name === 'VGG16')!.y as number[]).slice(0, 3).sort();
    assert.deepStrictEqual(y(fig4(res)), pick('trainMAE'));
    assert.deepStrictEqual(y(fig5(res)), pick('testMAE'));
  });

  it('draws dashed lines at the records\' random-label MAE and at 0.5 in every panel, and greys failed backbones', () => {
    const res = small();
    const rl = res.runs.reduce((a, r) => a + r.metrics.randomLabelMAE, 0) / res.runs.length;
    const shapes = fig5(res).layout.shapes as Array<{ y0: number; yref: string; line: { dash: string } }>;
    assert.strictEqual(shapes.length, 2 * BB.length);
    assert.ok(shapes.some((s) => Math.abs(s.y0 - rl) < 1e-12 && s.yref === 'y4'));
    assert.ok(shapes.some((s) => s.y0 === 0.5 && s.yref === 'y'));
    const failed = boxes(fig5(res).data).find((t) => t.name === 'ResNet50')!;
    assert.strictEqual((failed.marker as { color: string }).color, COLORS.failed);
  });
});

describe('figures: Fig. 6 (CoV vs n)', () => {
  it('averages per-backbone fold means over the backbones that trained only', () => {
    const res = small();
    const fig = fig6(res);
    assert.deepStrictEqual(fig.data.map((t) => t.name), ['GQR', 'PR', 'DC']);
    const perBackbone = ['VGG16', 'MobileNetV3Small', 'DenseNet121'].map((b) => {
      const v = res.runs.filter((r) => r.backbone === b && r.regime === 'frozen' && r.kind === 'fold' && r.n === 4).map((r) => r.metrics.testCoV.PR);
      return v.reduce((a, c) => a + c, 0) / v.length;
    });
    const expected = perBackbone.reduce((a, c) => a + c, 0) / 3;
    const pr = fig.data[1];
    assert.deepStrictEqual(pr.x, [1, 4, 8]);
    assert.ok(Math.abs((pr.y as number[])[1] - expected) < 1e-12);
    assert.match(annotationText(fig.layout), /left out as failed: ResNet50/);
  });
});

describe('figures: Fig. 7 (ensemble)', () => {
  it('draws each repeat and their mean per backbone', () => {
    const res = small();
    const fig = fig7(res);
    const vgg = fig.data.filter((t) => t.xaxis === 'x2'); // VGG16 is the second by parameters
    assert.strictEqual(vgg.length, 4); // 3 repeats + mean
    const runs = res.runs.filter((r) => r.backbone === 'VGG16' && r.kind === 'ensemble' && r.n === 4);
    const mean = runs.reduce((a, r) => a + r.metrics.testMAE.overall, 0) / runs.length;
    const meanTrace = vgg.find((t) => t.name === 'mean')!;
    assert.ok(Math.abs((meanTrace.y as number[])[1] - mean) < 1e-12);
    assert.strictEqual((meanTrace.line as { color: string }).color, 'black');
    // legend only once
    assert.strictEqual(fig.data.filter((t) => t.name === 'mean' && t.showlegend).length, 1);
    // panel titles carry the trainable parameters, as in Figs. 4-5; the note names the paper's 1.3
    const vggParams = res.runs.find((r) => r.backbone === 'VGG16' && r.regime === 'frozen')!.trainableParams;
    assert.ok(annotationText(fig.layout).includes(`<b>VGG16</b> (${vggParams.toLocaleString('en-US')})`));
    assert.match(annotationText(fig.layout), /paper 1\.3\)/);
  });

  it('says so when there are no ensemble runs', () => {
    const res = makeFakeRuns({ seed: 3, backbones: ['VGG16'], folds: 2, drop: (r: RunRecord) => r.kind === 'ensemble' });
    const fig = fig7(res);
    assert.strictEqual(fig.data.length, 0);
    assert.match(annotationText(fig.layout), /No ensemble runs/);
  });
});

describe('figures: Fig. 8 (frozen vs partial)', () => {
  it('has dark frozen and light partial bars and the partial trainable count on a second log axis', () => {
    const res = small();
    const fig = fig8(res);
    const [frozen, partial, line] = fig.data;
    assert.deepStrictEqual(frozen.x, ['DenseNet121', 'MobileNetV3Small', 'ResNet50', 'VGG16']);
    assert.strictEqual((frozen.marker as { color: string }).color, COLORS.frozen);
    assert.strictEqual((partial.marker as { color: string }).color, COLORS.partial);
    const p = res.runs.find((r) => r.backbone === 'VGG16' && r.regime === 'partial')!;
    assert.strictEqual((partial.y as number[])[3], p.metrics.testMAE.overall);
    assert.strictEqual((line.y as number[])[3], p.trainableParams);
    assert.strictEqual(line.yaxis, 'y2');
    assert.deepStrictEqual(line.line, { color: '#ff7f0e', width: 2, dash: 'dash' }); // orange and dashed, as the paper's
    assert.strictEqual((fig.layout.yaxis2 as { type: string }).type, 'log');
    const f = res.runs.find((r) => r.backbone === 'VGG16' && r.regime === 'frozen' && r.kind === 'fold' && r.fold === p.fold && r.n === p.n)!;
    assert.strictEqual((frozen.y as number[])[3], f.metrics.testMAE.overall);
  });
});

describe('figures: Fig. 2 (schematic)', () => {
  it('is vector shapes and labels, with the Dense(3) parameter count of the example backbone', () => {
    const fig = fig2({ backbone: 'VGG16', latent: [2, 2, 512] });
    assert.strictEqual(fig.data.length, 0);
    assert.ok((fig.layout.shapes as unknown[]).length > 10);
    const text = annotationText(fig.layout);
    for (const s of ['Backbone', 'Flatten', 'Dense(3)', 'GQR', 'PR', 'DC', '6,147']) assert.ok(text.includes(s), s);
  });
});

describe('figures: baselines, per-volume MAE and the stamp', () => {
  /** Hand-made baseline records: the constant at MAE 1 + fold/10 (per volume 0.9 + fold/10), the ridge at half that. */
  const withBaselines = () => {
    const res = small();
    const baselines: BaselineRecord[] = [];
    for (const kind of ['fold', 'ensemble'] as const)
      for (const fold of kind === 'fold' ? [0, 1, 2] : [0])
        for (const n of [1, 4, 8])
          for (const predictor of ['constant', 'handcrafted-ridge'] as const) {
            const k = predictor === 'constant' ? 1 : 0.5;
            const t = (v: number) => ({ GQR: v, PR: v, DC: v, overall: v });
            const run = res.runs[0];
            baselines.push({
              schema: 'pet-iqa/baseline@1', id: `${predictor}${kind}${fold}${n}`, predictor, kind, fold, n,
              trainPatients: [], validationPatients: [], testPatients: [],
              metrics: { ...run.metrics, minValLoss: k * 1.5, testMAE: t(k * (1 + fold / 10)), trainMAE: t(k * 0.8), volumeMAE: { train: { ...t(k * 0.7), volumes: 7 }, validation: { ...t(k), volumes: 14 }, test: { ...t(k * (0.9 + fold / 10)), volumes: 21 } } },
              model: {}, timings: {}, provenance: { ...run.provenance },
            });
          }
    return { ...res, baselines };
  };

  it('Fig. 5 draws each baseline as a labelled line per panel at its mean over folds; per volume on request', () => {
    const res = withBaselines();
    const fig = fig5(res);
    const constant = fig.data.filter((t) => t.name === 'constant (training mean)');
    assert.equal(constant.length, BB.length); // one per panel
    assert.equal(constant.filter((t) => t.showlegend).length, 1);
    assert.deepStrictEqual((constant[0].y as number[]).map((v) => +v.toFixed(9)), [1.1, 1.1, 1.1]); // mean of 1.0, 1.1, 1.2
    const ridge = fig.data.find((t) => t.name === 'handcrafted features + ridge')!;
    assert.deepStrictEqual((ridge.y as number[]).map((v) => +v.toFixed(9)), [0.55, 0.55, 0.55]);
    assert.match(annotationText(fig.layout), /baseline predictors on the same folds/);
    const perVolume = fig5(res, { unit: 'volume' });
    assert.deepStrictEqual((perVolume.data.find((t) => t.name === 'constant (training mean)')!.y as number[]).map((v) => +v.toFixed(9)), [1, 1, 1]);
    const vgg = boxes(perVolume.data).find((t) => t.name === 'VGG16')!;
    const expected = res.runs.filter((r) => r.backbone === 'VGG16' && r.regime === 'frozen' && r.kind === 'fold').map((r) => r.metrics.volumeMAE.test.overall);
    assert.deepStrictEqual([...(vgg.y as number[])].sort(), expected.sort());
    assert.match(JSON.stringify(perVolume.layout), /Test MAE per volume/);
  });

  it('Figs. 3, 4, 7 and 8 carry the baselines too', () => {
    const res = withBaselines();
    assert.match(annotationText(fig3(res).layout), /constant \(training mean\) \(1\.50\)/);
    assert.ok(fig4(res).data.some((t) => t.name === 'handcrafted features + ridge'));
    assert.deepStrictEqual(fig7(res).data.filter((t) => t.name === 'constant (training mean)').map((t) => t.y)[0], [1, 1, 1]); // ensemble fold 0
    const f8 = annotationText(fig8(res).layout);
    assert.match(f8, /label noise \(0\.50\)/);
    assert.match(f8, /constant \(training mean\) \(1\.00\)/); // fold 0, n = 8
    assert.match(f8, /handcrafted features \+ ridge \(0\.50\)/);
  });

  it('the stamp names data, weights per backbone, preset settings against the paper and the MAE unit', () => {
    const res = small();
    const runs = res.runs.map((r) => ({ ...r, provenance: { ...r.provenance, backend: 'wasm', preset: 'quick', config: { studySeed: 7, train: { learningRate: 1e-3, epochs: 40, batchSize: 10, patience: 0 }, patches: { keep: 10 } } } }));
    const s = figureStamp(runs, 'patch');
    assert.match(s, /^Data: synthetic cohort/);
    assert.match(s, /VGG16, MobileNetV3Small, ResNet50, DenseNet121: random init \(seed 3\)/);
    assert.match(s, /Preset quick \(frozen lr 0\.001, 40 epochs; partial lr 0\.001, 40 epochs; 10 patches per plane; paper: lr 0\.0001, 1000 epochs, 100 patches per plane\)/);
    assert.match(s, /Backend wasm\. Seed 7\. MAE per patch/);
    const fig = fig5(res);
    const h = Number(fig.layout.height);
    applyStamp(fig, s);
    assert.ok(Number(fig.layout.height) > h);
    assert.match(annotationText(fig.layout), /Data: synthetic cohort/);
  });
});
