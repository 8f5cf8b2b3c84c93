/**
 * The parameter table of the paper (Tables II and III): per backbone, layers N, total parameters of
 * the transfer model, Flatten size and the trainable parameters of both regimes.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackboneArgs } from './common';
import { BACKBONE_NAMES, getBackboneSpec, type BackboneName } from './registry';
import { applyRegime, buildTransferModel } from './transfer';

/** One row of the parameter table. */
export interface ParameterRow {
  backbone: BackboneName;
  /** N = len(base.layers), InputLayer included. */
  layers: number;
  /** Base + Flatten + Dense(3). */
  totalParams: number;
  /** Features entering the Dense layer. */
  flattenSize: number;
  /** Frozen regime: only the Dense layer trains (Flatten size x 3 + 3; the paper's Table II). */
  trainableFrozen: number;
  /** Partial regime: the first round(0.6 N) base layers frozen (the paper's Table III / Fig. 8 line). */
  trainablePartial: number;
  /** Base layers frozen in the partial regime. */
  frozenLayersPartial: number;
  /** The paper's Table II value, for comparison. */
  tableIITrainable: number;
}

/** Options of {@link parameterTable}. */
export interface ParameterTableArgs extends BackboneArgs {
  /** Called after each backbone (for progress bars). */
  onRow?: (row: ParameterRow, index: number, count: number) => void;
}

/**
 * Builds each backbone (random init, then disposed) and counts its parameters in both regimes.
 * `builder` maps a name to its base model; index.ts passes `buildBackbone`.
 */
export function parameterTableWith(
  builder: (name: BackboneName, args?: BackboneArgs) => tf.LayersModel,
  names: readonly string[] = BACKBONE_NAMES,
  args: ParameterTableArgs = {},
): ParameterRow[] {
  const specs = names.map((n) => getBackboneSpec(n));
  const rows: ParameterRow[] = [];
  specs.forEach((spec, i) => {
    const base = builder(spec.name, { inputSize: args.inputSize, seed: args.seed });
    let model: tf.LayersModel | undefined;
    try {
      model = buildTransferModel(base);
      const frozen = applyRegime(model, 'frozen', base);
      const partial = applyRegime(model, 'partial', base);
      const flattenSize = (model.getLayer('flatten').outputShape as number[])[1];
      const row: ParameterRow = {
        backbone: spec.name,
        layers: base.layers.length,
        totalParams: frozen.params.total,
        flattenSize,
        trainableFrozen: frozen.params.trainable,
        trainablePartial: partial.params.trainable,
        frozenLayersPartial: partial.frozenLayers,
        tableIITrainable: spec.tableIITrainable,
      };
      rows.push(row);
      args.onRow?.(row, i, specs.length);
    } finally {
      disposeTransferModel(model, base);
    }
  });
  return rows;
}

/** Frees a transfer model and its base (they share the base's layers, so both must be released). */
export function disposeTransferModel(model: tf.LayersModel | undefined, base: tf.LayersModel): void {
  if (model) model.dispose();
  try {
    base.dispose();
  } catch {
    /* already released through the transfer model */
  }
}
