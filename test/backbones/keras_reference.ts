import * as assert from 'assert';
import * as crypto from 'crypto';
import * as tf from '@tensorflow/tfjs';
import type { BackboneArgs } from '../../lib/backbones/common';
import { layerSignature } from '../../lib/backbones/layers';
import { BACKBONES, type BackboneName } from '../../lib/backbones/registry';
import { describeOnBackends } from '../support/backends';

/** Facts of a Keras-built model (include_top=False, 80 x 80 x 3) that a builder must reproduce. */
export interface KerasReference {
  layers: number;
  totalParams: number;
  trainableParams: number;
  /** Output shape with the batch dimension as null. */
  output: [null, number, number, number];
  /** Names of the first layers. */
  first: string[];
  /** Name of the last layer. */
  last: string;
  /** sha256 of the lines '<layer name>\t<weight shapes>' (see layerSignature). */
  signatureSha256: string;
}

function trainableCount(model: tf.LayersModel): number {
  return model.trainableWeights.reduce((s, w) => s + w.shape.reduce((a: number, b) => a * (b as number), 1), 0);
}

/**
 * The shared checks of a builder against Keras's reference values; `extra` adds the model's own
 * tests (it receives a getter for the built model).
 */
export function describeKerasReference(
  name: BackboneName,
  build: (args?: BackboneArgs) => tf.LayersModel,
  ref: KerasReference,
  extra: (model: () => tf.LayersModel) => void = () => undefined,
): void {
  describe(`build${name}`, function () {
    this.timeout(120000);
    let model: tf.LayersModel;
    let input: tf.Tensor4D;
    /** The plain-JavaScript backend's output: the reference for the native and wasm backends. */
    let cpuOutput: Float32Array;
    before(async () => {
      await tf.setBackend('cpu');
      model = build();
      input = tf.randomUniform([1, 80, 80, 3], -1, 1, 'float32', 7) as tf.Tensor4D;
      cpuOutput = tf.tidy(() => model.predict(input) as tf.Tensor).dataSync() as Float32Array;
    });
    after(() => input?.dispose());

    describeOnBackends('the same outputs as the cpu backend', function () {
      it('within 1e-4 of the largest |value|', () => {
        const out = tf.tidy(() => model.predict(input) as tf.Tensor);
        const v = out.dataSync();
        out.dispose();
        let diff = 0;
        let scale = 0;
        for (let i = 0; i < v.length; i++) {
          diff = Math.max(diff, Math.abs(v[i] - cpuOutput[i]));
          scale = Math.max(scale, Math.abs(cpuOutput[i]));
        }
        assert.ok(scale > 0, 'all-zero reference');
        assert.ok(diff / scale < 1e-4, `max |${tf.getBackend()} - cpu| / max |cpu| = ${(diff / scale).toExponential(2)}`);
      });
    });
    after(() => model?.dispose());

    it(`has the tf.keras 2.7 layer list: N = ${ref.layers}, names and weight shapes in Keras order`, () => {
      assert.strictEqual(model.layers.length, ref.layers);
      assert.strictEqual(model.layers.length, BACKBONES[name].layers);
      assert.deepStrictEqual(model.layers.slice(0, ref.first.length).map((l) => l.name), ref.first);
      assert.strictEqual(model.layers[model.layers.length - 1].name, ref.last);
      const sig = crypto.createHash('sha256').update(layerSignature(model).join('\n')).digest('hex');
      assert.strictEqual(sig, ref.signatureSha256);
    });

    it("has Keras's parameter counts", () => {
      assert.strictEqual(model.countParams(), ref.totalParams);
      assert.strictEqual(trainableCount(model), ref.trainableParams);
    });

    const [, h, w, c] = ref.output;
    it(`gives ${h} x ${w} x ${c} at 80 x 80, so Flatten x 3 + 3 is Table II's ${name} count`, () => {
      assert.deepStrictEqual(model.outputs[0].shape, ref.output);
      assert.strictEqual(h * w * c * 3 + 3, BACKBONES[name].tableIITrainable);
    });

    it('predicts finite values', () => {
      const x = tf.randomUniform([1, 80, 80, 3], -1, 1, 'float32', 5);
      const y = model.predict(x) as tf.Tensor;
      assert.deepStrictEqual(y.shape, [1, h, w, c]);
      const v = y.dataSync();
      assert.ok(v.every(Number.isFinite), 'non-finite output');
      assert.ok(v.some((a) => a !== 0), 'all-zero output');
      tf.dispose([x, y]);
    });

    it('rejects inputs smaller than Keras allows', () => {
      assert.throws(() => build({ inputSize: 16 }), /inputSize must be an integer >=/);
    });

    extra(() => model);
  });
}
