import { BACKBONES, BACKBONE_NAMES } from '../backbones/registry';
import type { RunRecord } from '../types';

/** One row of lib/backbones' `parameterTable()` (planned interface), the input of Tables II and III. */
export interface ParameterRow {
  backbone: string;
  layers?: number;
  totalParams?: number;
  flattenSize?: number;
  trainableFrozen?: number;
  trainablePartial?: number;
}

/**
 * Parameter rows from what is at hand without building models: run records (trainableParams of
 * each regime) completed by the registry (layer counts, the paper's Table II). Fields nobody
 * knows stay undefined and the tables show them as blank.
 */
export function parameterRowsFromRuns(runs: RunRecord[], backbones: readonly string[] = BACKBONE_NAMES): ParameterRow[] {
  return backbones.map((b) => {
    const spec = (BACKBONES as Record<string, { layers: number; tableIITrainable: number }>)[b];
    const frozen = runs.find((r) => r.backbone === b && r.regime === 'frozen')?.trainableParams;
    const partial = runs.find((r) => r.backbone === b && r.regime === 'partial')?.trainableParams;
    const trainableFrozen = frozen ?? spec?.tableIITrainable;
    return {
      backbone: b,
      layers: spec && spec.layers > 0 ? spec.layers : undefined,
      flattenSize: trainableFrozen !== undefined ? (trainableFrozen - 3) / 3 : undefined,
      trainableFrozen,
      trainablePartial: partial,
    };
  });
}

/**
 * `parameterTable()` of lib/backbones when that module provides it (it builds all 18 models, so
 * callers cache the result), else undefined.
 */
export function tryParameterTable(): ParameterRow[] | undefined {
  try {
    // Loaded lazily: lib/backbones pulls in TensorFlow.js and is written by another stage.
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const mod = require('../backbones') as { parameterTable?: () => ParameterRow[] };
    return typeof mod.parameterTable === 'function' ? mod.parameterTable() : undefined;
  } catch {
    return undefined;
  }
}
