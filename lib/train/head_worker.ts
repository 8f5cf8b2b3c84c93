/**
 * trainHead in a worker thread, reporting every epoch as it happens: the calling thread stays free,
 * so a notebook can redraw a loss curve while the head trains (same seeds, order and result as
 * trainHead in the calling thread).
 */
import { mapInWorkers, serveTasks } from '../util/workers';
import { trainHead, type DenseWeights, type EpochLog, type HeadTrainArgs, type TrainResult } from './head';

type HeadTask = Omit<HeadTrainArgs, 'onEpoch'>;

serveTasks<HeadTask, TrainResult<DenseWeights>, EpochLog>(__filename, () => ({
  // A block body: progress() returns postMessage's value (true), which trainHead would take as "stop".
  handle: (task, progress) =>
    trainHead({
      ...task,
      onEpoch: (log) => {
        progress(log);
      },
    }),
}));

/** Trains a Dense(3) head like trainHead, in a worker thread; `onEpoch` is called in this thread after every epoch. */
export async function trainHeadInWorker(args: HeadTrainArgs): Promise<TrainResult<DenseWeights>> {
  const { onEpoch, ...task } = args;
  const [result] = await mapInWorkers<HeadTask, TrainResult<DenseWeights>, EpochLog>(__filename, [task], {
    workers: 1,
    onProgress: (log) => void onEpoch?.(log),
  });
  return result;
}
