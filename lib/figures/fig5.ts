import type { Figure } from './common';
import { maePanels } from './mae_panels';
import type { StudyResults } from './results';

/** Fig. 5: test MAE per backbone vs n, box plots over the folds. */
export function fig5(res: Pick<StudyResults, 'runs' | 'design'>, opts: { backbones?: string[] } = {}): Figure {
  return maePanels(res, 'testMAE', 'Fig. 5. Test MAE (frozen)', opts);
}
