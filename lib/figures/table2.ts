import { BACKBONES } from '../backbones/registry';
import { missingFigure, type Figure } from './common';
import { inputSizeNote, PAPER_INPUT_SIZE, type TableParameterRow } from './params';
import { tableFigure } from './table';

/** Table II: trainable parameters when only the Dense(3) head trains (Flatten size x 3 + 3). */
export function table2(rows: TableParameterRow[]): Figure {
  const title = 'Table II. Trainable parameters, frozen regime (only Dense(3) trains)';
  const missing = rows.filter((r) => r.trainableFrozen === undefined).map((r) => r.backbone);
  if (rows.length === 0) return missingFigure(title, 'No backbones given', ['(empty parameter table)']);
  const body = rows.map((r) => {
    const paper = (BACKBONES as Record<string, { tableIITrainable: number }>)[r.backbone]?.tableIITrainable;
    const comparable = paper !== undefined && r.trainableFrozen !== undefined && (r.inputSize ?? PAPER_INPUT_SIZE) === PAPER_INPUT_SIZE;
    const match = comparable ? (paper === r.trainableFrozen ? 'yes' : 'NO') : r.inputSize !== undefined && r.inputSize !== PAPER_INPUT_SIZE ? `n/a (${r.inputSize} px)` : '';
    return [r.backbone, r.flattenSize ?? '', r.trainableFrozen ?? '', paper ?? '', match];
  });
  const fig = tableFigure(title, ['Backbone', 'Flatten size', 'Trainable (ours)', 'Trainable (paper)', 'Match'], body, {
    note:
      [inputSizeNote(rows), missing.length ? `Not counted (no runs): ${missing.join(', ')}; \`npm run figures\` (--params auto) counts all 18 from the models.` : '']
        .filter(Boolean)
        .join(' ') || undefined,
  });
  // Blank rows are expected with small presets: a note, not a warning.
  fig.warnings = [];
  return fig;
}
