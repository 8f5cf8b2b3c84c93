import type { Figure } from './common';
import { maePanels } from './mae_panels';
import type { StudyResults } from './results';

/** Fig. 4: training MAE at the kept (minimum validation loss) epoch, per backbone, vs n. */
export function fig4(res: Pick<StudyResults, 'runs' | 'design'>, opts: { backbones?: string[] } = {}): Figure {
  return maePanels(res, 'trainMAE', 'Fig. 4. Training MAE at the minimum-validation-loss epoch (frozen)', opts);
}
