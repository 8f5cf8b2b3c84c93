/**
 * The weight layout a backbone's Keras file must have (layers with weights, in Keras's positional
 * order, with their weight shapes), and the structural check of a file against it. Used where
 * Keras publishes no md5 (MobileNet, MobileNetV2) before a download enters the cache.
 */
import * as tf from '@tensorflow/tfjs';
import { buildBackbone } from '../backbones';
import type { BackboneArgs } from '../backbones/common';
import type { BackboneName } from '../backbones/registry';
import { readKerasH5 } from './h5';

/** One layer with weights: its name and the shapes of its weights, in order. */
export interface ExpectedLayer {
  name: string;
  shapes: number[][];
}

/** Builder of a bare backbone (default lib/backbones' buildBackbone; tests pass doubles). */
export type BackboneBuilder = (name: BackboneName, args: BackboneArgs) => tf.LayersModel;

/**
 * The layers with weights of a backbone as tf.keras 2.7 builds it (include_top=False; the shapes
 * do not depend on the input size), in the order Keras loads them.
 */
export function expectedWeightsLayout(name: BackboneName, build: BackboneBuilder = buildBackbone): ExpectedLayer[] {
  const model = build(name, { inputSize: 80, seed: 0 });
  try {
    return model.layers.filter((l) => l.weights.length > 0).map((l) => ({ name: l.name, shapes: l.weights.map((w) => w.shape.map((d) => d as number)) }));
  } finally {
    model.dispose();
  }
}

const fmt = (s: number[]): string => `[${s.join(', ')}]`;

/**
 * Checks that `file` is a readable Keras HDF5 weights file with exactly `name`'s layers with weights
 * (names and weight shapes, by position). Throws one error naming the file and the first difference.
 */
export async function checkWeightsLayout(name: BackboneName, file: string, opts: { build?: BackboneBuilder; label?: string } = {}): Promise<void> {
  const label = opts.label ?? file;
  const expected = expectedWeightsLayout(name, opts.build);
  const found = (await readKerasH5(file, { onlyShapes: true })).layers;
  const n = Math.min(expected.length, found.length);
  for (let i = 0; i < n; i++) {
    const e = expected[i];
    const f = found[i];
    if (e.name !== f.name) {
      throw new Error(`${label} is not ${name}'s weights file: layer with weights #${i} is '${f.name}', ${name} has '${e.name}' (${found.length} layers with weights, ${name} has ${expected.length})`);
    }
    const shapes = f.weights.map((w) => w.shape);
    if (shapes.length !== e.shapes.length || shapes.some((s, j) => fmt(s) !== fmt(e.shapes[j]))) {
      throw new Error(`${label} is not ${name}'s weights file: layer '${f.name}' has weights ${shapes.map(fmt).join(' ')}, ${name} expects ${e.shapes.map(fmt).join(' ')}`);
    }
  }
  if (found.length !== expected.length) {
    throw new Error(`${label} is not ${name}'s weights file: it has ${found.length} layers with weights, ${name} has ${expected.length}`);
  }
}
