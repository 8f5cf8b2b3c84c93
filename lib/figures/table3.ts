import { BACKBONES, PAPER_MOBILENET_V3_NOTE } from '../backbones/registry';
import { missingFigure, type Figure } from './common';
import { inputSizeNote, paperMatch, type TableParameterRow } from './params';
import { frozenLayerCount } from '../backbones/freeze'; // the rule lib/transfer re-exports (tfjs-free here)
import { tableFigure } from './table';

/** Table III: trainable parameters when the first 60 % of the base model's layers are frozen. */
export function table3(rows: TableParameterRow[]): Figure {
  const title = 'Table III. Trainable parameters, partial regime (first 60 % of layers frozen)';
  const missing = rows.filter((r) => r.trainablePartial === undefined).map((r) => r.backbone);
  if (rows.length === 0 || missing.length === rows.length) {
    return missingFigure(title, 'No partial-regime parameter counts (no partial runs, no parameterTable()) for', missing.length ? missing : ['all backbones'], 'npm run params, or run the partial regime');
  }
  // Total parameters are only known from lib/backbones' parameterTable(); leave the columns out otherwise.
  const withTotals = rows.some((r) => r.totalParams !== undefined);
  const columns = ['Backbone', 'Layers N', 'Frozen layers', 'Trainable (paper)', 'Trainable (ours)', 'Match', ...(withTotals ? ['Total parameters', 'Trainable share'] : [])];
  const body = rows.map((r) => {
    const paper = (BACKBONES as Record<string, { tableIIITrainable: number }>)[r.backbone]?.tableIIITrainable;
    return [
      r.backbone,
      r.layers ?? '',
      r.frozenLayersPartial ?? (r.layers !== undefined ? frozenLayerCount(r.layers) : ''),
      paper ?? '',
      r.trainablePartial ?? '',
      paperMatch(r, paper, r.trainablePartial),
      ...(withTotals
        ? [r.totalParams ?? '', r.trainablePartial !== undefined && r.totalParams ? `${((100 * r.trainablePartial) / r.totalParams).toFixed(1)} %` : '']
        : []),
    ];
  });
  const fig = tableFigure(title, columns, body, {
    width: withTotals ? 1000 : 840,
    note: [
      inputSizeNote(rows),
      missing.length ? `No count for: ${missing.join(', ')}` : '',
      rows.some((r) => r.backbone.startsWith('MobileNetV3')) ? `* ${PAPER_MOBILENET_V3_NOTE}` : '',
    ]
      .filter(Boolean)
      .join(' ') || undefined,
  });
  fig.warnings = missing.length ? [`${title}: no count for ${missing.join(', ')}`] : [];
  return fig;
}
