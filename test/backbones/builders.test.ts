/**
 * Part-A builders against tf.keras 2.7 (include_top=False, 80 x 80 x 3): layer count, the first and
 * last layer names, order quirks of Keras's depth-sorted layer list, hyper-parameters and base
 * parameter counts. Expected values were checked by hand against the Keras v2.7.0 source and a
 * Keras build of the same models (Keras 3 calls the input 'input_layer' and DenseNet's stem
 * 'conv1_conv'; tf.keras 2.7 said 'input_1' and 'conv1/conv').
 */
import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend';
import { KerasBatchNormalization } from '../../lib/backbones/batch_norm';
import type { BackboneArgs } from '../../lib/backbones/common';
import { buildDenseNet121, buildDenseNet169, buildDenseNet201 } from '../../lib/backbones/densenet';
import { BACKBONES, type BackboneName } from '../../lib/backbones/registry';
import { buildResNet101, buildResNet152, buildResNet50 } from '../../lib/backbones/resnet';
import { buildResNet101V2, buildResNet152V2, buildResNet50V2 } from '../../lib/backbones/resnet_v2';
import { buildVGG16, buildVGG19 } from '../../lib/backbones/vgg';
import { buildXception } from '../../lib/backbones/xception';

interface Expected {
  build: (args?: BackboneArgs) => tf.LayersModel;
  first: string[];
  last: string[];
  /** Base parameters (Keras count_params). */
  params: number;
  /** Output shape at 80 x 80. */
  out: [number, number, number];
  /** BatchNormalization epsilon; undefined when the net has no BN. */
  epsilon?: number;
}

const RESNET_FIRST = ['input_1', 'conv1_pad', 'conv1_conv', 'conv1_bn', 'conv1_relu', 'pool1_pad', 'pool1_pool', 'conv2_block1_1_conv'];
const RESNET_LAST = ['conv5_block3_2_bn', 'conv5_block3_2_relu', 'conv5_block3_3_conv', 'conv5_block3_3_bn', 'conv5_block3_add', 'conv5_block3_out'];
const RESNETV2_FIRST = ['input_1', 'conv1_pad', 'conv1_conv', 'pool1_pad', 'pool1_pool', 'conv2_block1_preact_bn', 'conv2_block1_preact_relu', 'conv2_block1_1_conv'];
const RESNETV2_LAST = ['conv5_block3_2_bn', 'conv5_block3_2_relu', 'conv5_block3_3_conv', 'conv5_block3_out', 'post_bn', 'post_relu'];
const DENSENET_FIRST = ['input_1', 'zero_padding2d', 'conv1/conv', 'conv1/bn', 'conv1/relu', 'zero_padding2d_1', 'pool1', 'conv2_block1_0_bn'];
const densenetLast = (b: number): string[] => [
  `conv5_block${b}_1_bn`, `conv5_block${b}_1_relu`, `conv5_block${b}_2_conv`, `conv5_block${b}_concat`, 'bn', 'relu',
];
const VGG_FIRST = ['input_1', 'block1_conv1', 'block1_conv2', 'block1_pool', 'block2_conv1', 'block2_conv2', 'block2_pool', 'block3_conv1'];

