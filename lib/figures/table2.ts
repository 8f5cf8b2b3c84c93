import { BACKBONES, PAPER_MOBILENET_V3_NOTE } from '../backbones/registry';
import { missingFigure, type Figure } from './common';
import { inputSizeNote, paperMatch, type TableParameterRow } from './params';
import { tableFigure } from './table';

/** Table II: trainable parameters when only the Dense(3) head trains (Flatten size x 3 + 3). */
export function table2(rows: TableParameterRow[]): Figure {
  const title = 'Table II. Trainable parameters, frozen regime (only Dense(3) trains)';
  const missing = rows.filter((r) => r.trainableFrozen === undefined).map((r) => r.backbone);
  if (rows.length === 0) return missingFigure(title, 'No backbones given', ['(empty parameter table)']);
  const body = rows.map((r) => {
    const paper = (BACKBONES as Record<string, { tableIITrainable: number }>)[r.backbone]?.tableIITrainable;
    return [r.backbone, r.flattenSize ?? '', paper ?? '', r.trainableFrozen ?? '', paperMatch(r, paper, r.trainableFrozen)];
  });
  const fig = tableFigure(title, ['Backbone', 'Flatten size', 'Trainable (paper)', 'Trainable (ours)', 'Match'], body, {
    note: [
      inputSizeNote(rows),
      missing.length ? `Not counted (no runs): ${missing.join(', ')}; \`npm run figures\` (--params auto) counts all 18 from the models.` : '',
      rows.some((r) => r.backbone.startsWith('MobileNetV3')) ? PAPER_MOBILENET_V3_NOTE : '',
    ]
      .filter(Boolean)
      .join(' ') || undefined,
  });
  // Blank rows are expected with small presets: a note, not a warning.
  fig.warnings = [];
  return fig;
}
