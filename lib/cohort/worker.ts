/**
 * Worker-thread entry: simulates the patients the main thread sends, one at a time.
 * Started by generateCohort with `execArgv: ['--require', 'tsx/cjs']` so it runs as TypeScript.
 */
import { parentPort, workerData } from 'worker_threads';
import type { TemplateSet } from '../phantom';
import type { SyntheticPatient } from './patients';
import type { CohortPreset } from './presets';
import { makeProjector, simulatePatient } from './simulate';

export interface CohortWorkerData {
  template: TemplateSet;
  preset: CohortPreset;
  seed: number;
  outDir: string;
  levels: number[];
}
export type CohortWorkerRequest = { type: 'patient'; patient: SyntheticPatient } | { type: 'exit' };
export type CohortWorkerReply =
  | { type: 'slice'; id: string; done: number; total: number }
  | { type: 'done'; id: string; result: ReturnType<typeof simulatePatient> }
  | { type: 'error'; id: string; message: string; stack?: string };

if (parentPort) {
  const port = parentPort;
  const data = workerData as CohortWorkerData;
  const projector = makeProjector(data.preset);
  port.on('message', (msg: CohortWorkerRequest) => {
    if (msg.type === 'exit') {
      port.close();
      return;
    }
    const id = msg.patient.meta.id;
    try {
      const result = simulatePatient({
        template: data.template,
        preset: data.preset,
        patient: msg.patient,
        seed: data.seed,
        outDir: data.outDir,
        levels: data.levels,
        projector,
        onSlice: (done, total) => port.postMessage({ type: 'slice', id, done, total } satisfies CohortWorkerReply),
      });
      port.postMessage({ type: 'done', id, result } satisfies CohortWorkerReply);
    } catch (err) {
      const e = err as Error;
      port.postMessage({ type: 'error', id, message: e.message, stack: e.stack } satisfies CohortWorkerReply);
    }
  });
}
