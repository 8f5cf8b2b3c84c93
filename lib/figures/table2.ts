import { BACKBONES } from '../backbones/registry';
import { missingFigure, type Figure } from './common';
import type { ParameterRow } from './params';
import { tableFigure } from './table';

/** Table II: trainable parameters when only the Dense(3) head trains (Flatten size x 3 + 3). */
export function table2(rows: ParameterRow[]): Figure {
  const title = 'Table II. Trainable parameters, frozen regime (only Dense(3) trains)';
  const missing = rows.filter((r) => r.trainableFrozen === undefined).map((r) => r.backbone);
  if (rows.length === 0 || missing.length === rows.length) return missingFigure(title, 'No trainable-parameter counts for', missing.length ? missing : ['all backbones'], 'npm run params');
  const body = rows.map((r) => {
    const paper = (BACKBONES as Record<string, { tableIITrainable: number }>)[r.backbone]?.tableIITrainable;
    return [r.backbone, r.flattenSize ?? '', r.trainableFrozen ?? '', paper ?? '', paper !== undefined && r.trainableFrozen !== undefined ? (paper === r.trainableFrozen ? 'yes' : 'NO') : ''];
  });
  const fig = tableFigure(title, ['Backbone', 'Flatten size', 'Trainable (ours)', 'Trainable (paper)', 'Match'], body, {
    note: missing.length ? `No count for: ${missing.join(', ')}` : undefined,
  });
  fig.warnings = missing.length ? [`${title}: no count for ${missing.join(', ')}`] : [];
  return fig;
}