const EXPECTED: Partial<Record<BackboneName, Expected>> = {
  DenseNet121: { build: buildDenseNet121, first: DENSENET_FIRST, last: densenetLast(16), params: 7037504, out: [2, 2, 1024], epsilon: 1.001e-5 },
  DenseNet169: { build: buildDenseNet169, first: DENSENET_FIRST, last: densenetLast(32), params: 12642880, out: [2, 2, 1664], epsilon: 1.001e-5 },
  DenseNet201: { build: buildDenseNet201, first: DENSENET_FIRST, last: densenetLast(32), params: 18321984, out: [2, 2, 1920], epsilon: 1.001e-5 },
  ResNet50: { build: buildResNet50, first: RESNET_FIRST, last: RESNET_LAST, params: 23587712, out: [3, 3, 2048], epsilon: 1.001e-5 },
  ResNet101: { build: buildResNet101, first: RESNET_FIRST, last: RESNET_LAST, params: 42658176, out: [3, 3, 2048], epsilon: 1.001e-5 },
  ResNet152: { build: buildResNet152, first: RESNET_FIRST, last: RESNET_LAST, params: 58370944, out: [3, 3, 2048], epsilon: 1.001e-5 },
  ResNet50V2: { build: buildResNet50V2, first: RESNETV2_FIRST, last: RESNETV2_LAST, params: 23564800, out: [3, 3, 2048], epsilon: 1.001e-5 },
  ResNet101V2: { build: buildResNet101V2, first: RESNETV2_FIRST, last: RESNETV2_LAST, params: 42626560, out: [3, 3, 2048], epsilon: 1.001e-5 },
  ResNet152V2: { build: buildResNet152V2, first: RESNETV2_FIRST, last: RESNETV2_LAST, params: 58331648, out: [3, 3, 2048], epsilon: 1.001e-5 },
  VGG16: {
    build: buildVGG16,
    first: VGG_FIRST,
    last: ['block4_conv3', 'block4_pool', 'block5_conv1', 'block5_conv2', 'block5_conv3', 'block5_pool'],
    params: 14714688,
    out: [2, 2, 512],
  },
  VGG19: {
    build: buildVGG19,
    first: VGG_FIRST,
    last: ['block4_pool', 'block5_conv1', 'block5_conv2', 'block5_conv3', 'block5_conv4', 'block5_pool'],
    params: 20024384,
    out: [2, 2, 512],
  },
  Xception: {
    build: buildXception,
    first: ['input_1', 'block1_conv1', 'block1_conv1_bn', 'block1_conv1_act', 'block1_conv2', 'block1_conv2_bn', 'block1_conv2_act', 'block2_sepconv1'],
    last: ['block14_sepconv1', 'block14_sepconv1_bn', 'block14_sepconv1_act', 'block14_sepconv2', 'block14_sepconv2_bn', 'block14_sepconv2_act'],
    params: 20861480,
    out: [3, 3, 2048],
    epsilon: 1e-3,
  },
};

function names(m: tf.LayersModel): string[] {
  return m.layers.map((l) => l.name);
}

function config(m: tf.LayersModel, layer: string): Record<string, unknown> {
  return m.getLayer(layer).getConfig() as Record<string, unknown>;
}

