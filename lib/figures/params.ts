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
  /** Base layers frozen in the partial regime (round(0.6 N)). */
  frozenLayersPartial?: number;
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
export function tryParameterTable(log: (m: string) => void = () => {}): ParameterRow[] | undefined {
  let mod: { parameterTable?: (names?: readonly string[], args?: { inputSize?: number; seed?: number; onRow?: (r: ParameterRow, i: number, n: number) => void }) => ParameterRow[] };
  try {
    // Loaded lazily: lib/backbones pulls in TensorFlow.js.
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    mod = require('../backbones');
  } catch (err) {
    log(`parameter table: lib/backbones not loadable (${(err as Error).message}); using run records`);
    return undefined;
  }
  if (typeof mod.parameterTable !== 'function') return undefined;
  log('parameter table: building the 18 backbones once to count parameters (cached afterwards) ...');
  try {
    // 80 x 80: the paper's input size, at which Tables II and III are defined.
    return mod.parameterTable(undefined, { inputSize: 80, seed: 0, onRow: (r, i, n) => log(`  ${i + 1}/${n} ${r.backbone}`) });
  } catch (err) {
    log(`parameter table: building the backbones failed (${(err as Error).message}); using run records`);
    return undefined;
  }
}
