import { parameterTable } from '../backbones';
import { BACKBONES, BACKBONE_NAMES } from '../backbones/registry';
import type { RunRecord } from '../types';

/** Input size (pixels) at which the paper's Tables II and III are defined. */
export const PAPER_INPUT_SIZE = 80;

/** One row of lib/backbones' `parameterTable()` (planned interface), the input of Tables II and III. */
export interface TableParameterRow {
  backbone: string;
  layers?: number;
  totalParams?: number;
  flattenSize?: number;
  trainableFrozen?: number;
  trainablePartial?: number;
  /** Base layers frozen in the partial regime (round(0.6 N)). */
  frozenLayersPartial?: number;
  /** Input size the counts hold for (the paper's tables: 80); counts depend on it through the Flatten size. */
  inputSize?: number;
}

/** The input size a run was trained at, from its recorded config (undefined when not recorded). */
function runInputSize(r: RunRecord): number | undefined {
  const s = (r.provenance?.config as { inputSize?: unknown } | undefined)?.inputSize;
  return typeof s === 'number' ? s : undefined;
}

/** A table note when some counts are not at the paper's 80 x 80 input (e.g. 32 x 32 smoke runs). */
export function inputSizeNote(rows: TableParameterRow[]): string | undefined {
  const other = [...new Set(rows.map((r) => r.inputSize).filter((s): s is number => s !== undefined && s !== PAPER_INPUT_SIZE))];
  if (other.length === 0) return undefined;
  return `Counts from runs at ${other.map((s) => `${s} x ${s}`).join(', ')} input (the paper's are at 80 x 80; the Flatten size depends on it).`;
}

/**
 * The Match cell of Tables II and III: 'yes' / 'NO' against the paper, 'n/a (32 px)' for counts at
 * another input size, 'no*' for MobileNetV3 (the paper's own inconsistency, footnoted), blank when
 * either value is unknown.
 */
export function paperMatch(row: TableParameterRow, paper: number | undefined, ours: number | undefined): string {
  if (paper === undefined || ours === undefined) return '';
  if (row.inputSize !== undefined && row.inputSize !== PAPER_INPUT_SIZE) return `n/a (${row.inputSize} px)`;
  if (paper === ours) return 'yes';
  return row.backbone.startsWith('MobileNetV3') ? 'no*' : 'NO';
}

/**
 * Parameter rows from what is at hand without building models: run records (trainableParams of
 * each regime) completed by the registry (layer counts, the paper's Table II). Fields nobody
 * knows stay undefined and the tables show them as blank.
 */
export function parameterRowsFromRuns(runs: RunRecord[], backbones: readonly string[] = BACKBONE_NAMES): TableParameterRow[] {
  return backbones.map((b) => {
    const spec = (BACKBONES as Record<string, { layers: number; tableIITrainable: number }>)[b];
    const frozenRun = runs.find((r) => r.backbone === b && r.regime === 'frozen');
    const partialRun = runs.find((r) => r.backbone === b && r.regime === 'partial');
    // No fallback to the registry here: Table II would then compare the paper with itself.
    const trainableFrozen = frozenRun?.trainableParams;
    const anyRun = frozenRun ?? partialRun;
    return {
      backbone: b,
      // Registry values (Table II) are at 80 x 80; run counts at the size the runs used.
      inputSize: anyRun ? runInputSize(anyRun) : undefined,
      layers: spec && spec.layers > 0 ? spec.layers : undefined,
      flattenSize: trainableFrozen !== undefined ? (trainableFrozen - 3) / 3 : undefined,
      trainableFrozen,
      trainablePartial: partialRun?.trainableParams,
    };
  });
}

/**
 * `parameterTable()` of lib/backbones (it builds all 18 models, so callers cache the result), or
 * undefined when lib/backbones cannot be loaded or the build fails.
 */
export function tryParameterTable(log: (m: string) => void = () => {}): TableParameterRow[] | undefined {
  log('parameter table: building the 18 backbones once to count parameters (cached afterwards) ...');
  try {
    // 80 x 80: the paper's input size, at which Tables II and III are defined.
    const rows = parameterTable(undefined, { inputSize: 80, seed: 0, onRow: (r, i, n) => log(`  ${i + 1}/${n} ${r.backbone}`) });
    return rows.map((r) => ({ ...r, inputSize: 80 }));
  } catch (err) {
    log(`parameter table: building the backbones failed (${(err as Error).message}); using run records`);
    return undefined;
  }
}
