/**
 * Study worker thread: initialises its own backend, then runs the jobs the pool sends.
 * Served through lib/util/workers (TaskPool), which loads it with tsx.
 */
import { initBackend } from '../backend';
import { serveTasks } from '../util/workers';
import type { StudyContext } from './jobs';
import { resultTransfer, runStudyTask, type StudyTask } from './pool';

serveTasks<StudyTask, unknown, number, { backend: string }>(__filename, async (raw) => {
  const ctx = raw as StudyContext;
  const choice = await initBackend(ctx.backend ? { backend: ctx.backend } : {});
  return {
    info: { backend: choice.backend },
    handle: (task, progress) => runStudyTask(ctx, task, progress),
    transfer: resultTransfer,
  };
});
