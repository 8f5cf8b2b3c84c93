/**
 * The partial regime's freeze rule shown layer by layer: which of a base model's layers stay frozen
 * and which train, with their parameters (tfjs-free: it reads only what a Keras-like model exposes).
 */
import { frozenLayerCount, PAPER_FROZEN_FRACTION } from './freeze';

/** The part of a tfjs LayersModel the table reads. */
export interface LayerListModel {
  layers: ReadonlyArray<{ name: string; getClassName(): string; countParams(): number }>;
}

export interface FreezeRow {
  /** Position in Keras' layer list (0 = the InputLayer); not `index`, which danfojs takes for its row index. */
  position: number;
  name: string;
  type: string;
  params: number;
  state: 'frozen' | 'trainable';
}

/** One row per base layer; the first frozenLayerCount(N, fraction) are frozen (the same rule training and Table III use). */
export function freezeTable(base: LayerListModel, fraction: number = PAPER_FROZEN_FRACTION): FreezeRow[] {
  const k = frozenLayerCount(base.layers.length, fraction);
  return base.layers.map((l, position) => ({ position, name: l.name, type: l.getClassName(), params: l.countParams(), state: position < k ? 'frozen' : 'trainable' }));
}
