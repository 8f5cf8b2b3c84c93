/**
 * Worker-thread entry: simulates the patients the main thread sends, one at a time.
 * Started by generateCohort through lib/util/workers (TaskPool), which loads it with tsx.
 */
import type { TemplateSet } from '../phantom';
import type { SyntheticPatient } from './patients';
import type { CohortPreset } from './presets';
import { makeProjector, simulatePatient } from './simulate';
import { serveTasks } from '../util/workers';

export interface CohortWorkerData {
  template: TemplateSet;
  preset: CohortPreset;
  seed: number;
  outDir: string;
  levels: number[];
}
/** Progress of one patient: reconstructed slices so far. */
export interface CohortWorkerProgress {
  done: number;
  total: number;
}

serveTasks<SyntheticPatient, ReturnType<typeof simulatePatient>, CohortWorkerProgress>(__filename, (raw) => {
  const data = raw as CohortWorkerData;
  const projector = makeProjector(data.preset);
  return {
    handle: (patient, progress) =>
      simulatePatient({
        template: data.template,
        preset: data.preset,
        patient,
        seed: data.seed,
        outDir: data.outDir,
        levels: data.levels,
        projector,
        onSlice: (done, total) => progress({ done, total }),
      }),
  };
});