describe('backbones part A: builders match tf.keras 2.7', function () {
  this.timeout(300000);
  before(async () => {
    await initBackend({ backend: 'wasm' });
  });

  for (const [name, exp] of Object.entries(EXPECTED) as Array<[BackboneName, Expected]>) {
    describe(name, () => {
      let model: tf.LayersModel;
      before(() => {
        model = exp.build();
      });
      after(() => model?.dispose());

      it(`has N = ${BACKBONES[name].layers} layers, Keras's first and last names`, () => {
        assert.strictEqual(model.layers.length, BACKBONES[name].layers);
        const n = names(model);
        assert.deepStrictEqual(n.slice(0, exp.first.length), exp.first);
        assert.deepStrictEqual(n.slice(-exp.last.length), exp.last);
        assert.strictEqual(new Set(n).size, n.length, 'layer names are unique');
        assert.strictEqual(model.layers[0].getClassName(), 'InputLayer');
      });

      it(`outputs ${exp.out.join(' x ')} at 80 x 80 and has ${exp.params} parameters`, () => {
        assert.deepStrictEqual(model.outputs[0].shape, [null, ...exp.out]);
        assert.strictEqual(model.countParams(), exp.params);
      });

      it('uses Keras-semantics BatchNormalization with the Keras epsilon and momentum', () => {
        const bns = model.layers.filter((l) => l.getClassName() === 'BatchNormalization');
        if (exp.epsilon === undefined) {
          assert.strictEqual(bns.length, 0);
          return;
        }
        assert.ok(bns.length > 0);
        for (const bn of bns) {
          assert.ok(bn instanceof KerasBatchNormalization, `${bn.name} is a KerasBatchNormalization`);
          const c = bn.getConfig() as { epsilon: number; momentum: number; scale: boolean; center: boolean };
          assert.strictEqual(c.epsilon, exp.epsilon, `${bn.name} epsilon`);
          assert.strictEqual(c.momentum, 0.99, `${bn.name} momentum`);
          assert.ok(c.scale && c.center, `${bn.name} has gamma and beta`);
        }
      });
    });
  }

  describe('layer-order and hyper-parameter details', () => {
    it('ResNet50: the shortcut conv follows the main path in the depth-sorted list; stem hyper-parameters', () => {
      const m = buildResNet50();
      try {
        assert.deepStrictEqual(names(m).slice(7, 19), [
          'conv2_block1_1_conv', 'conv2_block1_1_bn', 'conv2_block1_1_relu',
          'conv2_block1_2_conv', 'conv2_block1_2_bn', 'conv2_block1_2_relu',
          'conv2_block1_0_conv', 'conv2_block1_3_conv', 'conv2_block1_0_bn', 'conv2_block1_3_bn',
          'conv2_block1_add', 'conv2_block1_out',
        ]);
        assert.deepStrictEqual(config(m, 'conv1_pad').padding, [[3, 3], [3, 3]]);
        assert.deepStrictEqual(config(m, 'pool1_pad').padding, [[1, 1], [1, 1]]);
        const c1 = config(m, 'conv1_conv');
        assert.deepStrictEqual([c1.kernelSize, c1.strides, c1.padding, c1.useBias], [[7, 7], [2, 2], 'valid', true]);
        const p = config(m, 'pool1_pool');
        assert.deepStrictEqual([p.poolSize, p.strides, p.padding], [[3, 3], [2, 2], 'valid']);
        // Downsampling in v1 sits in the first 1x1 conv of a stage.
        assert.deepStrictEqual(config(m, 'conv3_block1_1_conv').strides, [2, 2]);
        assert.deepStrictEqual(config(m, 'conv3_block1_0_conv').strides, [2, 2]);
        assert.strictEqual(config(m, 'conv3_block1_2_conv').padding, 'same');
      } finally {
        m.dispose();
      }
    });

    it('ResNet50V2: unnamed stride-2 max-pool shortcuts, bias-free inner convs, stride in the last block', () => {
      const m = buildResNet50V2();
      try {
        const n = names(m);
        assert.deepStrictEqual(
          ['max_pooling2d', 'max_pooling2d_1', 'max_pooling2d_2'].map((x) => n.indexOf(x)),
          [37, 83, 151],
        );
        assert.deepStrictEqual(n.slice(5, 17), [
          'conv2_block1_preact_bn', 'conv2_block1_preact_relu', 'conv2_block1_1_conv', 'conv2_block1_1_bn',
          'conv2_block1_1_relu', 'conv2_block1_2_pad', 'conv2_block1_2_conv', 'conv2_block1_2_bn',
          'conv2_block1_2_relu', 'conv2_block1_0_conv', 'conv2_block1_3_conv', 'conv2_block1_out',
        ]);
        assert.strictEqual(config(m, 'conv2_block3_1_conv').useBias, false);
        assert.strictEqual(config(m, 'conv2_block3_2_conv').useBias, false);
        assert.strictEqual(config(m, 'conv2_block3_3_conv').useBias, true);
        assert.deepStrictEqual(config(m, 'conv2_block3_2_conv').strides, [2, 2]);
        assert.strictEqual(config(m, 'conv2_block3_2_conv').padding, 'valid');
        assert.deepStrictEqual(config(m, 'conv5_block3_2_conv').strides, [1, 1]);
        assert.ok(!n.includes('conv1_bn'), 'pre-activation nets have no stem BN');
      } finally {
        m.dispose();
      }
    });

    it('DenseNet121: bias-free convs, transition halves the channels, pool2 at 49-52', () => {
      const m = buildDenseNet121();
      try {
        const n = names(m);
        assert.deepStrictEqual(n.slice(49, 53), ['pool2_bn', 'pool2_relu', 'pool2_conv', 'pool2_pool']);
        assert.deepStrictEqual(n.slice(7, 14), [
          'conv2_block1_0_bn', 'conv2_block1_0_relu', 'conv2_block1_1_conv', 'conv2_block1_1_bn',
          'conv2_block1_1_relu', 'conv2_block1_2_conv', 'conv2_block1_concat',
        ]);
        for (const l of m.layers.filter((x) => x.getClassName() === 'Conv2D')) {
          assert.strictEqual((l.getConfig() as { useBias: boolean }).useBias, false, l.name);
        }
        // 64 + 6 x 32 = 256 channels into pool2, 128 out.
        assert.strictEqual(config(m, 'pool2_conv').filters, 128);
        assert.deepStrictEqual(m.getLayer('conv2_block6_concat').outputShape, [null, 20, 20, 256]);
      } finally {
        m.dispose();
      }
    });

    it('Xception: automatic names of the residual branches in Keras order; separable convs without bias', () => {
      const m = buildXception();
      try {
        const n = names(m);
        const auto = n.map((x, i) => [i, x] as const).filter(([, x]) => /^(conv2d|batch_normalization|add)/.test(x));
        assert.deepStrictEqual(auto, [
          [12, 'conv2d'], [14, 'batch_normalization'], [15, 'add'], [22, 'conv2d_1'], [24, 'batch_normalization_1'],
          [25, 'add_1'], [32, 'conv2d_2'], [34, 'batch_normalization_2'], [35, 'add_2'], [45, 'add_3'], [55, 'add_4'],
          [65, 'add_5'], [75, 'add_6'], [85, 'add_7'], [95, 'add_8'], [105, 'add_9'], [115, 'add_10'],
          [122, 'conv2d_3'], [124, 'batch_normalization_3'], [125, 'add_11'],
        ]);
        const r = config(m, 'conv2d');
        assert.deepStrictEqual([r.kernelSize, r.strides, r.padding, r.useBias], [[1, 1], [2, 2], 'same', false]);
        assert.strictEqual(config(m, 'block1_conv1').padding, 'valid');
        const s = config(m, 'block5_sepconv1');
        assert.deepStrictEqual([s.padding, s.useBias], ['same', false]);
        // Depth multiplier 1: depthwise (3, 3, 728, 1), pointwise (1, 1, 728, 728), no bias.
        assert.deepStrictEqual(m.getLayer('block5_sepconv1').getWeights().map((w) => w.shape), [[3, 3, 728, 1], [1, 1, 728, 728]]);
        assert.strictEqual(config(m, 'block13_pool').padding, 'same');
      } finally {
        m.dispose();
      }
    });

    it('VGG16: 3x3 same ReLU convs with bias, 2x2 pools', () => {
      const m = buildVGG16();
      try {
        const c = config(m, 'block5_conv3');
        assert.deepStrictEqual([c.kernelSize, c.padding, c.activation, c.useBias, c.filters], [[3, 3], 'same', 'relu', true, 512]);
        const p = config(m, 'block1_pool');
        assert.deepStrictEqual([p.poolSize, p.strides], [[2, 2], [2, 2]]);
      } finally {
        m.dispose();
      }
    });
  });

  describe('arguments', () => {
    it('the seed makes random init reproducible, and a different seed changes it', () => {
      const kernel = (seed: number): Float32Array => {
        const m = buildVGG16({ seed, inputSize: 32 });
        const k = m.getLayer('block1_conv1').getWeights()[0].dataSync() as Float32Array;
        const copy = k.slice();
        m.dispose();
        return copy;
      };
      const a = kernel(7);
      assert.deepStrictEqual(kernel(7), a);
      assert.notDeepStrictEqual(kernel(8), a);
      // glorot_uniform: |w| <= sqrt(6 / (fan_in + fan_out)) = sqrt(6 / (27 + 576)).
      const limit = Math.sqrt(6 / (3 * 3 * 3 + 3 * 3 * 64));
      assert.ok(a.every((v) => Math.abs(v) <= limit) && a.some((v) => Math.abs(v) > limit / 2));
    });

    it('other input sizes give Keras shapes; too small an input is refused by name', () => {
      const m = buildResNet50({ inputSize: 64 });
      assert.deepStrictEqual(m.outputs[0].shape, [null, 2, 2, 2048]);
      m.dispose();
      assert.throws(() => buildXception({ inputSize: 64 }), /xception: inputSize must be an integer >= 71/);
      assert.throws(() => buildDenseNet121({ inputSize: 31.5 }), /densenet121: inputSize/);
    });
  });
});
