import * as fs from 'fs';
import * as path from 'path';
import { initBackend } from '/work/main/lib/backend';
import { loadScoringModel } from '/work/main/lib/score';
import { buildBackbone } from '/work/main/lib/backbones';
import { saveHead } from '/work/main/lib/study/jobs';
(async () => {
  const c = await initBackend();
  for (const [bb, pre] of [['MobileNetV3Small', 'none'], ['MobileNet', 'tf'], ['VGG16', 'caffe']] as const) {
    const dir = fs.mkdtempSync('/tmp/bench-model-');
    const m = buildBackbone(bb, { inputSize: 80 });
    const { foldBatchNorm } = require('/work/main/lib/train/graph');
    const tf = require('/work/main/node_modules/@tensorflow/tfjs');
    const f = tf.layers.flatten().apply(m.outputs[0]).shape[1];
    await saveHead(dir, new Float32Array(f * 3), new Float32Array(3), f);
    fs.writeFileSync(path.join(dir, 'meta.json'), JSON.stringify({ schema: 'pet-iqa/model@1', backbone: bb, regime: 'frozen', kind: 'fold', weights: { kind: 'random init', seed: 0 }, inputSize: 80, preprocessing: pre, patches: { size: 80, candidates: 1000, keep: 100, seed: 0 }, foldBN: true, flattenSize: f, labelScale: { min: 0, max: 3, outputs: ['GQR', 'PR', 'DC'] }, runs: [{ id: 'x', minValLoss: 0, testMAE: { overall: 0 }, seed: 0 }] }));
    const model = await loadScoringModel(dir);
    const x = new Float32Array(300 * 80 * 80).map((_, i) => (i % 97) / 97);
    model.predict(x, 32);
    const t0 = performance.now();
    model.predict(x, 300);
    console.log(bb, c.backend, '300 patches 80x80:', ((performance.now() - t0) / 1000).toFixed(2), 's');
    model.dispose();
  }
})();
