import type { Figure } from './common';
import { maePanels } from './mae_panels';
import type { StudyResults } from './results';
import type { ErrorUnit } from './reference';

/** Fig. 5: test MAE per backbone vs n, box plots over the folds. */
export function fig5(res: Pick<StudyResults, 'runs' | 'design' | 'baselines'>, opts: { backbones?: string[]; unit?: ErrorUnit } = {}): Figure {
  return maePanels(res, 'test', `Fig. 5. Test MAE${opts.unit === 'volume' ? ' per volume' : ''} (frozen)`, opts);
}
