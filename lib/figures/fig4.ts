import type { Figure } from './common';
import { maePanels } from './mae_panels';
import type { StudyResults } from './results';
import type { ErrorUnit } from './reference';

/** Fig. 4: training MAE at the kept (minimum validation loss) epoch, per backbone, vs n. */
export function fig4(res: Pick<StudyResults, 'runs' | 'design' | 'baselines'>, opts: { backbones?: string[]; unit?: ErrorUnit } = {}): Figure {
  return maePanels(res, 'train', `Fig. 4. Training MAE${opts.unit === 'volume' ? ' per volume' : ''} at the minimum-validation-loss epoch (frozen)`, opts);
}
